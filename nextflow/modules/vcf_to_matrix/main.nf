// genosynth vcf-to-matrix: phased VCF/BCF (one region of it with meta.region) -> haplotype matrix + holdout
process GENOSYNTH_VCF_TO_MATRIX {
    tag "$meta.id"
    label 'process_low'
    container "genosynth/vcf-to-matrix:0.2.0"

    input:
    tuple val(meta), path(vcf), path(index)
    path populations
    val holdout

    output:
    tuple val(meta), path("${prefix}.h5"), emit: matrix
    tuple val(meta), path("${prefix}.holdout.h5"), emit: holdout, optional: true
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def region_args = meta.region ? "--region ${meta.region}" : ''
    def population_args = populations ? "--populations ${populations}" : ''
    def holdout_args = holdout ? "--holdout ${holdout} --holdout-output ${prefix}.holdout.h5" : ''
    """
    genosynth-vcf-to-matrix ${vcf} -o ${prefix}.h5 ${region_args} ${population_args} ${holdout_args} --threads ${task.cpus} ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    """
    touch ${prefix}.h5 ${prefix}.holdout.h5 versions.yml
    """
}
