// genosynth privacy-check: one artificial set against its training and held-out haplotypes; exit 2 fails the gate
process GENOSYNTH_PRIVACY_CHECK {
    tag "$meta.id"
    label 'process_medium'
    container "genosynth/privacy-check:0.2.0"

    input:
    tuple val(meta), path(train), path(holdout), path(synthetic)

    output:
    tuple val(meta), path("${prefix}/privacy.json"), emit: json
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val(meta), path("${prefix}/*.{png,pdf}"), emit: plots
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.privacy"
    """
    genosynth-privacy-check --train ${train} --holdout ${holdout} --synthetic ${synthetic} -o ${prefix} ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.privacy"
    """
    mkdir -p ${prefix}
    touch ${prefix}/privacy.json ${prefix}/report.html ${prefix}/dcr.png versions.yml
    """
}
