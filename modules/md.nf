process MD {
    label 'ml'
    label 'md'
    tag "${meta.id}"

    input:
    tuple val(meta), path(model), path(start), val(settings)

    output:
    tuple val(meta), path("${meta.id}/trajectory.nc"), emit: trajectory
    path "${meta.id}/thermo.log", emit: log

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench md ${start} --params settings.json --backend ${meta.backend} --model ${model} --train-set ${meta.train_set} --seed ${meta.seed} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id} && touch ${meta.id}/trajectory.nc ${meta.id}/thermo.log
    """
}
