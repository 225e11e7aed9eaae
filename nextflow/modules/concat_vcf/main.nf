// bcftools concat: the per-region artificial VCFs of one model into one genome-wide VCF (regions in order)
process CONCAT_VCF {
    tag "$model"
    label 'process_low'
    container "genosynth/base:0.2.0"

    input:
    tuple val(model), path(vcfs), path(indexes)

    output:
    tuple val(model), path("${prefix}.vcf.gz"), path("${prefix}.vcf.gz.tbi"), emit: vcf
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${model}.artificial_genomes"
    """
    bcftools concat --allow-overlaps --output-type z --output ${prefix}.vcf.gz ${args} ${vcfs}
    tabix -p vcf ${prefix}.vcf.gz
    printf '"%s":\\n    bcftools: "%s"\\n' "${task.process}" "\$(bcftools --version | head -1 | cut -d' ' -f2)" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${model}.artificial_genomes"
    """
    touch ${prefix}.vcf.gz ${prefix}.vcf.gz.tbi versions.yml
    """
}
