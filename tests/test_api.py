"""The Python API as notebook users call it: the README's example run in a fresh Python, generators that must
learn (beat the Bernoulli baseline clearly) within CI-sized budgets, results that write, serialise and render,
validation that names parameters, and a library layer that never sees argparse."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import genosynth
import numpy as np
import pytest
from genosynth._infra.errors import OptionError

REPO = Path(__file__).resolve().parents[1]
PACKAGE = REPO / "tools" / "genosynth"


def test_readme_python_example_runs_as_a_doctest_in_a_fresh_python(tmp_path):
    code = (
        "import doctest, sys; r = doctest.testfile(sys.argv[1], module_relative=False, "
        "optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE); "
        "print(r); sys.exit(1 if r.failed or r.attempted < 10 else 0)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "README.md")], cwd=tmp_path, capture_output=True, text=True, timeout=600
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert (tmp_path / "evaluation" / "report.html").is_file() and (tmp_path / "rbm_ag.vcf.gz.tbi").is_file()


@pytest.fixture(scope="module")
def structured(tmp_path_factory):
    """Three simulated populations (stdpopsim OutOfAfrica_3G09, 40 individuals each, 150 kb, MAF >= 0.05), split
    by individual; and the Bernoulli baseline's figures, the bar every generator must clear."""
    from genosynth.downstream.simulation import simulate_out_of_africa

    work = tmp_path_factory.mktemp("learning")
    vcf, populations = simulate_out_of_africa(work / "sim.vcf", individuals_per_population=40, length=150_000, seed=2)
    cohort = genosynth.read_haplotypes(vcf, populations=populations).filter_maf(0.05)
    train, holdout = genosynth.split_holdout(cohort, fraction=0.25, seed=1)
    baseline = genosynth.sample_baseline(train, train.n_haplotypes, seed=1, progress=False)
    return train, holdout, baseline


def _judge(train, holdout, baseline, artificial):
    report = genosynth.evaluate(
        train, {"model": artificial, "bernoulli": baseline}, holdout=holdout, seed=1, progress=False
    )
    return report.sets["model"], report.sets["bernoulli"]


# Budgets and bars from measured runs on three simulation seeds (RBM: LD r 0.85-0.91, W2D 0.005-0.008; WGAN-GP:
# LD r 0.63-0.80, W2D 0.006-0.020; Bernoulli: LD r about 0, W2D 0.15-0.20), one for the diffusion model (LD r
# 0.77, W2D 0.022; after 1 epoch LD r 0.00, W2D 0.42) and two for the convolutional WGAN-GP, which learns LD
# more slowly on CPU (100 epochs: LD r 0.41-0.43, W2D 0.100-0.113 against Bernoulli's 0.150-0.169, no better at
# 250 epochs; after 1 epoch LD r 0.04, W2D 0.43; measured again 2026-12-03: seed 2 LD r 0.41, W2D 0.091-0.106,
# but seed 3 AF r 0.92, W2D 0.21-0.26, so its bars hold for this seed, not for every one), with margin. Default
# margins over Bernoulli: LD r + 0.4, W2D / 3.
# LD strength (mean r² as a fraction of the real one's; simulation seed 2): RBM 0.75, WGAN-GP 1.42, diffusion 0.37,
# convolutional WGAN-GP 0.43; Bernoulli and the RBM after 1 epoch 0.00, the held-out haplotypes 1.08.
LEARNING = {
    "rbm": (
        lambda train: genosynth.train_rbm(train, epochs=400, seed=1, progress=False, monitor_every=1000),
        {"ld_r": 0.6, "w2d_pca": 0.04},
    ),
    "gan": (
        lambda train: genosynth.train_gan(
            train, preset="wgan-gp", epochs=800, seed=1, progress=False, monitor_every=1000
        ),
        {"ld_r": 0.4, "w2d_pca": 0.04},
    ),
    "diffusion": (
        lambda train: genosynth.train_diffusion(
            train, epochs=300, seed=1, progress=False, monitor_every=1000, device="cpu"
        ),
        {"ld_r": 0.6, "w2d_pca": 0.04},
    ),
    "conv_gan": (
        lambda train: genosynth.train_gan(
            train, preset="conv-wgan-gp", epochs=100, seed=1, progress=False, monitor_every=1000, device="cpu"
        ),
        {"ld_r": 0.25, "w2d_pca": 0.14, "ld_over_bernoulli": 0.25, "w2d_share_of_bernoulli": 0.85},
    ),
}


@pytest.mark.parametrize("kind", list(LEARNING))
def test_generator_learns_what_the_bernoulli_baseline_cannot(structured, kind):
    train, holdout, baseline = structured
    fit, bars = LEARNING[kind]
    model = fit(train)
    artificial = model.sample(train.n_haplotypes, seed=1, progress=False)
    learned, bernoulli = _judge(train, holdout, baseline, artificial)
    assert learned["af_r"] > 0.95, learned
    assert learned["ld_r"] > bars["ld_r"], (learned, bernoulli)
    assert learned["ld_r"] > bernoulli["ld_r"] + bars.get("ld_over_bernoulli", 0.4), (learned, bernoulli)
    assert learned["ld_strength"] > bars.get("ld_strength", 0.25), (learned, bernoulli)
    assert learned["w2d_pca"] < bars["w2d_pca"], (learned, bernoulli)
    assert learned["w2d_pca"] < bernoulli["w2d_pca"] * bars.get("w2d_share_of_bernoulli", 1 / 3), (learned, bernoulli)
    assert learned["exact_copies_of_real"] < train.n_haplotypes // 10


