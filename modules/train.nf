process TRAIN {
    label 'ml'
    label 'train'
    tag "${backend}/${train_set}/seed${seed}"

    input:
    path params_yaml
    path datasets
    tuple val(backend), val(env), val(train_set), val(seed), val(test_charges)

    output:
    tuple val(backend), val(env), val(train_set), val(seed), val(test_charges), path("${backend}-${train_set}-seed${seed}")

    script:
    """
    edlbench train --params ${params_yaml} --backend ${backend} --train-set ${train_set} --seed ${seed} --datasets ${datasets} -o ${backend}-${train_set}-seed${seed}
    """

    stub:
    """
    mkdir -p ${backend}-${train_set}-seed${seed} && touch ${backend}-${train_set}-seed${seed}/model.json
    """
}
