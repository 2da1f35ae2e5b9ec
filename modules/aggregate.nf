process AGGREGATE {
    label 'core'
    label 'small'

    input:
    path runs, stageAs: 'runs/*/*'

    output:
    path 'results.nc'

    script:
    """
    edlbench aggregate runs/*/*.nc -o results.nc
    """

    stub:
    """
    touch results.nc
    """
}
