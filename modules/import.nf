process IMPORT {
    label 'core'
    label 'small'

    input:
    path params_yaml
    path dft_files, stageAs: 'dft/*'

    output:
    path 'imported/n*.extxyz'

    script:
    """
    edlbench import dft/* --params ${params_yaml} -o imported
    """

    stub:
    """
    mkdir -p imported && touch imported/n0.extxyz
    """
}
