// genosynth infer-demography: which of several stdpopsim scenarios the real haplotypes support, by a CNN and a random
// forest trained on msprime simulations matched to the data, and whether the artificial (population-labelled)
// haplotypes support the same one; the simulations run on the task's cpus and the trained network is an output
include { shellQuote } from '../../functions'

process GENOSYNTH_INFER_DEMOGRAPHY {
    tag "${meta.id} ${meta.model}"
    label 'process_medium'
    container "genosynth/infer-demography:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(matrix), path(synthetic)
    val scenarios

    output:
    tuple val(meta), path("${prefix}/demography.json"), emit: json
    tuple val(meta), path("${prefix}/posteriors.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}.cnn.safetensors"), emit: cnn_model
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.demography"
    def scenario_args = scenarios.tokenize(' ').collect { spec -> "--scenario ${shellQuote(spec)}" }.join(' ')
    """
    genosynth-infer-demography ${shellQuote(matrix)} ${scenario_args} --synthetic ${shellQuote(meta.model + '=' + synthetic)} --threads ${task.cpus} --model-output ${shellQuote(prefix + '.cnn.safetensors')} -o ${shellQuote(prefix)} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.demography"
    """
    mkdir -p ${shellQuote(prefix)}
    touch ${shellQuote(prefix)}/demography.json ${shellQuote(prefix)}/posteriors.tsv ${shellQuote(prefix)}/report.html ${shellQuote(prefix + '.cnn.safetensors')}
    """
}
