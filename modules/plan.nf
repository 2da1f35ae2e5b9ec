process PLAN {
    label 'core'
    label 'small'

    input:
    path params_yaml
    val seed

    output:
    path 'plan.json'

    script:
    """
    edlbench --threads ${task.cpus} plan --params ${params_yaml} --seed ${seed} -o plan.json
    """

    stub:  // the plan is cheap and shapes the whole DAG: compute it for real
    """
    edlbench --threads ${task.cpus} plan --params ${params_yaml} --seed ${seed} -o plan.json
    """
}
