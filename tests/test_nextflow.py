"""The Nextflow pipeline without Nextflow: lint with Nextflow's own language server (type checking on), the
structure main.nf relies on, the parameter schema, and every module's script block rendered with test values
and run on tiny data in workflow order, its declared outputs checked."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genosynth import __version__
from genosynth.cli import STEPS

REPO = Path(__file__).resolve().parents[1]
MODULES = REPO / "nextflow" / "modules"
JAR = Path(os.environ.get("GENOSYNTH_NF_LANGUAGE_SERVER", REPO / ".nextflow-tools" / "language-server-all.jar"))
PIPELINE_STEPS = [s for s in STEPS if s != "export"]
GPU_PROCESSES = {"GENOSYNTH_TRAIN_GAN", "GENOSYNTH_TRAIN_RBM", "GENOSYNTH_SAMPLE"}
TEST_DATA = REPO / "galaxy_wrappers" / "test-data"


def _module_text(name: str) -> str:
    return (MODULES / name / "main.nf").read_text()


def _process(text: str) -> dict:
    """Name, labels, container, emits (name -> declaration) and the script/stub of a module's one process."""
    emits = {m.group(2): m.group(1).strip() for m in re.finditer(r"^\s+(.*?), emit: (\w+)", text, re.M)}
    script = re.search(r'script:\n(.*?)\n\s*"""\n(.*?)\n\s*"""\n', text, re.S)
    return {
        "name": re.findall(r"^process (\w+)", text, re.M),
        "labels": re.findall(r"^\s+label '(\w+)'", text, re.M),
        "container": re.findall(r'^\s+container "([^"]+)"', text, re.M),
        "emits": emits,
        "script_defs": script.group(1),
        "script": script.group(2),
        "stub": "stub:" in text,
    }


