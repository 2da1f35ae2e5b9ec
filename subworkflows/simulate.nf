include { MD          } from '../modules/md'
include { UNCERTAINTY } from '../modules/uncertainty'
include { settingsFor } from './settings'

/*
 * The plan's MD runs (backend × training set × charge × replica, with the committee member it
 * names), each from the last frame of its charge state's reference replica; then the committee's force spread along each run of a
 * model with a committee, gathered as soon as that model's own members are trained.
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

    committees = models.filter { meta, model -> meta.committee > 1 }
        .map { meta, model -> [groupKey(meta.model, meta.committee), model] }
        .groupTuple(sort: true)
        .map { key, members -> [key.toString(), members] }
    trajectories = MD.out.trajectory.branch { meta, trajectory ->
        committee: meta.committee > 1
        single: true
    }
    UNCERTAINTY(trajectories.committee
        .map { meta, trajectory -> [meta.model, meta, trajectory] }
        .combine(committees, by: 0)
        .map { key, meta, trajectory, members -> [meta, trajectory, members] })

    emit:
    trajectories = UNCERTAINTY.out.mix(trajectories.single)  // [meta, trajectory] per MD run
}
