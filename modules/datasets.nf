process DATASETS {
    label 'core'
    label 'small'

    input:
    path trajectories, stageAs: 'trajectories/*/*'
    val settings

    output:
    path 'datasets'

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} dataset trajectories/*/* --params settings.json -o datasets
    """

    stub:
    """
    mkdir -p datasets && touch datasets/manifest.json
    """
}