def test_lint_with_the_nextflow_language_server():
    if shutil.which("java") is None or not JAR.is_file():
        pytest.fail(f"needs java and {JAR}: run 'make test', which fetches the pinned language server")
    files = ["main.nf", *sorted(str(p.relative_to(REPO)) for p in MODULES.glob("*/main.nf")), "nextflow.config"]
    result = subprocess.run(["java", "-cp", str(JAR), "groovy.ui.GroovyMain", "nextflow/lint/check.groovy", ".", *files],
                            cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0 and f"checked {len(files)} files: 0 errors" in result.stdout, result.stdout + result.stderr


def test_lint_catches_an_undefined_process(tmp_path):
    if shutil.which("java") is None or not JAR.is_file():
        pytest.fail(f"needs java and {JAR}: run 'make test'")
    broken = tmp_path / "broken.nf"
    broken.write_text("workflow {\n    GENOSYNTH_MISSING(channel.of(1))\n}\n")
    result = subprocess.run(["java", "-cp", str(JAR), "groovy.ui.GroovyMain", str(REPO / "nextflow/lint/check.groovy"),
                             str(tmp_path), str(broken)], capture_output=True, text=True)
    assert result.returncode == 1 and "`GENOSYNTH_MISSING` is not defined" in result.stdout


def test_one_process_per_step_with_container_labels_versions_and_stub():
    for step in PIPELINE_STEPS:
        module = _process(_module_text(step.replace("-", "_")))
        process = f"GENOSYNTH_{step.replace('-', '_').upper()}"
        assert module["name"] == [process]
        assert module["container"] == [f"genosynth/{step}:{__version__}"]  # the image containers/ builds
        assert ("process_gpu" in module["labels"]) == (process in GPU_PROCESSES)
        assert "versions" in module["emits"] and module["stub"]
        assert "task.ext.args" in module["script_defs"] and "task.ext.prefix" in module["script_defs"]
        assert (MODULES / step.replace("-", "_") / "meta.yml").is_file()
        assert (REPO / "containers" / step / "Dockerfile").is_file()


def test_main_uses_every_module_and_only_existing_emits():
    main = (REPO / "main.nf").read_text()
    emits = {}
    for path in MODULES.glob("*/main.nf"):
        module = _process(path.read_text())
        emits[module["name"][0]] = module["emits"]
        assert f"include {{ {module['name'][0]}" in re.sub(r"\s+", " ", main)
    for process, emit in re.findall(r"(\w+)\.out\.(\w+)", main):
        assert emit in emits[process], f"main.nf uses {process}.out.{emit}, which the module does not emit"
    assert set(re.findall(r"^\s+(GENOSYNTH_\w+|CONCAT_VCF)\(", main, re.M)) == set(emits)


def test_schema_is_valid_and_matches_the_params():
    import jsonschema

    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    in_schema = set()
    for group in schema["$defs"].values():
        in_schema |= set(group["properties"])
    in_main = set(re.findall(r"^params\.(\w+)\s*=", (REPO / "main.nf").read_text(), re.M))
    config = (REPO / "nextflow.config").read_text()
    block = re.search(r"^params \{\n(.*?)\n\}", config, re.S | re.M).group(1)
    in_config = set(re.findall(r"^\s+(\w+)\s*=", block, re.M))
    assert in_schema == in_main == in_config
    validator = jsonschema.Draft202012Validator(schema)
    defaults = {name: prop["default"] for g in schema["$defs"].values() for name, prop in g["properties"].items()
                if "default" in prop}
    assert not list(validator.iter_errors({**defaults, "input": "x.vcf.gz"}))
    assert list(validator.iter_errors({**defaults, "input": "x.vcf.gz", "models": "vae"}))  # an unknown model is refused


def _render(module: str, values: dict[str, str]) -> str:
    """The script block of ``module`` with every ${...} replaced from ``values`` (unknown ones fail the test)."""
    script = _process(_module_text(module))["script"]

    def substitute(match: re.Match) -> str:
        expression = match.group(1)
        if expression not in values:
            raise AssertionError(f"{module}: the test has no value for ${{{expression}}}; update it with the module")
        return str(values[expression])

    rendered = re.sub(r"(?<!\\)\$\{([^}]+)\}", substitute, script)
    return rendered.replace("\\$", "$").replace("\\\\", "\\")


def _run_module(module: str, workdir: Path, values: dict[str, str], outputs: list[str]) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    values = {"task.process": f"GENOSYNTH_{module.upper()}", "task.cpus": "1", **values}
    script = _render(module, values)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    result = subprocess.run(["bash", "-euo", "pipefail", "-c", script], cwd=workdir, env=env, capture_output=True,
                            text=True)
    assert result.returncode == 0, f"{module} script failed:\n{script}\n{result.stderr[-3000:]}"
    for pattern in outputs:
        assert list(workdir.glob(pattern)), f"{module}: declared output {pattern} is missing"
    assert "genosynth" in (workdir / "versions.yml").read_text() or module == "concat_vcf"


def test_module_scripts_run_in_workflow_order(tmp_path):
    """Values stand in for each module's Groovy `def` lines with the test profile's settings."""
    w = tmp_path
    vcf, pops = TEST_DATA / "sim.vcf.gz", TEST_DATA / "sim.populations.tsv"
    _run_module("vcf_to_matrix", w / "convert", {
        "vcf": vcf, "prefix": "genome", "region_args": "", "population_args": f"--populations {pops}",
        "holdout_args": "--holdout 0.3 --holdout-output genome.holdout.h5", "args": "--seed 1"},
        ["genome.h5", "genome.holdout.h5"])
    matrix, holdout = w / "convert" / "genome.h5", w / "convert" / "genome.holdout.h5"
    _run_module("train_gan", w / "gan", {"matrix": matrix, "prefix": "genome.gan",
                                          "args": "--preset wgan-gp --epochs 2 --monitor-every 1 --device cpu"},
                ["genome.gan.safetensors", "genome.gan.training.tsv", "genome.gan.training.png"])
    _run_module("train_rbm", w / "rbm", {"matrix": matrix, "prefix": "genome.rbm",
                                          "args": "--epochs 2 --monitor-every 1 --monitor-gibbs-steps 5 --device cpu"},
                ["genome.rbm.safetensors", "genome.rbm.hidden.tsv", "genome.rbm.hidden.png"])
    artificial = {}
    for model in ("gan", "rbm"):
        _run_module("sample", w / f"sample_{model}", {
            "model": w / model / f"genome.{model}.safetensors", "haplotypes": "40", "prefix": f"genome.{model}.ag",
            "args": "--seed 1 --device cpu"}, [f"genome.{model}.ag.vcf.gz", f"genome.{model}.ag.vcf.gz.tbi"])
        artificial[model] = w / f"sample_{model}" / f"genome.{model}.ag.vcf.gz"
    _run_module("evaluate", w / "evaluate", {
        "real": matrix, "holdout_args": f"--holdout {holdout}", "prefix": "genome.evaluation",
        "synthetic_args": " ".join(f"--synthetic {m}={p}" for m, p in artificial.items()),
        "args": "--triplets 200 --seed 1 --device cpu"},
        ["genome.evaluation/metrics.json", "genome.evaluation/metrics.tsv", "genome.evaluation/report.html",
         "genome.evaluation/*.png"])
    metrics = json.loads((w / "evaluate" / "genome.evaluation" / "metrics.json").read_text())
    assert set(metrics["sets"]) >= {"gan", "rbm"}  # names taken from the files, as the module's Groovy does
    _run_module("privacy_check", w / "privacy", {
        "train": matrix, "holdout": holdout, "synthetic": artificial["gan"], "prefix": "genome.gan.privacy",
        "args": "--seed 1"}, ["genome.gan.privacy/privacy.json", "genome.gan.privacy/report.html"])
    _run_module("selection_scan", w / "selection", {
        "matrix": matrix, "target": "CEU", "versus": "YRI", "outgroup_args": "--outgroup CHB",
        "synthetic": artificial["gan"], "prefix": "genome.gan.selection", "args": "--include-edges"},
        ["genome.gan.selection/summary.json", "genome.gan.selection/xpehh.tsv", "genome.gan.selection/report.html"])
    _run_module("impute_augment", w / "impute", {
        "panel": TEST_DATA / "panel.vcf.gz", "synthetic": artificial["gan"], "target": TEST_DATA / "target.vcf.gz",
        "memory_args": "--memory 1000m", "prefix": "genome.gan.imputation", "args": "--seed 1"},
        ["genome.gan.imputation/impute.json", "genome.gan.imputation/augmented_panel.vcf.gz",
         "genome.gan.imputation/augmented_panel.vcf.gz.tbi", "genome.gan.imputation/report.html"])
    _run_module("concat_vcf", w / "concat", {"vcfs": artificial["gan"], "prefix": "gan.artificial_genomes", "args": ""},
                ["gan.artificial_genomes.vcf.gz", "gan.artificial_genomes.vcf.gz.tbi"])
