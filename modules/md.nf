process MD {
    label 'ml'
    label 'md'
    label 'calculator'
    tag "${meta.id}"

    input:
    tuple val(meta), path(model), path(start), val(settings)

    output:
    tuple val(meta), path("${meta.id}/trajectory.nc"), emit: trajectory
    path "${meta.id}/thermo.log", emit: log

    script:
    // the running trajectory and its restart points live outside the task's folder (params.restart_dir),
    // so a retry (a new folder) continues the run; the folder of a finished run is removed
    """
    cat > settings.json <<'SETTINGS'
    ${settings}
    SETTINGS
    edlbench --threads ${task.cpus} md ${start} --params settings.json --backend ${meta.backend} --model ${model} --train-set ${meta.train_set} --seed ${meta.md_seed} --device ${meta.cpu_only ? 'cpu' : params.device} --restart-dir ${params.restart_dir} -o ${meta.id}
    """

    stub:
    """
    mkdir -p ${meta.id} && touch ${meta.id}/trajectory.nc ${meta.id}/thermo.log
    """
}
