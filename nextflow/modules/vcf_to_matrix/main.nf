// genosynth vcf-to-matrix: phased VCF/BCF (one region of it with meta.region) -> haplotype matrix + holdout
include { shellQuote } from '../../functions'

process GENOSYNTH_VCF_TO_MATRIX {
    tag "$meta.id"
    label 'process_low'
    container "genosynth/vcf-to-matrix:0.2.0-cpu"

    input:
    tuple val(meta), path(vcf, stageAs: 'input/*'), path(index, stageAs: 'input/*')
    path populations, stageAs: 'populations/*'
    val holdout
    val seed

    output:
    tuple val(meta), path("${prefix}.h5"), emit: matrix
    tuple val(meta), path("${prefix}.holdout.h5"), emit: holdout, optional: true
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def region_args = meta.region ? "--region ${shellQuote(meta.region)}" : ''
    def population_args = populations ? "--populations ${shellQuote(populations)}" : ''
    def holdout_args = holdout ? "--holdout ${holdout} --holdout-output ${shellQuote(prefix + '.holdout.h5')}" : ''
    """
    genosynth-vcf-to-matrix ${shellQuote(vcf)} -o ${shellQuote(prefix + '.h5')} ${region_args} ${population_args} ${holdout_args} --seed ${seed} --threads ${task.cpus} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${shellQuote(prefix + '.h5')} ${shellQuote(prefix + '.holdout.h5')}
    """
}
