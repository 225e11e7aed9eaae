// Evaluate the ext.args each process gets from nextflow.config for one run, as Nextflow's strict config parser
// (25.04 on) resolves them: settings in file order, the chosen profiles' where the `profiles` block stands, in the
// order -profile lists them (the older parser takes them in the order the file declares them; the profile
// combinations tested set no option twice, so both orders agree); the run's own params (its `--name value`
// options) over the config's; a closure called with the final params; an `includeConfig 'FILE'` read in its place
// (FILE relative to the including file, as Nextflow resolves it). The config is read with Nextflow's own config
// parser (from the language server's jar); each value's source text is evaluated by Groovy. Prints JSON
// {process: args}.
//
//   java -cp language-server-all.jar groovy.ui.GroovyMain ext_args.groovy nextflow.config PROFILES PARAMS.json
//
// PROFILES: comma-separated, as -profile takes them ('' for none); PARAMS.json: {"name": value} given on the
// command line. With a fourth argument `--params`, prints the run's params instead ({name: value}, projectDir the
// config's folder), as validateParameters() receives them.
import groovy.json.JsonOutput
import groovy.json.JsonSlurper
import nextflow.config.ast.ConfigAssignNode
import nextflow.config.ast.ConfigBlockNode
import nextflow.config.ast.ConfigIncludeNode
import nextflow.config.control.ConfigParser

def config = new File(args[0]).absoluteFile
def profiles = args[1].tokenize(',')
def runParams = new JsonSlurper().parse(new File(args[2]))

// the source text of an expression of a config file
String source(expression, lines) {
    def text = lines[expression.lineNumber - 1..expression.lastLineNumber - 1]
    if (text.size() == 1) {
        return text[0].substring(expression.columnNumber - 1, expression.lastColumnNumber - 1)
    }
    text[0] = text[0].substring(expression.columnNumber - 1)
    text[-1] = text[-1].substring(0, expression.lastColumnNumber - 1)
    return text.join('\n')
}

// every assignment as [path, expression, the lines of its file], in file order, included files in their place; a
// profile's path starts with 'profiles', its name
def assignments = []
def read
read = { File file, path ->
    def lines = file.readLines()
    def walk
    walk = { statements, prefix ->
        statements.each { statement ->
            if (statement instanceof ConfigBlockNode) {
                walk(statement.statements, prefix + [(statement.kind ? "${statement.kind}:" : '') + statement.name])
            } else if (statement instanceof ConfigAssignNode) {
                assignments << [prefix + statement.names, statement.value, lines]
            } else if (statement instanceof ConfigIncludeNode) {
                def included = new GroovyShell().evaluate(source(statement.source, lines)).toString()
                read(new File(file.parentFile, included), prefix)
            }
        }
    }
    walk(new ConfigParser().parse(file).getAST().configStatements, path)
}
read(config, [])

// the settings that apply, in order: the chosen profiles' (their prefix removed) where the profiles block stands
profiles.each { profile ->
    if (!assignments.any { path, value, lines -> path[0] == 'profiles' && path[1] == profile }) {
        throw new IllegalArgumentException("no profile '${profile}' in ${config}")
    }
}
def scoped = []
assignments.eachWithIndex { assignment, index ->
    def path = assignment[0]
    if (path[0] != 'profiles') {
        scoped << assignment
    } else if (index == 0 || assignments[index - 1][0][0] != 'profiles') {  // a profiles block begins
        def block = assignments.drop(index).takeWhile { p, v, l -> p[0] == 'profiles' }
        profiles.each { profile ->
            scoped += block.findAll { p, v, l -> p[1] == profile }.collect { p, v, l -> [p.drop(2), v, l] }
        }
    }
}

def params = [:]
def shell = new GroovyShell(new Binding([params: params, projectDir: config.parentFile.path]))
scoped.findAll { path, value, lines -> path[0] == 'params' }.each { path, value, lines ->
    params[path[1]] = shell.evaluate(source(value, lines))
}
params.putAll(runParams)
if (args.size() > 3 && args[3] == '--params') {
    println JsonOutput.toJson(params.collectEntries { name, value -> [name, value instanceof GString ? value.toString() : value] })
    return
}

def extArgs = [:]
scoped.findAll { path, value, lines -> path.size() == 4 && path[0] == 'process' && path[1].startsWith('withName:')
                                       && path[2..3] == ['ext', 'args'] }.each { path, value, lines ->
    def args = shell.evaluate(source(value, lines))
    extArgs[path[1].substring('withName:'.length())] = (args instanceof Closure ? args.call() : args).toString()
}
println JsonOutput.toJson(extArgs)
