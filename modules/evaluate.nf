process EVALUATE {
    label 'ml'
    label 'small'
    tag "${backend}/${train_set}/seed${seed}"

    input:
    path datasets
    tuple val(backend), val(env), val(train_set), val(seed), val(test_charges), path(model)

    output:
    path "errors-${backend}-${train_set}-${seed}.nc"

    script:
    """
    edlbench evaluate ${test_charges.collect { "${datasets}/test/n${it}.extxyz" }.join(' ')} --backend ${backend} --model ${model} --train-set ${train_set} --seed ${seed} -o errors-${backend}-${train_set}-${seed}.nc
    """

    stub:
    """
    touch errors-${backend}-${train_set}-${seed}.nc
    """
}
