// genosynth selection-scan: XP-EHH/PBS of a target population, real and artificial (population-labelled)
include { shellQuote } from '../../functions'

process GENOSYNTH_SELECTION_SCAN {
    tag "${meta.id} ${meta.model}"
    label 'process_medium'
    container "genosynth/selection-scan:0.2.0-cpu"

    input:
    tuple val(meta), path(matrix), path(synthetic)
    val target
    val versus
    val outgroup

    output:
    tuple val(meta), path("${prefix}/summary.json"), emit: json
    tuple val(meta), path("${prefix}/*.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    def outgroup_args = outgroup ? "--outgroup ${shellQuote(outgroup)}" : ''
    """
    genosynth-selection-scan ${shellQuote(matrix)} --target ${shellQuote(target)} --versus ${shellQuote(versus)} ${outgroup_args} --synthetic ${shellQuote(synthetic)} -o ${shellQuote(prefix)} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    """
    mkdir -p ${shellQuote(prefix)}
    touch ${shellQuote(prefix)}/summary.json ${shellQuote(prefix)}/xpehh.tsv ${shellQuote(prefix)}/report.html
    """
}
