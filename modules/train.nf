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
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} train --params settings.json --backend ${meta.backend} --train-set ${meta.train_set} --seed ${meta.seed} --datasets ${datasets} --device ${params.device} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id} && touch ${meta.id}/model.json
    """
}
