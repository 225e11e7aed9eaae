// genosynth sample: artificial haplotypes from one trained model, from the window models of one chromosome
// chained in window order, or (meta.model 'mosaic') the mosaic baseline copying the training matrix, as a bgzipped,
// indexed VCF
include { shellQuote } from '../../functions'

process GENOSYNTH_SAMPLE {
    tag "$meta.id"
    label 'process_medium'
    label 'process_gpu'
    container "genosynth/sample:${workflow.manifest.version}${params.use_gpu ? '' : '-cpu'}"

    input:
    tuple val(meta), path(models, arity: '1..*')
    val haplotypes
    val seed

    output:
    tuple val(meta), path("${prefix}.vcf.gz"), path("${prefix}.vcf.gz.tbi"), emit: vcf
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth
    tuple val("${task.process}"), val('torch'), eval('python3 -m genosynth.versions torch'), topic: versions, emit: versions_torch

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def models_args = meta.model == 'mosaic'
        ? "--baseline mosaic --reference ${shellQuote(models[0])}"
        : models.collect { model -> shellQuote(model) }.join(' ')
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.ag"
    """
    genosynth-sample ${models_args} -n ${haplotypes} -o ${shellQuote(prefix + '.vcf.gz')} --seed ${seed} --threads ${task.cpus} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.ag"
    """
    touch ${shellQuote(prefix + '.vcf.gz')} ${shellQuote(prefix + '.vcf.gz.tbi')}
    """
}
