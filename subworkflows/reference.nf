include { BUILD        } from '../modules/build'
include { REFERENCE_MD } from '../modules/reference_md'
include { IMPORT       } from '../modules/import'
include { settingsFor  } from './settings'

/*
 * The reference per charge state and replica of the plan: MD with the classical oracle from built
 * starting structures (each replica its own packed start and seeds), or (--dft) the user's labelled
 * DFT(-MD) frames, which `edlbench import` groups into one file per charge state (n<N>.extxyz; the
 * plan allows one replica then); charge states outside the plan are not used.
 */
workflow REFERENCE {
    take:
    plan  // parsed plan.json (value channel)

    main:
    charges = plan.flatMap { it.reference }
    if (params.dft) {
        IMPORT(files(params.dft, checkIfExists: true), settingsFor(plan, 'import'))
        trajectories = IMPORT.out.flatten()
            .map { frames -> [frames.baseName, frames] }
            .join(charges.map { meta -> [meta.charge, meta] })
            .map { charge, frames, meta -> [meta, frames] }
    } else {
        BUILD(charges.combine(settingsFor(plan, 'build')))
        REFERENCE_MD(BUILD.out.combine(settingsFor(plan, 'reference')))
        trajectories = REFERENCE_MD.out.trajectory
    }

    emit:
    trajectories  // [meta, trajectory] per charge state and replica
}
