#!/usr/bin/env nextflow
/*
 * genosynth: phased VCF(s) + populations -> haplotype matrix with holdout -> the mosaic of the training haplotypes
 * (--models mosaic, the default: nothing trained) and/or GAN, RBM, diffusion models -> artificial genomes
 * -> evaluate + privacy-check + selection-scan + impute-augment -> published reports; the run fails at the end,
 * after every report is published, when a privacy gate failed.
 * --input is a samplesheet (chrom,vcf,index) of per-chromosome files, or --vcf one VCF/BCF (or the paper's .hapt with
 * --legend). Parameters and their defaults: nextflow.config; their descriptions and checks: nextflow_schema.json
 * (--help prints them). The last step gathers every chromosome's and model's fidelity and privacy figures and the
 * privacy gate's verdict into one MultiQC report. With --window_sites N or
 * --regions BED (LD blocks, say) each chromosome is cut into windows, every window is trained in parallel (each
 * model on its own GPU) conditioned on the --context_sites sites before it, and one sampling task per chromosome
 * and model chains the window models into one coherent artificial chromosome (VCF); evaluate and privacy-check
 * judge each chained chromosome.
 */
nextflow.enable.dsl = 2

include { samplesheetToList; validateParameters } from 'plugin/nf-schema'
include { checkParameterCombinations; fidelityMqc; gateFailure; privacyMqc; readRegions; versionsYaml } from './nextflow/functions'
include { GENOSYNTH_VCF_TO_MATRIX   } from './nextflow/modules/vcf_to_matrix/main'
include { GENOSYNTH_TRAIN_GAN       } from './nextflow/modules/train_gan/main'
include { GENOSYNTH_TRAIN_RBM       } from './nextflow/modules/train_rbm/main'
include { GENOSYNTH_TRAIN_DIFFUSION } from './nextflow/modules/train_diffusion/main'
include { GENOSYNTH_SAMPLE          } from './nextflow/modules/sample/main'
include { GENOSYNTH_EVALUATE        } from './nextflow/modules/evaluate/main'
include { GENOSYNTH_PRIVACY_CHECK   } from './nextflow/modules/privacy_check/main'
include { GENOSYNTH_SELECTION_SCAN  } from './nextflow/modules/selection_scan/main'
include { GENOSYNTH_IMPUTE_AUGMENT  } from './nextflow/modules/impute_augment/main'
include { GENOSYNTH_INFER_DEMOGRAPHY } from './nextflow/modules/infer_demography/main'
include { PRIVACY_GATE              } from './nextflow/modules/privacy_gate/main'
include { MULTIQC                   } from './nextflow/modules/multiqc/main'

