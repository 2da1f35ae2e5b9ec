process UNCERTAINTY {
    label 'ml'
    label 'small'
    label 'calculator'
    tag "${meta.id}"

    input:
    tuple val(meta), path(trajectory, stageAs: 'md.nc'), path(models, stageAs: 'model?')

    output:
    tuple val(meta), path("${meta.id}.nc")

    script:
    """
    edlbench --threads ${task.cpus} uncertainty md.nc --backend ${meta.backend} --models ${models} ${meta.gamma ? '--gamma' : ''} --device ${meta.cpu_only ? 'cpu' : params.device} -o ${meta.id}.nc
    """

    stub:
    """
    touch ${meta.id}.nc
    """
}
