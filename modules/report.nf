process REPORT {
    label 'core'
    label 'small'

    input:
    path results

    output:
    path 'report'

    script:
    """
    edlbench --threads ${task.cpus} report ${results} -o report
    """

    stub:
    """
    mkdir -p report && touch report/report.html report/report.md
    """
}
