process REFERENCE_MD {
    label 'core'
    label 'md'
    tag "${structure.baseName}"

    input:
    path params_yaml
    path structure

    output:
    tuple val("${structure.baseName}"), path("${structure.baseName}/trajectory.nc"), emit: trajectory
    path "${structure.baseName}/thermo.log", emit: log

    script:
    """
    edlbench reference-md ${structure} --params ${params_yaml} --seed ${params.seed} -o ${structure.baseName}
    """

    stub:
    """
    mkdir -p ${structure.baseName}
    touch ${structure.baseName}/trajectory.nc ${structure.baseName}/thermo.log
    """
}
