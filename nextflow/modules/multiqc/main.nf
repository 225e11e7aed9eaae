// MultiQC: one HTML report of the run from genosynth's custom content files (*_mqc.tsv, *_mqc.html, the software
// versions), with assets/multiqc_config.yml; the pipeline's last report
include { shellQuote } from '../../functions'

process MULTIQC {
    label 'process_single'
    container "genosynth/base:${workflow.manifest.version}-cpu"

    input:
    path multiqc_files, stageAs: 'mqc/*'
    path multiqc_config
    val title

    output:
    path "multiqc_report.html", emit: report
    path "multiqc_report_data", emit: data
    // not sent to the versions topic: the topic ends when every process sending to it has finished, and this report
    // waits for it (MultiQC states its own version in the report)
    tuple val("${task.process}"), val('multiqc'), eval('multiqc --version | sed "s/.* //"'), emit: versions_multiqc

    when:
    task.ext.when == null || task.ext.when

    script:
    def args = task.ext.args ?: ''
    def title_args = title ? "--title ${shellQuote(title)}" : ''
    """
    multiqc --force --no-ansi --config ${shellQuote(multiqc_config)} ${title_args} --filename multiqc_report.html ${args} .
    """

    stub:
    """
    mkdir multiqc_report_data
    touch multiqc_report.html
    """
}
