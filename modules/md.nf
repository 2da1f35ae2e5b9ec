process MD {
    label 'ml'
    label 'md'
    tag "${backend}/${train_set}/${charge}"

    input:
    path params_yaml
    tuple val(backend), val(env), val(train_set), val(seed), path(model), val(charge), path(start)

    output:
    tuple val(backend), val(env), val(train_set), val(charge), val(seed), path("${backend}-${train_set}-${charge}/trajectory.nc"), emit: trajectory
    path "${backend}-${train_set}-${charge}/thermo.log", emit: log

    script:
    """
    edlbench md ${start} --params ${params_yaml} --backend ${backend} --model ${model} --train-set ${train_set} --seed ${seed} -o ${backend}-${train_set}-${charge}
    """

    stub:
    """
    mkdir -p ${backend}-${train_set}-${charge} && touch ${backend}-${train_set}-${charge}/trajectory.nc ${backend}-${train_set}-${charge}/thermo.log
    """
}
