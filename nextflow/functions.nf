// Functions shared by main.nf and the modules: shell quoting of every value that reaches a task script, and the
// checks that stop a run early with one line (regions BED, parameters the JSON schema cannot express), the
// privacy gate's line per failed region and model, and the software versions file.

// A value as one shell word: single-quoted, with any single quote inside it closed, escaped and reopened.
def shellQuote(value) {
    return "'" + value.toString().replace("'", "'\\''") + "'"
}

// The regions of a BED file (0-based start, exclusive end) as [id, region, chrom, start] maps; a bad line stops
// the run naming its line number.
def readRegions(path) {
    def lines = file(path, checkIfExists: true).readLines()
    def regions = lines.withIndex()
        .findAll { line, index -> line.trim() && !line.startsWith('#') && !line.startsWith('track') && !line.startsWith('browser') }
        .collect { line, index -> parseRegion(line, "genosynth: --regions ${path}: line ${index + 1}") }
    if (!regions) {
        error("genosynth: --regions ${path} lists no region")
    }
    return regions
}

def parseRegion(line, where) {
    def fields = line.tokenize('\t')
    if (fields.size() < 3) {
        error("${where}: expected at least 3 tab-separated fields (chromosome, start, end)")
    }
    if (!(fields[0] ==~ /[A-Za-z0-9_.]{1,64}/)) {
        error("${where}: chromosome name ${shellQuote(fields[0])} may hold only letters, digits, _ and .")
    }
    if (!(fields[1] ==~ /\d{1,12}/ && fields[2] ==~ /\d{1,12}/)) {
        error("${where}: start and end must be non-negative integers")
    }
    def start = fields[1].toLong()
    def end = fields[2].toLong()
    if (start >= end) {
        error("${where}: start ${start} must be less than end ${end}")
    }
    return [id: "${fields[0]}_${start + 1}_${end}", region: "${fields[0]}:${start + 1}-${end}", chrom: fields[0],
            start: start + 1]
}

// Checks across parameters that nextflow_schema.json cannot state; the first problem stops the run.
def checkParameterCombinations(params) {
    def models = params.models.tokenize(',').collect { model -> model.trim() }
    if ((params.input == null) == (params.vcf == null)) {
        error('genosynth: give --input (a samplesheet, one row per chromosome file) or --vcf (one file), not both')
    }
    def hapt = params.vcf != null && (params.vcf.endsWith('.hapt') || params.vcf.endsWith('.hapt.gz'))
    if (hapt != (params.legend != null)) {
        error(hapt ? 'genosynth: --vcf is a .hapt file: give its --legend' : 'genosynth: --legend goes with a .hapt --vcf')
    }
    if (params.selection_target) {
        // without selection_methods: XP-EHH, and PBS with an outgroup
        def statistics = !params.selection_methods || params.selection_methods.tokenize(',').any { method -> method == 'xpehh' || method == 'pbs' }
        def pbs = params.selection_methods && params.selection_methods.tokenize(',').contains('pbs')
        if (!params.selection_versus && statistics) {
            error('genosynth: --selection_target needs --selection_versus for XP-EHH and PBS (or --selection_methods cnn)')
        }
        if (pbs && !params.selection_outgroup) {
            error('genosynth: --selection_methods pbs needs --selection_outgroup')
        }
        if (!params.populations) {
            error('genosynth: --selection_target scans population-labelled artificial genomes: give --populations')
        }
        if (models.contains('rbm')) {
            error('genosynth: --selection_target needs artificial genomes labelled by population, which a GAN or diffusion model conditioned on population gives (the RBM cannot): use --models gan and/or diffusion')
        }
    }
    if (params.regions && params.window_sites) {
        error('genosynth: --regions and --window_sites both cut chromosomes into windows: give one')
    }
    if ((params.impute_panel == null) != (params.impute_target == null)) {
        error('genosynth: --impute_panel and --impute_target go together')
    }
    return models
}

// The line a failed privacy gate contributes to the run's final error (from the report's gate.txt, "passed" or
// "failed: ..."), or null when it passed.
def gateFailure(meta, verdict) {
    def text = verdict.text.trim()
    return text == 'passed' ? null : "${meta.id}, model ${meta.model}: ${text}"
}

// software_versions.yml from the (process, tool, version) tuples of the `versions` topic, processes and tools sorted.
def versionsYaml(entries) {
    def processes = entries.collect { entry -> entry[0].tokenize(':')[-1] }.unique().sort()
    return processes.collect { process ->
        def tools = entries.findAll { entry -> entry[0].tokenize(':')[-1] == process }.sort { entry -> entry[1] }
        (["${process}:"] + tools.collect { entry -> "    ${entry[1]}: \"${entry[2]}\"" }).join('\n')
    }.join('\n') + '\n'
}

