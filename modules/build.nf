process BUILD {
    label 'core'
    label 'small'
    tag "n${n_ion}"

    input:
    path params_yaml
    val n_ion

    output:
    path "n${n_ion}.extxyz"

    script:
    """
    edlbench build --params ${params_yaml} --n-ions ${n_ion} -o .
    """

    stub:
    """
    touch n${n_ion}.extxyz
    """
}
