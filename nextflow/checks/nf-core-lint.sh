#!/usr/bin/env bash
# nf-core's module and pipeline lint (nf-core/tools from PyPI, in its own environment) on a copy of the repository
# laid out as nf-core expects (modules under modules/local/), where Nextflow is not installed: `nextflow config`
# is answered from Nextflow's own config parser (config_json.groovy), and the two checks that fetch from the web
# (files_unchanged, actions_schema_validation) are turned off. Findings and what was done about each:
# docs/pipeline-verification.md. Exits 0 whatever the lint finds (a report, not a gate).
#
#   nextflow/checks/nf-core-lint.sh VENV JAR       (make nf-core-lint)
# NF_CORE_MODULES_REPO: a local clone of nf-core/modules to use instead of fetching it.
set -euo pipefail
VENV=$(realpath "$1") JAR=$(realpath "$2")
REPO=$(cd "$(dirname "$0")/../.." && pwd)
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
mkdir -p "$WORK/bin" "$WORK/pipeline/modules/local" "$WORK/config/nfcore/nf-core" "$WORK/cache/nfcore/nf-core"
cat > "$WORK/bin/nextflow" <<STANDIN
#!/bin/bash
# stand-in: \`nextflow -version\` and \`nextflow config [-o json] DIR\` only
case "\$1" in
  -version|-v) echo "nextflow version 25.04.0"; exit 0;;
  config) dir="\${@: -1}"; [ -f "\$dir/nextflow.config" ] || { echo '{}'; exit 0; }
          exec java -cp "$JAR" groovy.ui.GroovyMain "$REPO/nextflow/checks/config_json.groovy" "\$dir/nextflow.config";;
  *) echo "stand-in nextflow: \$* is not available" >&2; exit 1;;
esac
STANDIN
chmod +x "$WORK/bin/nextflow"
git -C "$REPO" archive HEAD | tar -x -C "$WORK/pipeline"
for module in "$WORK"/pipeline/nextflow/modules/*/; do
    cp -r "$module" "$WORK/pipeline/modules/local/"
done
sed -i "s#'../../functions'#'../../../nextflow/functions'#" "$WORK"/pipeline/modules/local/*/main.nf
printf 'repository_type: pipeline\nnf_core_version: 4.2.1\nlint:\n  files_unchanged: false\n  actions_schema_validation: false\n' > "$WORK/pipeline/.nf-core.yml"
if [ -n "${NF_CORE_MODULES_REPO:-}" ]; then
    for home in config cache; do git clone -q "$NF_CORE_MODULES_REPO" "$WORK/$home/nfcore/nf-core/modules"; done
fi
cd "$WORK/pipeline"
git init -q && git add -A && git -c user.name=lint -c user.email=lint@localhost commit -q -m lint
export PATH="$WORK/bin:$PATH" XDG_CONFIG_HOME="$WORK/config" XDG_CACHE_HOME="$WORK/cache" NXF_HOME="$WORK/nxf"
"$VENV/bin/nf-core" modules lint --dir . --all --local < /dev/null || true
"$VENV/bin/nf-core" pipelines lint --dir . < /dev/null || true
