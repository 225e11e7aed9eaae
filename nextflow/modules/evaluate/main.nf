// genosynth evaluate: every artificial set of one region against its real and held-out haplotypes
include { shellQuote } from '../../functions'

process GENOSYNTH_EVALUATE {
    tag "$meta.id"
    label 'process_medium'
    container "genosynth/evaluate:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(real), path(holdout), val(names), path(synthetic, arity: '1..*')
    val seed

    output:
    tuple val(meta), path("${prefix}/metrics.json"), emit: json
    tuple val(meta), path("${prefix}/metrics.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}/*.{png,pdf}"), emit: plots
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.evaluation"
    def synthetic_args = names.withIndex().collect { name, i -> "--synthetic ${shellQuote("${name}=${synthetic[i]}")}" }.join(' ')
    def holdout_args = holdout ? "--holdout ${shellQuote(holdout)}" : ''
    """
    genosynth-evaluate --real ${shellQuote(real)} ${holdout_args} ${synthetic_args} -o ${shellQuote(prefix)} --seed ${seed} --threads ${task.cpus} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.evaluation"
    """
    mkdir -p ${shellQuote(prefix)}
    echo '{}' > ${shellQuote(prefix)}/metrics.json
    printf 'set\\n' > ${shellQuote(prefix)}/metrics.tsv
    touch ${shellQuote(prefix)}/report.html ${shellQuote(prefix)}/pca.png
    """
}
