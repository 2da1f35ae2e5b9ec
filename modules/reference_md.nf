process REFERENCE_MD {
    label 'core'
    label 'md'
    tag "${meta.id}"

    input:
    tuple val(meta), path(structure), val(settings)

    output:
    tuple val(meta), path("${meta.id}/trajectory.nc"), emit: trajectory
    path "${meta.id}/thermo.log", emit: log

    script:
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench reference-md ${structure} --params settings.json --seed ${meta.seed} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id}
    touch ${meta.id}/trajectory.nc ${meta.id}/thermo.log
    """
}
