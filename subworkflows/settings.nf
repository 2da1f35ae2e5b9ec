/*
 * A step's settings as JSON text (a `val` input: Nextflow's cache hashes the text, so editing one
 * params section re-runs only the steps that read it). `settingsFor` takes them from plan.json.
 */
def settingsJson(settings) {
    groovy.json.JsonOutput.toJson(settings)
}

def settingsFor(plan, step) {
    plan.map { settingsJson(it.settings[step]) }
}
