# genosynth: `make demo` runs the pipeline end to end on simulated data; `make test` runs the test suite.
# Both bootstrap .venv (torch first, the local CPU build) and the Debian packages they need.

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
DEBIAN_PACKAGES := beagle minimac4 tabix bcftools default-jre-headless
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: demo test bench system-packages clean

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

test: $(STAMP) system-packages
	$(PY) -m pytest

bench: $(STAMP) system-packages
	$(PY) bench/vcf_to_matrix.py
	$(PY) bench/evaluate.py
	$(PY) bench/models.py throughput
	$(PY) bench/models.py fidelity --max-time 20m

clean:
	rm -rf $(VENV) demo-output .pytest_cache
