process MD {
    label 'ml'
    label 'md'
    tag "${backend}/${train_set}/${charge}"

    input:
    path params_yaml
    tuple val(backend), val(env), val(train_set), val(seed), path(model), val(charge), path(start)

    output:
    tuple val(backend), val(env), val(train_set), val(charge), val(seed), path("${charge}/trajectory.nc"), emit: trajectory
    path "${charge}/thermo.log", emit: log

    script:
    """
    edlbench md ${start} --params ${params_yaml} --backend ${backend} --model ${model} --train-set ${train_set} --seed ${seed} -o ${charge}
    """

    stub:
    """
    mkdir -p ${charge} && touch ${charge}/trajectory.nc ${charge}/thermo.log
    """
}
