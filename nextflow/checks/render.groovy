// Render one module's task as Nextflow would, without Nextflow: evaluate the process's `script:` block (its Groovy
// lines and the GString they end in; the `stub:` block when BINDINGS.json has "stub": true, as `-stub-run` does)
// with the given task, meta, inputs and params, then its output patterns and `eval` commands in the same context. Prints JSON: script, outputs (emit -> [patterns, optional]), stage_as
// (input -> name it is staged under), evals (emit -> command).
//
//   java -cp language-server-all.jar groovy.ui.GroovyMain render.groovy MODULE.nf BINDINGS.json
//
// BINDINGS.json: {"task": {...}, "params": {...}, "inputs": {name: value}}; a value {"file": "x.vcf.gz"} is a
// staged file (renders as its name, has .name/.baseName/.simpleName), {"files": [...]} a list of them (renders
// blank-separated, as Nextflow's multi-file inputs), {"memory_mb": N} a memory amount (toMega(), toGiga()).
import groovy.json.JsonOutput
import groovy.json.JsonSlurper

class StagedFile {
    String name
    String toString() { name }
    String getBaseName() { name.contains('.') ? name.substring(0, name.lastIndexOf('.')) : name }
    String getSimpleName() { name.tokenize('.')[0] }
    String getExtension() { name.contains('.') ? name.substring(name.lastIndexOf('.') + 1) : '' }
}

class StagedFiles extends ArrayList {
    String toString() { join(' ') }
}

class Memory {
    long mega
    long toMega() { mega }
    long toGiga() { mega.intdiv(1024) }
    long toBytes() { mega * 1024 * 1024 }
    String toString() { "${mega} MB" }
}

def convert(value) {
    if (value instanceof Map && value.containsKey('file')) {
        return new StagedFile(name: value.file)
    }
    if (value instanceof Map && value.containsKey('files')) {
        def files = new StagedFiles()
        value.files.each { name -> files << new StagedFile(name: name) }
        return files
    }
    if (value instanceof Map && value.containsKey('memory_mb')) {
        return new Memory(mega: value.memory_mb as long)
    }
    if (value instanceof Map) {
        return value.collectEntries { k, v -> [k, convert(v)] }
    }
    if (value instanceof List) {
        return value.collect { v -> convert(v) }
    }
    return value
}

def module = new File(args[0])
def bindings = new JsonSlurper().parse(new File(args[1]))
def text = module.text

// functions the module includes from other files (shell quoting) come first, as Nextflow links them
def functions = new StringBuilder()
(text =~ /(?m)^include\s*\{[^}]*\}\s*from\s*'([^']+)'/).each { match ->
    def included = new File(module.parentFile, match[1].endsWith('.nf') ? match[1] : match[1] + '.nf')
    functions << included.text.replaceAll(/(?m)^include .*$/, '') << '\n'
}
// and the module's own top-level functions
(text =~ /(?ms)^def \w+\(.*?^\}/).each { match -> functions << match << '\n' }

def section = { String name, String until ->
    def start = text.indexOf("\n    ${name}:\n")
    if (start < 0) { return '' }
    start += name.length() + 7
    def ends = until.tokenize('|').collect { marker -> text.indexOf("\n    ${marker}:\n", start) }.findAll { it > 0 }
    def end = ends ? ends.min() : text.lastIndexOf('\n}')
    return text.substring(start, end)
}

def context = new Binding(convert(bindings.inputs ?: [:]) + [task: convert(bindings.task ?: [:]),
                                                            params: convert(bindings.params ?: [:])])
def shell = new GroovyShell(context)
def script = shell.evaluate(functions.toString() + (bindings.stub ? section('stub', '') : section('script', 'stub'))).toString()

def outputs = [:]
def evals = [:]
section('output', 'when|script|exec').eachLine { line ->
    def emit = (line =~ /emit:\s*(\w+)/)
    if (!emit) { return }
    def name = emit[0][1]
    def patterns = (line =~ /path\((".*?"|'.*?')\)|^\s*path (".*?"|'.*?')/).collect { m -> shell.evaluate(m[1] ?: m[2]).toString() }
    outputs[name] = [patterns, line.contains('optional: true')]
    def command = (line =~ /eval\((".*?"|'.*?')\)/)
    if (command) { evals[name] = shell.evaluate(command[0][1]).toString() }
}
def stageAs = [:]
(section('input', 'output') =~ /path\((\w+),\s*stageAs:\s*'([^']+)'\)/).each { m -> stageAs[m[1]] = m[2] }

println JsonOutput.toJson([script: script, outputs: outputs, stage_as: stageAs, evals: evals])