def test_an_untrained_generator_fails_the_same_bars(structured):
    """The learning test's own check: one epoch teaches the RBM nothing of LD, and its samples fail the bars."""
    train, holdout, baseline = structured
    artificial = genosynth.train_rbm(train, epochs=1, seed=1, progress=False).sample(
        train.n_haplotypes, seed=1, progress=False
    )
    learned, bernoulli = _judge(train, holdout, baseline, artificial)
    assert learned["ld_r"] < LEARNING["rbm"][1]["ld_r"] or learned["w2d_pca"] > LEARNING["rbm"][1]["w2d_pca"]
    assert learned["ld_strength"] < 0.25


def test_models_save_load_and_sample_with_kind_options(structured, tmp_path):
    train, _, _ = structured
    model = genosynth.train_rbm(train, epochs=2, seed=1, progress=False, hidden_units=8, chains=10)
    assert model.kind == "rbm" and model.config.n_hidden == 8 and model.training_summary["epochs_trained"] == 2
    model.save(tmp_path / "rbm.safetensors")
    again = genosynth.load_model(tmp_path / "rbm.safetensors", device="cpu")
    a = model.sample(50, seed=3, gibbs_steps=5, progress=False)
    b = again.sample(50, seed=3, gibbs_steps=5, progress=False)
    np.testing.assert_array_equal(a.haplotypes, b.haplotypes)
    assert (
        b.provenance[-1]["inputs"][0]["name"] == "rbm.safetensors"
        and b.provenance[-1]["parameters"]["gibbs_steps"] == 5
    )
    with pytest.raises(
        OptionError,
        match=r"bernoulli does not apply to rbm models \(their sampling options: "
        r"gibbs_steps, start, sampling_set\)",
    ):
        again.sample(5, bernoulli=True)
    assert again.sample(5, seed=3, bernoulli=None, progress=False).n_haplotypes == 5  # None: not given
    with pytest.raises(OptionError, match="n 3: ploidy 2 pairs haplotypes, so n must be even"):
        again.sample(3, ploidy=2)


def test_results_serialise_write_whole_folders_and_render(structured, tmp_path):
    train, holdout, baseline = structured
    report = genosynth.check_privacy(train, holdout, baseline, max_privacy_loss=-1.0, seed=1, progress=False)
    assert not report.passed and report.failures[0].startswith("privacy loss")
    json.dumps(report.to_dict())
    assert report.to_dict()["gate"] == {"passed": False, "failures": report.failures}
    assert "Privacy gate FAILED" in report._repr_html_() and "<img" in report._repr_html_()
    report.write(tmp_path / "privacy")
    assert sorted(p.name for p in (tmp_path / "privacy").iterdir()) == [
        ".genosynth-output.json",
        "aats.pdf",
        "aats.png",
        "attribute_inference.pdf",
        "attribute_inference.png",
        "dcr.pdf",
        "dcr.png",
        "exposure.pdf",
        "exposure.png",
        "exposure.tsv",
        "gate.txt",
        "mia_roc.pdf",
        "mia_roc.png",
        "privacy.json",
        "report.html",
    ]
    assert (tmp_path / "privacy" / "gate.txt").read_text() == f"failed: {report.failures[0]}\n"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary folder left beside it


def test_options_are_keyword_only_and_errors_name_parameters_not_flags(structured):
    train, holdout, baseline = structured
    with pytest.raises(TypeError):
        genosynth.evaluate(train, {"b": baseline}, holdout, 1)  # type: ignore[misc]
    cases = [
        (lambda: genosynth.train_gan(train, max_time="soon"), "max_time", "max_time 'soon': expected a duration"),
        (
            lambda: genosynth.train_rbm(train, early_stop_tolerance=0.7),
            "early_stop_tolerance",
            "early_stop_tolerance must be in [0, 0.5)",
        ),
        (lambda: genosynth.evaluate(train, {"real": baseline}), "synthetic", "'real': the name is reserved"),
        (lambda: genosynth.check_privacy(train, holdout, baseline, near=-1), "near", "near must be >= 0"),
        (lambda: genosynth.split_holdout(train, fraction=1.5), "fraction", "fraction must be in (0, 1)"),
        (lambda: genosynth.read_haplotypes(REPO / "README.md", region="1:9-3"), "region", "START must be >= 1"),
    ]
    for call, parameter, message in cases:
        with pytest.raises(OptionError) as err:
            call()
        assert err.value.parameter == parameter and message in str(err.value) and "--" not in str(err.value)
        assert isinstance(err.value, ValueError)


def test_only_the_command_line_imports_argparse():
    """The library never sees argparse: only cli.py and the step modules build or read parsed options."""
    offenders = []
    for path in PACKAGE.rglob("*.py"):
        relative = path.relative_to(PACKAGE)
        if relative.parts[0] == "steps" or relative.name == "cli.py":
            continue
        tree = ast.parse(path.read_text())
        names = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, (ast.Import, ast.ImportFrom))
            for alias in node.names
        } | {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
        if "argparse" in names:
            offenders.append(str(relative))
    assert offenders == []


def test_every_step_run_is_short():
    """Each step's run() parses, makes one API call and writes: a few statements, never the science itself.
    Statements, not lines, are counted: the formatter spreads one call's keyword arguments over a line each."""
    long_runs = {}
    for path in (PACKAGE / "steps").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.FunctionDef) and node.name == "run":
                statements = sum(isinstance(inner, ast.stmt) for inner in ast.walk(node)) - 1
                if statements > 20:
                    long_runs[path.name] = statements
    assert long_runs == {}
