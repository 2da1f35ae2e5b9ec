#!/usr/bin/env nextflow
/*
 * edlbench: short-range MLIPs at charged Au(111)/water interfaces.
 * The workflow below is the study's method; subworkflows/ wire the steps, modules/ hold one
 * process per `edlbench` call, and every decision (runs, committees, settings) is plan.json's.
 */
nextflow.enable.dsl = 2

include { PLAN        } from './modules/plan'
include { DATASETS    } from './modules/datasets'
include { REFERENCE   } from './subworkflows/reference'
include { FIT         } from './subworkflows/fit'
include { SIMULATE    } from './subworkflows/simulate'
include { COMPARE     } from './subworkflows/compare'
include { settingsFor } from './subworkflows/settings'

workflow {
    // the run matrix and each step's settings, validated once from the params file
    PLAN(file(params.params_yaml, checkIfExists: true), params.seed, params.dft as boolean)
    plan = PLAN.out.map { new groovy.json.JsonSlurper().parse(it) }

    // the reference per charge state and replica: classical-oracle MD, or the user's DFT frames (--dft)
    REFERENCE(plan)

    // oracle-labelled training/validation/test sets from replica 0: mixed, n0…n4, test per charge
    DATASETS(REFERENCE.out.filter { meta, trajectory -> meta.replica == 0 }.map { meta, trajectory -> trajectory }.collect(),
             settingsFor(plan, 'dataset'))

    // every backend × training set × committee member, and its errors per test charge
    FIT(plan, DATASETS.out)

    // MD per model, charge and replica from that reference replica, with the committee's spread where there is one
    SIMULATE(plan, FIT.out.models, REFERENCE.out)

    // profiles of the reference and every MLIP run, one results.nc, the report
    COMPARE(plan, PLAN.out, REFERENCE.out.mix(SIMULATE.out), FIT.out.errors)
}
