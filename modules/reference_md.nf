process REFERENCE_MD {
    label 'core'
    label 'md'
    label 'gpu'
    tag "${meta.id}"

    input:
    tuple val(meta), path(structure), val(settings)

    output:
    tuple val(meta), path("${meta.id}/trajectory.nc"), emit: trajectory
    path "${meta.id}/thermo.log", emit: log

    script:
    // --device cuda|cpu (hpc: cuda) picks OpenMM's platform; auto leaves reference.platform to the params file
    def platform = params.device == 'auto' ? '' : "--platform ${params.device == 'cuda' ? 'CUDA' : 'CPU'}"
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} reference-md ${structure} --params settings.json --seed ${meta.seed} ${platform} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id}
    touch ${meta.id}/trajectory.nc ${meta.id}/thermo.log
    """
}
