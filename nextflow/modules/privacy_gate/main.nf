// The run's privacy verdict: one line per failed gate, raised only after every other report is done and published,
// so a failed gate stops nothing half-way (the task fails, and errorStrategy 'finish' ends the run).
process PRIVACY_GATE {
    tag 'every region and model'
    label 'process_single'

    input:
    val failures
    val finished

    exec:
    if (failures) {
        error("privacy gate failed for ${failures.size()} of ${finished} artificial sets: ${failures.join('; ')}")
    }
}