workflow {
    validateParameters()
    def models = checkParameterCombinations(params)
    def populations = params.populations ? [file(params.populations, checkIfExists: true)] : []

    // one entry per input file: [chromosome or null, vcf, index or [], legend or []]; nf-schema reads a chromosome
    // that looks like a number as one (22), so it is made a name again
    def inputs = params.input
        ? samplesheetToList(params.input, "${projectDir}/assets/schema_input.json")
            .collect { row -> [row[0].chrom.toString(), row[1], row[2], []] }
        : [[null, file(params.vcf, checkIfExists: true),
            ["${params.vcf}.tbi", "${params.vcf}.csi"].collect { name -> file(name) }.findAll { f -> f.exists() },
            params.legend ? [file(params.legend, checkIfExists: true)] : []]]
    def window_starts = []
    if (params.regions) {
        def regions = readRegions(params.regions)   // checked line by line before any task starts
        def chromosomes = inputs.collect { entry -> entry[0] }
        def orphan = chromosomes.contains(null) ? null : regions.find { region -> !chromosomes.contains(region.chrom) }
        if (orphan) {
            error("genosynth: --regions: region ${orphan.region} lies on chromosome ${orphan.chrom}, which no --input row holds")
        }
        window_starts = [file(params.regions)]
    }
    def tasks = inputs.collect { chrom, vcf, index, legend -> [[id: chrom ?: 'genome', region: chrom], vcf, index, legend] }

    GENOSYNTH_VCF_TO_MATRIX(channel.fromList(tasks), populations, params.holdout, params.seed, window_starts,
                            params.window_sites ?: '')
    ch_matrix = GENOSYNTH_VCF_TO_MATRIX.out.matrix
    ch_holdout = GENOSYNTH_VCF_TO_MATRIX.out.holdout
    ch_data = ch_matrix.join(ch_holdout)   // [meta, matrix, holdout] per input file

    // what is trained: every window of every chromosome, or each input file whole
    ch_train = ch_data.map { meta, matrix, holdout ->
        [meta + [chromosome: meta.id, window: null, window_index: 0, n_windows: 1], matrix, holdout]
    }
    if (params.regions || params.window_sites) {
        ch_train = GENOSYNTH_VCF_TO_MATRIX.out.windows
            .join(ch_data)
            .flatMap { meta, bed, matrix, holdout ->
                def windows = readRegions(bed)
                windows.withIndex().collect { window, index ->
                    [meta + [id: window.id, chromosome: meta.id, window: window.region, window_index: index,
                             n_windows: windows.size()], matrix, holdout]
                }
            }
    }

    ch_models = channel.empty()
    if (models.contains('gan')) {
        GENOSYNTH_TRAIN_GAN(ch_train, params.seed, params.context_sites)
        ch_models = ch_models.mix(GENOSYNTH_TRAIN_GAN.out.model.map { meta, model -> [meta + [model: 'gan'], model] })
    }
    if (models.contains('rbm')) {
        GENOSYNTH_TRAIN_RBM(ch_train, params.seed, params.context_sites)
        ch_models = ch_models.mix(GENOSYNTH_TRAIN_RBM.out.model.map { meta, model -> [meta + [model: 'rbm'], model] })
    }
    if (models.contains('diffusion')) {
        GENOSYNTH_TRAIN_DIFFUSION(ch_train, params.seed, params.context_sites)
        ch_models = ch_models.mix(GENOSYNTH_TRAIN_DIFFUSION.out.model.map { meta, model -> [meta + [model: 'diffusion'], model] })
    }

    // one chain per chromosome and model, its windows in order; it starts once its last window is trained; the mosaic
    // baseline trains nothing: it copies each chromosome's training matrix
    ch_mosaic = models.contains('mosaic')
        ? ch_data.map { meta, matrix, holdout -> [[id: meta.id, model: 'mosaic'], [matrix]] }
        : channel.empty()
    ch_chains = ch_models
        .map { meta, model -> [groupKey("${meta.chromosome}\t${meta.model}", meta.n_windows), [meta.window_index, model]] }
        .groupTuple()
        .map { key, windows ->
            def fields = key.toString().tokenize('\t')
            [[id: fields[0], model: fields[1]], windows.sort { a, b -> a[0] <=> b[0] }.collect { window -> window[1] }]
        }
    GENOSYNTH_SAMPLE(ch_chains.mix(ch_mosaic), params.haplotypes, params.seed)
    ch_artificial = GENOSYNTH_SAMPLE.out.vcf   // [meta with model, vcf, tbi], one per chromosome and model

    // per chromosome: real, holdout and every model's artificial set
    ch_real = ch_data.map { meta, real, holdout -> [meta.id, meta, real, holdout] }
    ch_by_chromosome = ch_artificial.map { meta, ag, tbi -> [meta.id, meta.model, ag] }.groupTuple()
    GENOSYNTH_EVALUATE(
        ch_real.join(ch_by_chromosome).map { id, meta, real, holdout, names, ags -> [meta, real, holdout, names, ags] },
        params.seed)

    // per chromosome and model: the privacy gate's figures (a failed gate fails the run at the end, below)
    ch_each = ch_artificial.map { meta, ag, tbi -> [meta.id, meta, ag] }
        .combine(ch_real, by: 0)
        .map { id, meta, ag, real_meta, real, holdout -> [meta, real, holdout, ag] }
    GENOSYNTH_PRIVACY_CHECK(ch_each, params.seed)
    ch_finished = GENOSYNTH_EVALUATE.out.json.mix(GENOSYNTH_PRIVACY_CHECK.out.json)

    if (params.selection_target) {
        GENOSYNTH_SELECTION_SCAN(
            ch_each.map { meta, real, holdout, ag -> [meta, real, ag] },
            params.selection_target, params.selection_versus ?: '', params.selection_outgroup ?: '',
            params.selection_methods ?: '')
        ch_finished = ch_finished.mix(GENOSYNTH_SELECTION_SCAN.out.json)
    }
    if (params.demography_models) {
        // model choice needs population labels on the artificial genomes: the conditioned GAN's and diffusion's
        GENOSYNTH_INFER_DEMOGRAPHY(
            ch_each.filter { meta, real, holdout, ag -> meta.model in ['gan', 'diffusion'] }
                .map { meta, real, holdout, ag -> [meta, real, ag] },
            params.demography_models)
        ch_finished = ch_finished.mix(GENOSYNTH_INFER_DEMOGRAPHY.out.json)
    }
    if (params.impute_panel) {
        def panel = file(params.impute_panel, checkIfExists: true)
        def target = file(params.impute_target, checkIfExists: true)
        GENOSYNTH_IMPUTE_AUGMENT(ch_artificial.map { meta, ag, tbi -> [meta, panel, ag, target] }, params.seed)
        ch_finished = ch_finished.mix(GENOSYNTH_IMPUTE_AUGMENT.out.json)
    }

    // gather: the metrics of every chromosome in one table
    GENOSYNTH_EVALUATE.out.tsv
        .map { meta, tsv ->
            def lines = tsv.text.readLines()
            (["chromosome\t${lines[0]}"] + lines.drop(1).collect { line -> "${meta.id}\t${line}" }).join('\n') + '\n'
        }
        .collectFile(name: 'metrics_by_chromosome.tsv', storeDir: "${params.outdir}/summary", keepHeader: true, skip: 1, sort: true)

    // the report: every chromosome's and model's fidelity and privacy figures and the gate's verdict (MultiQC custom
    // content), with the software versions; it waits for every report, so it is the last task to finish
    // (MULTIQC itself sends no version to the topic: the topic ends when every process sending to it has finished,
    // and the report waits for it)
    ch_versions = channel.topic('versions').unique().toList().map { entries -> versionsYaml(entries) }
    ch_versions.collectFile(name: 'software_versions.yml', storeDir: "${params.outdir}/pipeline_info")
    ch_multiqc_files = GENOSYNTH_EVALUATE.out.tsv.toList().flatMap { evaluations -> fidelityMqc(evaluations) }
        .mix(GENOSYNTH_PRIVACY_CHECK.out.json.toList().flatMap { checks -> privacyMqc(checks) })
        .mix(ch_versions.map { text -> ['genosynth_software_mqc_versions.yml', text] })
        .collectFile { name_and_text -> name_and_text }
    MULTIQC(ch_multiqc_files.collect(), file("${projectDir}/assets/multiqc_config.yml", checkIfExists: true),
            params.multiqc_title ?: '')

    // the privacy verdict comes last: every other report is done, so a failed gate stops nothing half-way
    PRIVACY_GATE(
        GENOSYNTH_PRIVACY_CHECK.out.gate.map { meta, verdict -> gateFailure(meta, verdict) }
            .filter { line -> line != null }.toList(),
        ch_finished.mix(MULTIQC.out.report).count().combine(GENOSYNTH_PRIVACY_CHECK.out.json.count())
            .map { finished, checked -> checked })
}
