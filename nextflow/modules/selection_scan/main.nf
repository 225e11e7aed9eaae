// genosynth selection-scan: XP-EHH/PBS of a target population, real and artificial
process GENOSYNTH_SELECTION_SCAN {
    tag "$meta.id"
    label 'process_medium'
    container "genosynth/selection-scan:0.2.0"

    input:
    tuple val(meta), path(matrix), path(synthetic)
    val target
    val versus
    val outgroup

    output:
    tuple val(meta), path("${prefix}/summary.json"), emit: json
    tuple val(meta), path("${prefix}/*.tsv"), emit: tsv
    tuple val(meta), path("${prefix}/report.html"), emit: report
    path "versions.yml", emit: versions

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    def outgroup_args = outgroup ? "--outgroup ${outgroup}" : ''
    """
    genosynth-selection-scan ${matrix} --target ${target} --versus ${versus} ${outgroup_args} --synthetic ${synthetic} -o ${prefix} ${args}
    python3 -m genosynth.versions "${task.process}" > versions.yml
    """

    stub:
    prefix = task.ext.prefix ?: "${meta.id}.${meta.model}.selection"
    """
    mkdir -p ${prefix}
    touch ${prefix}/summary.json ${prefix}/xpehh.tsv ${prefix}/report.html versions.yml
    """
}
