// genosynth impute-augment: a reference panel augmented with artificial haplotypes, and the imputation gain
include { shellQuote } from '../../functions'

process GENOSYNTH_IMPUTE_AUGMENT {
    tag "${meta.id} ${meta.model}"
    label 'process_medium'
    container "genosynth/impute-augment:${workflow.manifest.version}-cpu"

    input:
    tuple val(meta), path(panel, stageAs: 'panel/*'), path(synthetic), path(target, stageAs: 'target/*')
    val seed

    output:
    tuple val(meta), path("${prefix}/impute.json"), emit: json
    tuple val(meta), path("${prefix}/impute.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/augmented_panel.vcf.gz"), path("${prefix}/augmented_panel.vcf.gz.tbi"), emit: panel
    tuple val(meta), path("${prefix}/report.html"), emit: report
    tuple val("${task.process}"), val('genosynth'), eval('python3 -m genosynth.versions genosynth'), topic: versions, emit: versions_genosynth
    tuple val("${task.process}"), val('beagle'), eval('python3 -m genosynth.versions beagle'), topic: versions, emit: versions_beagle

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.imputation"
    def memory_args = task.memory ? "--memory ${task.memory.toMega().intdiv(5) * 4}m" : ''
    """
    genosynth-impute-augment --panel ${shellQuote(panel)} --synthetic ${shellQuote(synthetic)} --target ${shellQuote(target)} --threads ${task.cpus} ${memory_args} -o ${shellQuote(prefix)} --seed ${seed} ${args}
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.imputation"
    """
    mkdir -p ${shellQuote(prefix)}
    touch ${shellQuote(prefix)}/impute.json ${shellQuote(prefix)}/impute.tsv ${shellQuote(prefix)}/augmented_panel.vcf.gz ${shellQuote(prefix)}/augmented_panel.vcf.gz.tbi ${shellQuote(prefix)}/report.html
    """
}
