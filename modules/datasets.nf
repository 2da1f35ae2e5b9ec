process DATASETS {
    label 'core'
    label 'small'

    input:
    path params_yaml
    path trajectories, stageAs: 'trajectories/*/*'

    output:
    path 'datasets', emit: datasets

    script:
    """
    edlbench dataset trajectories/*/* --params ${params_yaml} -o datasets
    """

    stub:
    """
    mkdir -p datasets && touch datasets/manifest.json
    """
}
