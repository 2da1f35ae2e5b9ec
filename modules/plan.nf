process PLAN {
    label 'core'
    label 'small'

    input:
    path params_yaml

    output:
    path 'plan.json'

    script:
    """
    edlbench plan --params ${params_yaml} -o plan.json
    """

    stub:  // the plan is cheap and shapes the whole DAG: compute it for real
    """
    edlbench plan --params ${params_yaml} -o plan.json
    """
}
