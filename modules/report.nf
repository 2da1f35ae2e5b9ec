process REPORT {
    label 'core'
    label 'small'

    input:
    path results

    output:
    path 'report'

    script:
    """
    edlbench report ${results} -o report
    """

    stub:
    """
    mkdir -p report && touch report/report.html report/report.md
    """
}
