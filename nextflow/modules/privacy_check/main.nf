// genosynth privacy-check: one artificial set against its training and held-out haplotypes. A failed gate (exit 2)
// still ends the task successfully with its report, so it is published; PRIVACY_GATE fails the run at the end.
include { shellQuote } from '../../functions'

process GENOSYNTH_PRIVACY_CHECK {
    tag "${meta.id} ${meta.model}"
    label 'process_medium'
    container "genosynth/privacy-check:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(train), path(holdout), path(synthetic)
    val seed

    output:
    tuple val(meta), path("${prefix}/privacy.json"), emit: json
    tuple val(meta), path("${prefix}/gate.txt"), emit: gate
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}/*.{png,pdf}"), emit: plots
    tuple val(meta), path("${prefix}/exposure.tsv"), emit: exposure
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.privacy"
    """
    genosynth-privacy-check --train ${shellQuote(train)} --holdout ${shellQuote(holdout)} --synthetic ${shellQuote(synthetic)} -o ${shellQuote(prefix)} --seed ${seed} --threads ${task.cpus} ${args} \\
        || { status=\$?; [ \$status -eq 2 ] || exit \$status; }
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.privacy"
    """
    mkdir -p ${shellQuote(prefix)}
    echo passed > ${shellQuote(prefix)}/gate.txt
    echo '{"gate": {"passed": true, "failures": []}}' > ${shellQuote(prefix)}/privacy.json
    touch ${shellQuote(prefix)}/report.html ${shellQuote(prefix)}/dcr.png ${shellQuote(prefix)}/exposure.tsv
    """
}
