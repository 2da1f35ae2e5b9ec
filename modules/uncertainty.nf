process UNCERTAINTY {
    label 'ml'
    label 'small'
    tag "${backend}/${train_set}/${charge}"

    input:
    tuple val(backend), val(env), val(train_set), val(charge), val(seed), path(trajectory, stageAs: 'md.nc'), path(models, stageAs: 'model?')

    output:
    tuple val(backend), val(train_set), val(charge), val(seed), path("${backend}-${train_set}-${charge}.nc")

    script:
    """
    edlbench uncertainty md.nc --backend ${backend} --models ${models.join(' ')} -o ${backend}-${train_set}-${charge}.nc
    """

    stub:
    """
    touch ${backend}-${train_set}-${charge}.nc
    """
}
