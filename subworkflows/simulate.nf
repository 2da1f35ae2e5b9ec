include { MD          } from '../modules/md'
include { UNCERTAINTY } from '../modules/uncertainty'
include { settingsFor } from './settings'

/*
 * The plan's MD runs (backend × training set × charge × replica, with the committee member it
 * names), each from the last frame of its charge state's reference replica; then the uncertainty along each run of a model with
 * a committee (force spread) or a γ of its own backend's (GRACE), gathered as soon as that model's own members are trained.
 */
workflow SIMULATE {
    take:
    plan       // parsed plan.json (value channel)
    models     // [meta, model folder] per committee member
    reference  // [meta, trajectory] per charge state and replica

    main:
    member = models.map { meta, model -> [meta.subMap('backend', 'train_set', 'seed'), model] }
    starts = reference.map { meta, trajectory -> [meta.subMap('charge', 'replica'), trajectory] }
    runs = plan.flatMap { it.md }
        .map { meta -> [meta.subMap('backend', 'train_set', 'seed'), meta] }
        .combine(member, by: 0)
        .map { key, meta, model -> [meta.subMap('charge', 'replica'), meta, model] }
        .combine(starts, by: 0)
        .map { start_key, meta, model, start -> [meta, model, start] }
    MD(runs.combine(settingsFor(plan, 'md')))

    // the members of each model that gets an uncertainty (a committee's spread, the backend's own γ), in seed order: the run's own
    // member (seed 0) first
    uncertain = models.filter { meta, model -> meta.committee > 1 || meta.gamma }
        .map { meta, model -> [groupKey(meta.model, meta.committee), [seed: meta.seed, model: model]] }
        .groupTuple()
        .map { key, members -> [key.toString(), members.sort { it.seed }.collect { it.model }] }
    trajectories = MD.out.trajectory.branch { meta, trajectory ->
        uncertain: meta.committee > 1 || meta.gamma
        plain: true
    }
    UNCERTAINTY(trajectories.uncertain
        .map { meta, trajectory -> [meta.model, meta, trajectory] }
        .combine(uncertain, by: 0)
        .map { key, meta, trajectory, members -> [meta, trajectory, members] })

    emit:
    trajectories = UNCERTAINTY.out.mix(trajectories.plain)  // [meta, trajectory] per MD run
}
