// genosynth evaluate: every artificial set of one region against its real and held-out haplotypes
process GENOSYNTH_EVALUATE {
    tag "$meta.id"
    label 'process_medium'
    container "genosynth/evaluate:0.2.0"

    input:
    tuple val(meta), path(real), path(holdout), path(synthetic)

    output:
    tuple val(meta), path("${prefix}/metrics.json"), emit: json
    tuple val(meta), path("${prefix}/metrics.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}/*.{png,pdf}"), emit: plots
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.evaluation"
    def synthetic_args = synthetic.collect { "--synthetic ${it.name.tokenize('.')[-4]}=${it}" }.join(' ')
    def holdout_args = holdout ? "--holdout ${holdout}" : ''
    """
    genosynth-evaluate --real ${real} ${holdout_args} ${synthetic_args} -o ${prefix} ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.evaluation"
    """
    mkdir -p ${prefix}
    touch ${prefix}/metrics.json ${prefix}/metrics.tsv ${prefix}/report.html ${prefix}/pca.png versions.yml
    """
}
