// genosynth vcf-to-matrix: phased VCF/BCF (one region of it with meta.region), or a .hapt with its legend ->
// haplotype matrix + holdout, and the windows its chromosomes are cut into (window_sites sites each, or starting
// where window_starts' regions start)
include { shellQuote } from '../../functions'

process GENOSYNTH_VCF_TO_MATRIX {
    tag "$meta.id"
    label 'process_low'
    container "genosynth/vcf-to-matrix:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(vcf, stageAs: 'input/*'), path(index, stageAs: 'input/*'), path(legend, stageAs: 'legend/*')
    path populations, stageAs: 'populations/*'
    val holdout
    val seed
    path window_starts, stageAs: 'window_starts/*'
    val window_sites

    output:
    tuple val(meta), path("${prefix}.h5"), emit: matrix
    tuple val(meta), path("${prefix}.holdout.h5"), emit: holdout, optional: true
    tuple val(meta), path("${prefix}.windows.bed"), emit: windows, optional: true
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}"
    def region_args = meta.region ? "--region ${shellQuote(meta.region)}" : ''
    def legend_args = legend ? "--legend ${shellQuote(legend)}" : ''
    def population_args = populations ? "--populations ${shellQuote(populations)}" : ''
    def holdout_args = holdout ? "--holdout ${holdout} --holdout-output ${shellQuote(prefix + '.holdout.h5')}" : ''
    def windows_output = "--windows-output ${shellQuote(prefix + '.windows.bed')}"
    def windows_args = ''
    if (window_starts) {
        windows_args = "${windows_output} --window-starts ${shellQuote(window_starts)}"
    } else if (window_sites) {
        windows_args = "${windows_output} --window-sites ${window_sites}"
    }
    """
    genosynth-vcf-to-matrix ${shellQuote(vcf)} -o ${shellQuote(prefix + '.h5')} ${region_args} ${legend_args} ${population_args} ${holdout_args} ${windows_args} --seed ${seed} --threads ${task.cpus} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}"
    // one window, so that a stub run's workflow reads a region from it
    def windows_stub = window_starts || window_sites ? "printf '%s\\t0\\t1\\tw1\\n' ${shellQuote(meta.region ?: 'genome')} > ${shellQuote(prefix + '.windows.bed')}" : ''
    """
    touch ${shellQuote(prefix + '.h5')} ${shellQuote(prefix + '.holdout.h5')}
    ${windows_stub}
    """
}
