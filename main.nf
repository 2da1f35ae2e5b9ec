#!/usr/bin/env nextflow
/*
 * edlbench: short-range MLIPs at charged Au(111)/water interfaces.
 * Wiring only; every process is one `edlbench` call (see modules/), all logic in the package.
 * Built so far: PLAN → BUILD → REFERENCE_MD → DATASETS, and REFERENCE_MD profiles → AGGREGATE.
 * TRAIN / EVALUATE / MD / UNCERTAINTY / REPORT join when the backends land (issues 4, 5, 7).
 */
nextflow.enable.dsl = 2

include { PLAN         } from './modules/plan'
include { BUILD        } from './modules/build'
include { REFERENCE_MD } from './modules/reference_md'
include { DATASETS     } from './modules/datasets'
include { AGGREGATE    } from './modules/aggregate'

workflow {
    params_yaml = file(params.params_yaml, checkIfExists: true)

    // the run matrix, validated once from the params file
    PLAN(params_yaml)
    charges = PLAN.out.flatMap { new groovy.json.JsonSlurper().parse(it).charges }

    // starting structures, one per charge state
    BUILD(params_yaml, charges)

    // reference MD (classical oracle with global surface charge) per charge state
    REFERENCE_MD(params_yaml, BUILD.out)

    // labelled training/validation/test sets: mixed, n0…n4, test per charge
    DATASETS(params_yaml, REFERENCE_MD.out.trajectory.map { it[1] }.collect())

    // every profiles.nc (model = "reference" so far) into one results.nc
    AGGREGATE(REFERENCE_MD.out.profiles.collect())
}
