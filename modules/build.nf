process BUILD {
    label 'core'
    label 'small'
    tag "${meta.id}"

    input:
    tuple val(meta), val(settings)

    output:
    tuple val(meta), path("${meta.charge}.extxyz")

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} build --params settings.json --n-ions ${meta.n_ion} --seed ${meta.build_seed} -o .
    """

    stub:
    """
    touch ${meta.charge}.extxyz
    """
}
