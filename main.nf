#!/usr/bin/env nextflow
/*
 * edlbench: short-range MLIPs at charged Au(111)/water interfaces.
 * Wiring only; every process is one `edlbench` call (see modules/), all logic in the package.
 * PLAN → BUILD → REFERENCE_MD (or IMPORT of DFT data) → DATASETS → TRAIN → EVALUATE,
 * TRAIN → MD (per charge, from the equilibrated reference) → UNCERTAINTY (committees of ≥ 2)
 * → PROFILES → AGGREGATE → REPORT.
 */
nextflow.enable.dsl = 2

include { PLAN         } from './modules/plan'
include { BUILD        } from './modules/build'
include { REFERENCE_MD } from './modules/reference_md'
include { IMPORT       } from './modules/import'
include { DATASETS     } from './modules/datasets'
include { TRAIN        } from './modules/train'
include { EVALUATE     } from './modules/evaluate'
include { MD           } from './modules/md'
include { UNCERTAINTY  } from './modules/uncertainty'
include { PROFILES     } from './modules/profiles'
include { AGGREGATE    } from './modules/aggregate'
include { REPORT       } from './modules/report'

workflow {
    params_yaml = file(params.params_yaml, checkIfExists: true)

    // the run matrix, validated once from the params file
    PLAN(params_yaml)
    plan = PLAN.out.map { new groovy.json.JsonSlurper().parse(it) }

    if (params.dft) {
        // user DFT(-MD) frames: validated and grouped by charge state; they are the reference
        IMPORT(params_yaml, files(params.dft, checkIfExists: true))
        reference = IMPORT.out.flatten().map { f -> tuple(f.baseName, f) }
    } else {
        // starting structures per charge state, then reference MD with the classical oracle
        BUILD(params_yaml, plan.flatMap { it.charges })
        REFERENCE_MD(params_yaml, BUILD.out)
        reference = REFERENCE_MD.out.trajectory
    }

    // labelled training/validation/test sets: mixed, n0…n4, test per charge
    DATASETS(params_yaml, reference.map { it[1] }.collect())
    datasets = DATASETS.out.datasets

    // every backend × train_set × seed of the plan, then its errors per test charge
    TRAIN(params_yaml, datasets, plan.flatMap { it.train }.map { r -> tuple(r.backend, r.env, r.train_set, r.seed, r.test_charges) })
    EVALUATE(datasets, TRAIN.out)

    // MD with committee member 0 of each model at the charges the plan lists, from the reference's last frame
    models = TRAIN.out.filter { it[3] == 0 }.map { b, e, t, s, q, m -> tuple("${b}/${t}", b, e, t, s, m) }
    md_plan = plan.flatMap { it.md }.map { r -> tuple("${r.backend}/${r.train_set}", "n${r.n_ion}") }
    md_runs = models.combine(md_plan, by: 0)
        .map { key, b, e, t, s, m, charge -> tuple(charge, b, e, t, s, m) }
        .combine(reference, by: 0)
        .map { charge, b, e, t, s, m, start -> tuple(b, e, t, s, m, charge, start) }
    MD(params_yaml, md_runs)

    // committee force spread along each run, where the model has a committee (all its seeds)
    committees = TRAIN.out.map { b, e, t, s, q, m -> tuple("${b}/${t}", m) }.groupTuple()
    with_committee = MD.out.trajectory.map { b, e, t, c, s, traj -> tuple("${b}/${t}", b, e, t, c, s, traj) }
        .combine(committees, by: 0)
        .branch { it -> committee: it[7].size() > 1; single: true }
    UNCERTAINTY(with_committee.committee.map { it[1..7] })

    // profiles of the reference and of every MLIP run, then everything into one results.nc
    runs = reference.map { charge, traj -> tuple('reference', 'none', charge, params.seed, traj) }
        .mix(UNCERTAINTY.out)
        .mix(with_committee.single.map { key, b, e, t, c, s, traj, models -> tuple(b, t, c, s, traj) })
    PROFILES(params_yaml, runs)
    AGGREGATE(PROFILES.out.mix(EVALUATE.out).collect(), PLAN.out)

    // figures, tables and report.html answering the study's questions
    REPORT(AGGREGATE.out)
}
