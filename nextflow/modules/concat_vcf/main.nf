// bcftools concat: the per-region artificial VCFs of one model into one genome-wide VCF (regions in order)
include { shellQuote } from '../../functions'

process CONCAT_VCF {
    tag "$model"
    label 'process_low'
    container "genosynth/base:0.2.0-cpu"

    input:
    tuple val(model), path(vcfs, arity: '1..*'), path(indexes, arity: '1..*')

    output:
    tuple val(model), path("${prefix}.vcf.gz"), path("${prefix}.vcf.gz.tbi"), emit: vcf
    tuple val("${task.process}"), val('bcftools'), eval('bcftools --version | head -1 | cut -d" " -f2'), topic: versions, emit: versions_bcftools

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${model}.artificial_genomes"
    """
    bcftools concat --allow-overlaps --output-type z --output ${shellQuote(prefix + '.vcf.gz')} ${args} ${vcfs.collect { vcf -> shellQuote(vcf) }.join(' ')}
    tabix -p vcf ${shellQuote(prefix + '.vcf.gz')}
    """

    stub:
    prefix = task.ext.prefix ?: "${model}.artificial_genomes"
    """
    touch ${shellQuote(prefix + '.vcf.gz')} ${shellQuote(prefix + '.vcf.gz.tbi')}
    """
}
