process PLAN {
    label 'core'
    label 'small'

    input:
    path params_yaml
    val seed
    val imported  // the reference is the user's DFT frames (--dft)

    output:
    path 'plan.json'

    script:
    """
    edlbench --threads ${task.cpus} plan --params ${params_yaml} --seed ${seed} ${imported ? '--imported' : ''} -o plan.json
    """

    stub:  // the plan is cheap and shapes the whole DAG: compute it for real
    """
    edlbench --threads ${task.cpus} plan --params ${params_yaml} --seed ${seed} ${imported ? '--imported' : ''} -o plan.json
    """
}
