#!/usr/bin/env nextflow
/*
 * genosynth: phased VCF + populations -> haplotype matrix with holdout -> GAN and/or RBM -> artificial genomes
 * -> evaluate + privacy-check (gate) + selection-scan + impute-augment -> published reports.
 * With --regions BED the chain is scattered over the regions (each trained on its own GPU) and gathered:
 * per-region metrics tables and one concatenated artificial-genome VCF per model.
 */
nextflow.enable.dsl = 2

include { GENOSYNTH_VCF_TO_MATRIX  } from './nextflow/modules/vcf_to_matrix/main'
include { GENOSYNTH_TRAIN_GAN      } from './nextflow/modules/train_gan/main'
include { GENOSYNTH_TRAIN_RBM      } from './nextflow/modules/train_rbm/main'
include { GENOSYNTH_SAMPLE         } from './nextflow/modules/sample/main'
include { GENOSYNTH_EVALUATE       } from './nextflow/modules/evaluate/main'
include { GENOSYNTH_PRIVACY_CHECK  } from './nextflow/modules/privacy_check/main'
include { GENOSYNTH_SELECTION_SCAN } from './nextflow/modules/selection_scan/main'
include { GENOSYNTH_IMPUTE_AUGMENT } from './nextflow/modules/impute_augment/main'
include { CONCAT_VCF               } from './nextflow/modules/concat_vcf/main'

params.input            = null      // phased VCF/BCF, bgzipped and indexed (.tbi or .csi beside it)
params.populations      = null      // TSV: sample, population
params.outdir           = 'results'
params.models           = 'gan,rbm' // which generators to train: gan, rbm or both
params.holdout          = 0.2       // fraction of individuals held out for privacy-check and evaluate
params.haplotypes       = 5000      // artificial haplotypes drawn per model and region
params.regions          = null      // BED of regions (e.g. LD blocks): one model per region
params.selection_target = null      // population scanned by selection-scan (needs selection_versus)
params.selection_versus = null
params.selection_outgroup = null
params.impute_panel     = null      // real reference panel VCF for impute-augment (needs impute_target)
params.impute_target    = null

workflow {
    if (!params.input) {
        error "genosynth: --input VCF is required (see nextflow_schema.json)"
    }
    def vcf = file(params.input, checkIfExists: true)
    // the index is staged when present (needed with --regions), absent otherwise
    def index = [file("${params.input}.tbi"), file("${params.input}.csi")].findAll { candidate -> candidate.exists() }
    def populations = params.populations ? [file(params.populations, checkIfExists: true)] : []

    ch_regions = params.regions
        ? channel.fromPath(params.regions, checkIfExists: true)
            .splitText()
            .map { line -> (line as String).trim() }
            .filter { line -> line && !line.startsWith('#') && !line.startsWith('track') && !line.startsWith('browser') }
            .map { line ->
                def fields = line.tokenize('\t')
                def start = fields[1].toLong() + 1
                [id: "${fields[0]}_${start}_${fields[2]}", region: "${fields[0]}:${start}-${fields[2]}", chrom: fields[0], start: start]
            }
        : channel.of([id: 'genome', region: null, chrom: '', start: 0L])

    GENOSYNTH_VCF_TO_MATRIX(ch_regions.map { meta -> tuple(meta, vcf, index) }, populations, params.holdout)
    ch_matrix = GENOSYNTH_VCF_TO_MATRIX.out.matrix
    ch_holdout = GENOSYNTH_VCF_TO_MATRIX.out.holdout

    def models = (params.models as String).tokenize(',').collect { name -> name.trim() }
    ch_models = channel.empty()
    if (models.contains('gan')) {
        GENOSYNTH_TRAIN_GAN(ch_matrix)
        ch_models = ch_models.mix(GENOSYNTH_TRAIN_GAN.out.model.map { meta, model -> [meta + [model: 'gan'], model] })
    }
    if (models.contains('rbm')) {
        GENOSYNTH_TRAIN_RBM(ch_matrix)
        ch_models = ch_models.mix(GENOSYNTH_TRAIN_RBM.out.model.map { meta, model -> [meta + [model: 'rbm'], model] })
    }

    GENOSYNTH_SAMPLE(ch_models, params.haplotypes)
    ch_artificial = GENOSYNTH_SAMPLE.out.vcf   // [meta with model, vcf, tbi]

    // per region: real, holdout and every model's artificial set
    ch_real = ch_matrix.join(ch_holdout).map { meta, real, holdout -> [meta.id, meta, real, holdout] }
    ch_by_region = ch_artificial.map { meta, ag, tbi -> [meta.id, ag] }.groupTuple()
    GENOSYNTH_EVALUATE(ch_real.join(ch_by_region).map { id, meta, real, holdout, ags -> [meta, real, holdout, ags] })

    // per region and model: the privacy gate (exit 2 fails the run unless task.ext / errorStrategy says otherwise)
    ch_each = ch_artificial.map { meta, ag, tbi -> [meta.id, meta, ag] }
        .combine(ch_real, by: 0)
        .map { id, meta, ag, region_meta, real, holdout -> [meta, real, holdout, ag] }
    GENOSYNTH_PRIVACY_CHECK(ch_each)

    if (params.selection_target && params.selection_versus) {
        GENOSYNTH_SELECTION_SCAN(
            ch_each.map { meta, real, holdout, ag -> [meta, real, ag] },
            params.selection_target, params.selection_versus, params.selection_outgroup ?: '')
    }
    if (params.impute_panel && params.impute_target) {
        def panel = file(params.impute_panel, checkIfExists: true)
        def target = file(params.impute_target, checkIfExists: true)
        GENOSYNTH_IMPUTE_AUGMENT(ch_artificial.map { meta, ag, tbi -> [meta, panel, ag, target] })
    }

    // gather: metrics of every region in one table, one genome-wide artificial VCF per model
    GENOSYNTH_EVALUATE.out.tsv
        .map { meta, tsv ->
            def lines = tsv.text.readLines()
            (["region\t${lines[0]}"] + lines.drop(1).collect { line -> "${meta.id}\t${line}" }).join('\n') + '\n'
        }
        .collectFile(name: 'metrics_by_region.tsv', storeDir: "${params.outdir}/summary", keepHeader: true, skip: 1, sort: true)
    CONCAT_VCF(
        ch_artificial
            .map { meta, ag, tbi -> [meta.model, [meta.chrom, meta.start, ag, tbi]] }
            .groupTuple()
            .map { model, parts ->
                // regions in genome order: bcftools concat needs its inputs sorted
                def ordered = parts.sort { a, b -> a[0] <=> b[0] ?: a[1] <=> b[1] }
                [model, ordered.collect { part -> part[2] }, ordered.collect { part -> part[3] }]
            })
}
