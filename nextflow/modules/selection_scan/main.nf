// genosynth selection-scan: XP-EHH/PBS/iHS and the selection CNN of a target population, real and artificial
// (population-labelled); with the CNN among the methods its simulations run on the task's cpus and the trained
// network is an output
include { shellQuote } from '../../functions'

process GENOSYNTH_SELECTION_SCAN {
    tag "${meta.id} ${meta.model}"
    label 'process_medium'
    container "genosynth/selection-scan:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(matrix), path(synthetic)
    val target
    val versus
    val outgroup
    val methods

    output:
    tuple val(meta), path("${prefix}/summary.json"), emit: json
    tuple val(meta), path("${prefix}/*.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}.cnn.safetensors"), emit: cnn_model, optional: true
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    def versus_args = versus ? "--versus ${shellQuote(versus)}" : ''
    def outgroup_args = outgroup ? "--outgroup ${shellQuote(outgroup)}" : ''
    def method_args = methods ? "--method ${shellQuote(methods)}" : ''
    def cnn_args = methods.tokenize(',').contains('cnn') ? "--threads ${task.cpus} --cnn-model-output ${shellQuote(prefix + '.cnn.safetensors')}" : ''
    """
    genosynth-selection-scan ${shellQuote(matrix)} --target ${shellQuote(target)} ${versus_args} ${outgroup_args} ${method_args} ${cnn_args} --synthetic ${shellQuote(synthetic)} -o ${shellQuote(prefix)} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    def cnn_stub = methods.tokenize(',').contains('cnn') ? shellQuote(prefix + '.cnn.safetensors') : ''
    """
    mkdir -p ${shellQuote(prefix)}
    touch ${shellQuote(prefix)}/summary.json ${shellQuote(prefix)}/xpehh.tsv ${shellQuote(prefix)}/report.html ${cnn_stub}
    """
}
