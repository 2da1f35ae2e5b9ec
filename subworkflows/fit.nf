include { TRAIN        } from '../modules/train'
include { EVALUATE     } from '../modules/evaluate'
include { settingsJson } from './settings'

/*
 * Every backend × training set × committee member of the plan, trained with its backend's
 * settings only, then its force and energy errors on the test sets the plan names.
 */
workflow FIT {
    take:
    plan      // parsed plan.json (value channel)
    datasets  // the datasets folder (value channel)

    main:
    runs = plan.flatMap { p -> p.train.collect { meta -> [meta, settingsJson(p.settings.train[meta.backend])] } }
    TRAIN(runs, datasets)
    EVALUATE(TRAIN.out, datasets)

    emit:
    models = TRAIN.out     // [meta, model folder] per committee member
    errors = EVALUATE.out  // errors-<id>.nc per committee member
}