// MultiQC custom content (files named *_mqc.*) from evaluate's metrics.tsv per chromosome, as [file name, text]
// pairs: a fidelity table of every set (the models' and the held-out real haplotypes') and its headline figures in
// the general statistics. A row is named "chromosome set".
def fidelityMqc(evaluations) {
    def names = ['n_haplotypes', 'af_r', 'ld_r', 'boundary_ld_r', 'w2d_pca', 'aats']
    def titles = ['Haplotypes', 'AF r', 'LD r', 'LD r across windows', 'PCA W2 distance', 'AATS']
    def rows = evaluations.sort { entry -> entry[0].id.toString() }.collectMany { entry ->
        def lines = entry[1].text.readLines().findAll { line -> line.trim() }
        def header = lines ? lines[0].split('\t', -1).toList() : []
        lines.drop(1).collect { line ->
            def fields = line.split('\t', -1).toList()
            ["${entry[0].id} ${tsvField(header, fields, 'set')}".toString()] + names.collect { name -> tsvField(header, fields, name) }
        }
    }
    def table = mqcHeader('genosynth_fidelity', 'Fidelity', 'table', names, titles,
        'How closely each set reproduces the real training haplotypes, per chromosome (genosynth evaluate): allele-frequency and LD correlations, the Wasserstein distance of PCA projections, the nearest-neighbour adversarial accuracy (AATS, 0.5 ideal).')
    def general = mqcHeader('genosynth_fidelity_general', 'Fidelity', 'generalstats', ['af_r', 'ld_r'], ['AF r', 'LD r'], '')
    return [
        mqcFile('genosynth_fidelity_mqc.tsv', table + mqcRows(['Sample'] + names, rows)),
        mqcFile('genosynth_fidelity_general_stats_mqc.tsv', general + mqcRows(['Sample', 'af_r', 'ld_r'], rows.collect { row -> [row[0], row[2], row[3]] })),
    ]
}

// MultiQC custom content from privacy-check's privacy.json per chromosome and model: the privacy table, its
// headline figures in the general statistics, and the privacy gate's verdict as an HTML section.
def privacyMqc(checks) {
    def names = ['privacy_loss', 'privacy_loss_se', 'exact_copies', 'near_copies', 'mia_auc', 'gate']
    def titles = ['Privacy loss', 'Privacy loss SE', 'Exact copies', 'Near copies', 'MIA AUC', 'Gate']
    def rows = []
    def general_rows = []
    def failures = []
    checks.sort { entry -> "${entry[0].id} ${entry[0].model}".toString() }.each { entry ->
        def name = "${entry[0].id} ${entry[0].model}".toString()
        def report = new groovy.json.JsonSlurper().parseText(entry[1].text)
        def passed = report.gate != null && report.gate.passed == true
        def verdict = passed ? 'passed' : 'failed'
        rows << [name] + names.take(5).collect { key -> mqcValue(report[key]) } + [verdict]
        general_rows << [name, mqcValue(report.privacy_loss), verdict]
        if (!passed) {
            failures << "<li>${htmlEscape(name)}: ${htmlEscape((report.gate?.failures ?: ['no verdict']).join('; '))}</li>".toString()
        }
    }
    def summary = failures
        ? "<p><strong>Privacy gate failed</strong> for ${failures.size()} of ${rows.size()} artificial sets; the run stops with an error after every report is published:</p>\n<ul>\n${failures.join('\n')}\n</ul>\n"
        : "<p><strong>Privacy gate passed</strong> for all ${rows.size()} artificial sets.</p>\n"
    def table = mqcHeader('genosynth_privacy', 'Privacy', 'table', names, titles,
        'Whether each artificial set gives away its training haplotypes (genosynth privacy-check): privacy loss (AATS against held-out minus against training haplotypes), exact and near copies of training haplotypes, membership-inference ROC AUC (0.5: no signal), and the gate.')
    def general = mqcHeader('genosynth_privacy_general', 'Privacy', 'generalstats', ['privacy_loss', 'gate'],
                            ['Privacy loss', 'Privacy gate'], '')
    def gate = "<!--\nid: 'genosynth_privacy_gate'\nsection_name: 'Privacy gate'\ndescription: 'The verdict of the run: every artificial set of every chromosome and model against the limits given (--max_privacy_loss, --max_exact_copies, --max_mia_auc).'\n-->\n"
    return [
        mqcFile('genosynth_privacy_mqc.tsv', table + mqcRows(['Sample'] + names, rows)),
        mqcFile('genosynth_privacy_general_stats_mqc.tsv', general + mqcRows(['Sample', 'privacy_loss', 'gate'], general_rows)),
        mqcFile('genosynth_privacy_gate_mqc.html', gate + summary),
    ]
}

// The commented YAML header of a MultiQC custom content table: its section, plot type and column titles, figures
// shown to 3 decimals except counts (and the gate's words).
def mqcHeader(id, section, plotType, names, titles, description) {
    def counts = ['n_haplotypes', 'exact_copies', 'near_copies', 'gate']
    def lines = ["id: '${id}'", "section_name: '${section}'"]
    lines += description ? ["description: '${description.replace("'", "''")}'"] : []
    lines += ["plot_type: '${plotType}'", 'pconfig:', "    id: '${id}_table'", "    namespace: 'genosynth'", 'headers:']
    lines += names.withIndex().collectMany { name, i ->
        ["    ${name}:", "        title: '${titles[i]}'"] + (name in counts ? [] : ["        format: '{:,.3f}'"])
    }
    return lines.collect { line -> "# ${line}" }.join('\n') + '\n'
}

// One custom content file for collectFile: [name, text].
def mqcFile(name, text) {
    return [name, text]
}

// Tab-separated rows under a header row; a tab or line break inside a value would shift the columns: made a blank.
def mqcRows(header, rows) {
    return ([header] + rows).collect { row -> row.collect { value -> value.toString().replaceAll(/[\t\r\n]/, ' ') }.join('\t') }.join('\n') + '\n'
}

// The field of a tab-separated line under the column named so, as mqcValue gives it ('' when no such column).
def tsvField(header, fields, name) {
    def column = header.indexOf(name)
    return column >= 0 && column < fields.size() ? mqcValue(fields[column]) : ''
}

// A figure as MultiQC reads it: numbers as they are, a missing one ("NA", null) as an empty cell.
def mqcValue(value) {
    return value == null || value.toString() in ['NA', 'nan', 'NaN', ''] ? '' : value.toString()
}

def htmlEscape(text) {
    return text.toString().replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;').replace('"', '&quot;')
}
