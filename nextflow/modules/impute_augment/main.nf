// genosynth impute-augment: a reference panel augmented with artificial haplotypes, and the imputation gain
process GENOSYNTH_IMPUTE_AUGMENT {
    tag "$meta.id"
    label 'process_medium'
    container "genosynth/impute-augment:0.2.0"

    input:
    tuple val(meta), path(panel), path(synthetic), path(target)

    output:
    tuple val(meta), path("${prefix}/impute.json"), emit: json
    tuple val(meta), path("${prefix}/impute.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/augmented_panel.vcf.gz"), path("${prefix}/augmented_panel.vcf.gz.tbi"), emit: panel
    tuple val(meta), path("${prefix}/report.html"), emit: report
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.imputation"
    def memory_args = task.memory ? "--memory ${task.memory.toMega().intdiv(5) * 4}m" : ''
    """
    genosynth-impute-augment --panel ${panel} --synthetic ${synthetic} --target ${target} --threads ${task.cpus} ${memory_args} -o ${prefix} ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.imputation"
    """
    mkdir -p ${prefix}
    touch ${prefix}/impute.json ${prefix}/impute.tsv ${prefix}/augmented_panel.vcf.gz ${prefix}/augmented_panel.vcf.gz.tbi ${prefix}/report.html versions.yml
    """
}
