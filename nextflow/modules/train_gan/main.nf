// genosynth train-gan: a GAN (preset and options through task.ext.args) trained on one haplotype matrix
process GENOSYNTH_TRAIN_GAN {
    tag "$meta.id"
    label 'process_high'
    label 'process_gpu'
    container "genosynth/train-gan:0.2.0"

    input:
    tuple val(meta), path(matrix)

    output:
    tuple val(meta), path("${prefix}.safetensors"), emit: model
    tuple val(meta), path("${prefix}.training.tsv"), emit: history
    tuple val(meta), path("${prefix}.training.{png,pdf}"), emit: plots
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.gan"
    """
    genosynth-train-gan ${matrix} -o ${prefix}.safetensors ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.gan"
    """
    touch ${prefix}.safetensors ${prefix}.training.tsv ${prefix}.training.png ${prefix}.training.pdf versions.yml
    """
}
