process AGGREGATE {
    label 'core'
    label 'small'

    input:
    path runs, stageAs: 'runs/*/*'
    path plan

    output:
    path 'results.nc'

    script:
    """
    edlbench --threads ${task.cpus} aggregate runs/*/*.nc --plan ${plan} -o results.nc
    """

    stub:
    """
    touch results.nc
    """
}
