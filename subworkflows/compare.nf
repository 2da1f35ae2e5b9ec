include { PROFILES    } from '../modules/profiles'
include { AGGREGATE   } from '../modules/aggregate'
include { REPORT      } from '../modules/report'
include { settingsFor } from './settings'

/*
 * Profiles of every reference and MLIP run, everything stacked into one results.nc (with the
 * models the plan left out), and the report answering the study's questions.
 */
workflow COMPARE {
    take:
    plan       // parsed plan.json (value channel)
    plan_json  // plan.json itself (for the models left out)
    runs       // [meta, trajectory] of the reference and of every MLIP run
    errors     // errors-<id>.nc per committee member

    main:
    PROFILES(runs.combine(settingsFor(plan, 'profiles')))
    AGGREGATE(PROFILES.out.mix(errors).collect(), plan_json)
    REPORT(AGGREGATE.out)

    emit:
    report = REPORT.out
}
