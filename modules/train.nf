process TRAIN {
    label 'ml'
    label 'train'
    label 'gpu'
    tag "${meta.id}"

    input:
    tuple val(meta), val(settings)
    path datasets

    output:
    tuple val(meta), path("${meta.id}")

    script:
    // the package trains in a folder of params.restart_dir keyed by data and settings, so a retry
    // after a walltime kill resumes from the package's own checkpoint; removed when it finishes
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} train --params settings.json --backend ${meta.backend} --train-set ${meta.train_set} --seed ${meta.seed} --datasets ${datasets} --device ${params.device} --restart-dir ${params.restart_dir} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id} && touch ${meta.id}/model.json
    """
}
