import java.nio.file.Paths
import nextflow.lsp.file.FileCache
import nextflow.lsp.services.LanguageServerConfiguration
import nextflow.lsp.services.config.ConfigAstCache
import nextflow.lsp.services.script.ScriptAstCache
import nextflow.lsp.spec.PluginSpecCache

def root = Paths.get(args[0]).toAbsolutePath()
def files = args.drop(1).collect { Paths.get(it).toAbsolutePath().toUri() }
def defaults = LanguageServerConfiguration.defaults()
// type checking on; plugin specs are not fetched from the web (a loopback address answers at once, and the
// pipeline's one plugin, nf-schema, adds no config scope it uses)
def conf = new LanguageServerConfiguration(defaults.dagDirection(), defaults.dagVerbose(), defaults.errorReportingMode(),
        defaults.excludePatterns(), defaults.extendedCompletion(), defaults.harshilAlignment(), defaults.maheshForm(),
        defaults.maxCompletionItems(), 'http://127.0.0.1:9/plugins/', defaults.sortDeclarations(), true)
def plugins = new PluginSpecCache(conf.pluginRegistryUrl())
def scripts = new ScriptAstCache(root.toUri().toString())
scripts.initialize(conf, plugins)
def configs = new ConfigAstCache()
configs.initialize(conf, plugins)
def fileCache = new FileCache()
def stderr = System.err  // the refused plugin-spec fetch prints a stack trace; the errors that matter come below
System.setErr(new PrintStream(OutputStream.nullOutputStream()))
try {
    scripts.update(files.findAll { !it.toString().endsWith('.config') } as Set, fileCache)
    configs.update(files.findAll { it.toString().endsWith('.config') } as Set, fileCache)
} finally {
    System.setErr(stderr)
}
int errors = 0
files.each { uri ->
    def cache = uri.toString().endsWith('.config') ? configs : scripts
    def rel = root.relativize(Paths.get(uri))
    cache.getErrors(uri).each { e -> errors++; println "${rel}:${e.getStartLine()}:${e.getStartColumn()}: error: ${e.getOriginalMessage()}" }
    cache.getWarnings(uri).each { w -> println "${rel}:${w.getContext()?.getStartLine() ?: 0}: warning: ${w.getMessage()}" }
}
println "checked ${files.size()} files: ${errors} errors"
System.exit(errors ? 1 : 0)
