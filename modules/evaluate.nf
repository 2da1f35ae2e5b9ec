process EVALUATE {
    label 'ml'
    label 'small'
    label 'calculator'
    tag "${meta.id}"

    input:
    tuple val(meta), path(model)
    path datasets

    output:
    path "errors-${meta.id}.nc"

    script:
    """
    edlbench --threads ${task.cpus} evaluate ${meta.test_sets.collect { "${datasets}/${it}" }.join(' ')} --backend ${meta.backend} --model ${model} --train-set ${meta.train_set} --seed ${meta.seed}${meta.gamma && meta.seed == 0 ? ' --gamma' : ''} --device ${meta.cpu_only ? 'cpu' : params.device} -o errors-${meta.id}.nc
    """

    stub:
    """
    touch errors-${meta.id}.nc
    """
}
