// genosynth train-rbm: an RBM trained on one haplotype matrix, with its hidden representation
process GENOSYNTH_TRAIN_RBM {
    tag "$meta.id"
    label 'process_high'
    label 'process_gpu'
    container "genosynth/train-rbm:0.2.0"

    input:
    tuple val(meta), path(matrix)

    output:
    tuple val(meta), path("${prefix}.safetensors"), emit: model
    tuple val(meta), path("${prefix}.training.tsv"), emit: history
    tuple val(meta), path("${prefix}.hidden.tsv"), emit: hidden
    tuple val(meta), path("${prefix}.{training,hidden}.{png,pdf}"), emit: plots
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.rbm"
    """
    genosynth-train-rbm ${matrix} -o ${prefix}.safetensors ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.rbm"
    """
    touch ${prefix}.safetensors ${prefix}.training.tsv ${prefix}.hidden.tsv ${prefix}.training.png ${prefix}.hidden.png versions.yml
    """
}
