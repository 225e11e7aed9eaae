// Evaluate a Groovy expression with the pipeline's functions (nextflow/functions.nf) defined, Nextflow's `file` and
// `error` standing in for the real ones; print the result as JSON, or `error: MESSAGE` when it called error().
//
//   java -cp language-server-all.jar groovy.ui.GroovyMain call.groovy FUNCTIONS.nf 'readRegions("x.bed")'
import groovy.json.JsonOutput

class PipelineError extends RuntimeException {
    PipelineError(String message) { super(message) }
}

def plain(value) {
    if (value instanceof Map) { return value.collectEntries { k, v -> [k.toString(), plain(v)] } }
    if (value instanceof Collection) { return value.collect { v -> plain(v) } }
    if (value instanceof GString) { return value.toString() }
    return value
}

def stubs = '''
def file(Map options, path) { new File(path.toString()) }
def file(path) { new File(path.toString()) }
def error(message) { throw new PipelineError(message.toString()) }
'''
def shell = new GroovyShell(this.class.classLoader)
try {
    def result = shell.evaluate(stubs + new File(args[0]).text + '\n' + args[1])
    println JsonOutput.toJson(plain(result))
} catch (PipelineError err) {
    println "error: ${err.message}"
}
