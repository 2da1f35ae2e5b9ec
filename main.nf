#!/usr/bin/env nextflow
/*
 * edlbench: short-range MLIPs at charged Au(111)/water interfaces.
 * Wiring only; every process is one `edlbench` call (see modules/), all logic in the package.
 * Built so far: PLAN → BUILD → REFERENCE_MD (or IMPORT of DFT data) → DATASETS, and the
 * reference PROFILES → AGGREGATE. TRAIN / EVALUATE / MD / UNCERTAINTY / REPORT join when the
 * backends land (issues 4, 5, 7).
 */
nextflow.enable.dsl = 2

include { PLAN         } from './modules/plan'
include { BUILD        } from './modules/build'
include { REFERENCE_MD } from './modules/reference_md'
include { IMPORT       } from './modules/import'
include { DATASETS     } from './modules/datasets'
include { PROFILES     } from './modules/profiles'
include { AGGREGATE    } from './modules/aggregate'

workflow {
    params_yaml = file(params.params_yaml, checkIfExists: true)

    // the run matrix, validated once from the params file
    PLAN(params_yaml)

    if (params.dft) {
        // user DFT(-MD) frames: validated and grouped by charge state; they are the reference
        IMPORT(params_yaml, files(params.dft, checkIfExists: true))
        reference = IMPORT.out.flatten().map { f -> tuple(f.baseName, f) }
    } else {
        // starting structures per charge state, then reference MD with the classical oracle
        charges = PLAN.out.flatMap { new groovy.json.JsonSlurper().parse(it).charges }
        BUILD(params_yaml, charges)
        REFERENCE_MD(params_yaml, BUILD.out)
        reference = REFERENCE_MD.out.trajectory
    }

    // labelled training/validation/test sets: mixed, n0…n4, test per charge
    DATASETS(params_yaml, reference.map { it[1] }.collect())

    // reference profiles per charge state, then everything into one results.nc
    PROFILES(params_yaml, reference.map { charge, traj -> tuple('reference', 'none', charge, params.seed, traj) })
    AGGREGATE(PROFILES.out.collect())
}
