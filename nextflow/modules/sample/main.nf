// genosynth sample: artificial haplotypes from one trained model, as a bgzipped, indexed VCF
process GENOSYNTH_SAMPLE {
    tag "$meta.id"
    label 'process_medium'
    label 'process_gpu'
    container "genosynth/sample:0.2.0"

    input:
    tuple val(meta), path(model)
    val haplotypes

    output:
    tuple val(meta), path("${prefix}.vcf.gz"), path("${prefix}.vcf.gz.tbi"), emit: vcf
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.ag"
    """
    genosynth-sample ${model} -n ${haplotypes} -o ${prefix}.vcf.gz ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.ag"
    """
    touch ${prefix}.vcf.gz ${prefix}.vcf.gz.tbi versions.yml
    """
}
