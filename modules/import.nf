process IMPORT {
    label 'core'
    label 'small'

    input:
    path dft_files, stageAs: 'dft/*'
    val settings

    output:
    path 'imported/n*.extxyz'

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} import dft/* --params settings.json -o imported
    """

    stub:
    """
    mkdir -p imported && touch imported/n0.extxyz
    """
}
