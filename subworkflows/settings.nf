/*
 * Each step's settings from plan.json, as JSON text (a `val` input: Nextflow's cache hashes the
 * text, so editing one params section re-runs only the steps that read it).
 */
def settingsFor(plan, step) {
    plan.map { groovy.json.JsonOutput.toJson(it.settings[step]) }
}
