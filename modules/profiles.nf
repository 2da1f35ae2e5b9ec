process PROFILES {
    label 'core'
    label 'small'
    tag "${meta.id}"

    input:
    tuple val(meta), path(trajectory), val(settings)

    output:
    path "profiles-${meta.id}.nc"

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} profiles ${trajectory} --params settings.json --model ${meta.backend} --train-set ${meta.train_set} --seed ${meta.seed} --replica ${meta.replica} -o profiles-${meta.id}.nc
    """

    stub:
    """
    touch profiles-${meta.id}.nc
    """
}
