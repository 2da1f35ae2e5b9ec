process PROFILES {
    label 'core'
    label 'small'
    tag "${model}/${train_set}/${charge}"

    input:
    path params_yaml
    tuple val(model), val(train_set), val(charge), val(seed), path(trajectory)

    output:
    path "${model}-${train_set}-${charge}.nc"

    script:
    """
    edlbench profiles ${trajectory} --params ${params_yaml} --model ${model} --train-set ${train_set} --seed ${seed} -o ${model}-${train_set}-${charge}.nc
    """

    stub:
    """
    touch ${model}-${train_set}-${charge}.nc
    """
}
