// `nextflow config -o json` for nf-core's lint, where Nextflow is not installed: nextflow.config and the files it
// includes read with Nextflow's own config parser (the language server's jar), profiles left out; a value is given
// as Groovy evaluates it when it is a plain value (string, number, boolean, list or map of them), else as its
// source text (closures, memory and duration units).
//
//   java -cp language-server-all.jar groovy.ui.GroovyMain config_json.groovy nextflow.config
import nextflow.config.ast.*
import nextflow.config.control.ConfigParser
import groovy.json.JsonOutput
def config = new File(args[0]).absoluteFile
def root = [:]
String source(expression, lines) {
    def text = lines[expression.lineNumber - 1..expression.lastLineNumber - 1]
    if (text.size() == 1) { return text[0].substring(expression.columnNumber - 1, expression.lastColumnNumber - 1) }
    text[0] = text[0].substring(expression.columnNumber - 1)
    text[-1] = text[-1].substring(0, expression.lastColumnNumber - 1)
    return text.join('\n')
}
def params = [:]
def shell = new GroovyShell(new Binding([params: params, projectDir: config.parentFile.path]))
def put = { path, value ->
    def node = root
    if (path.size() > 1) { path[0..-2].each { k -> node = (node[k] = node[k] instanceof Map ? node[k] : [:]) } }
    node[path[-1]] = value
}
def read
read = { File file, path ->
    def lines = file.readLines()
    def walk
    walk = { statements, prefix ->
        statements.each { s ->
            if (s instanceof ConfigBlockNode) { if (s.name != 'profiles') walk(s.statements, prefix + [(s.kind ? "${s.kind}:" : '') + s.name]) }
            else if (s instanceof ConfigAssignNode) {
                def src = source(s.value, lines)
                def value
                try { value = shell.evaluate(src); if (value instanceof Closure || !(value == null || value instanceof Number || value instanceof CharSequence || value instanceof Boolean || value instanceof List || value instanceof Map)) value = src; if (value instanceof List || value instanceof Map) { try { JsonOutput.toJson(value) } catch (Throwable e2) { value = src } }; if (value instanceof GString) value = value.toString() } catch (Throwable e) { value = src }
                def full = prefix + s.names
                if (full[0] == 'params') params[full[1]] = value
                put(full, value)
            }
            else if (s instanceof ConfigIncludeNode) { def f = null; try { f = new File(file.parentFile, shell.evaluate(source(s.source, lines)).toString()) } catch (Throwable e) { }; if (f != null && f.isFile()) read(f, prefix) }
        }
    }
    walk(new ConfigParser().parse(file).getAST().configStatements, path)
}
read(config, [])
println JsonOutput.toJson(root)
