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
