// genosynth train-gan: a GAN (preset and options through task.ext.args) trained on a haplotype matrix, or on one
// window of it (meta.window) conditioned on the context_sites sites before the window
include { shellQuote } from '../../functions'

process GENOSYNTH_TRAIN_GAN {
    tag "$meta.id"
    label 'process_high'
    label 'process_gpu'
    container "genosynth/train-gan:${workflow.manifest.version}${params.use_gpu ? '' : '-cpu'}"

    input:
    tuple val(meta), path(matrix), path(holdout)
    val seed
    val context_sites

    output:
    tuple val(meta), path("${prefix}.safetensors"), emit: model
    tuple val(meta), path("${prefix}.training.tsv"), emit: history
    tuple val(meta), path("${prefix}.training.{png,pdf}"), emit: plots
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth
    tuple val("${task.process}"), val('torch'), eval('python3 -m genosynth.versions torch'), topic: versions, emit: versions_torch
    tuple val("${task.process}"), val('cuda'), eval('python3 -m genosynth.versions cuda'), topic: versions, emit: versions_cuda

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def holdout_args = holdout ? "--holdout ${shellQuote(holdout)}" : ''
    def window_args = meta.window ? "--region ${shellQuote(meta.window)} --context-sites ${context_sites}" : ''
    prefix = task.ext.prefix ?: "${meta.id}.gan"
    """
    genosynth-train-gan ${shellQuote(matrix)} -o ${shellQuote(prefix + '.safetensors')} ${holdout_args} ${window_args} --seed ${seed} --threads ${task.cpus} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.gan"
    """
    touch ${shellQuote(prefix + '.safetensors')} ${shellQuote(prefix + '.training.tsv')} ${shellQuote(prefix + '.training.png')} ${shellQuote(prefix + '.training.pdf')}
    """
}
