"""selection-scan --method cnn (ImaGene): images sorted and sized as specified (the resize checked against torch's
anti-aliased interpolation), posterior summaries checked against a brute-force search, a planted sweep scored
above the region's neutral ends after a short training, the saved network reloaded with identical scores, the
simulation cache reused and refused when its settings differ, simulations independent of the process count, and
bad options as one-line errors with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_genosynth
from genosynth.downstream.selection.imagene import (
    haplotype_image,
    parse_s_grid,
    posterior_summary,
    resize_image,
    sort_window,
)
from genosynth.downstream.selection.sweeps import SweepSettings, read_training_images, simulate_training_images
from hypothesis import given, settings
from hypothesis import strategies as st

SWEEP_SITE = 1_000_001  # simulate_sweep's default: the middle of a 2 Mb region
QUICK = [
    "--s-grid",
    "0,200,400",
    "--simulations",
    "80",
    "--image-size",
    "64",
    "--cnn-window-sites",
    "150",
    "--threads",
    "2",
    "--cnn-epochs",
    "15",
]


@pytest.fixture(scope="module")
def scan(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Population A of simulate_sweep (a hard sweep at 1 Mb), 20 individuals, scanned by a CNN trained on 3 x 80
    simulations, with the target itself as the synthetic set; the network and the simulations are kept."""
    from genosynth.downstream.simulation import simulate_sweep

    workdir = tmp_path_factory.mktemp("cnn")
    vcf, populations = simulate_sweep(workdir / "sweep.vcf", individuals_per_population=20, seed=2)
    matrix = workdir / "sweep.h5"
    run_genosynth("vcf-to-matrix", vcf, "--populations", populations, "-o", matrix)
    out, cache, model = workdir / "scan", workdir / "training.safetensors", workdir / "cnn.safetensors"
    result = run_genosynth(
        "selection-scan",
        matrix,
        "--target",
        "A",
        "--method",
        "cnn",
        "--synthetic",
        matrix,
        *QUICK,
        "--training-data",
        cache,
        "--cnn-model-output",
        model,
        "-o",
        out,
    )
    return {"dir": workdir, "matrix": matrix, "out": out, "cache": cache, "model": model, "stderr": result.stderr}


def _table(path) -> dict[str, np.ndarray]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    return {name: np.array([row[i] for row in rows]) for i, name in enumerate(header)}


def test_images_are_polarised_filtered_sorted_and_sized():
    rng = np.random.default_rng(3)
    window = (rng.random((60, 90)) < rng.random(90)).astype(np.uint8)
    window[:, 5] = 0  # monomorphic
    window[:, 6] = 0
    window[0, 6] = 1  # a singleton: minor allele frequency 1/60
    window[30:50] = window[30]  # a third of the haplotypes identical, in the middle
    sorted_window = sort_window(window, min_maf=0.02)
    frequency = sorted_window.mean(axis=0)
    assert (frequency <= 0.5).all() and (frequency >= 0.02).all()  # minor allele is 1, rare and fixed sites gone
    minor = np.minimum(window.mean(axis=0), 1 - window.mean(axis=0))
    assert sorted_window.shape == (60, int(((minor > 0) & (minor >= 0.02)).sum()))
    assert (np.diff(frequency) <= 1e-12).all()  # columns by frequency, highest first
    _, first, counts = np.unique(sorted_window, axis=0, return_index=True, return_counts=True)
    row_counts = counts[np.argsort(first)]
    assert (np.diff(row_counts) <= 0).all() and row_counts[0] >= 20  # the commonest haplotype on top
    assert (sorted_window[:20] == sorted_window[0]).all()  # its copies together
    image = haplotype_image(window, size=64, min_maf=0.02)
    assert image.shape == (64, 64) and image.dtype == np.uint8 and set(np.unique(image)) <= {0, 1}


@pytest.mark.parametrize("shape", [(198, 700), (50, 30), (128, 128)])
def test_resize_equals_torch_antialiased_bilinear_interpolation(shape):
    import torch
    import torch.nn.functional as F

    rng = np.random.default_rng(shape[0])
    window = rng.integers(0, 2, shape, dtype=np.uint8)
    reference = F.interpolate(
        torch.as_tensor(window, dtype=torch.float64)[None, None],
        size=(128, 128),
        mode="bilinear",
        antialias=True,
        align_corners=False,
    )[0, 0].numpy()
    ours = resize_image(window, size=128)
    undecided = np.abs(reference - 0.5) < 1e-9
    np.testing.assert_array_equal(ours[~undecided], (reference >= 0.5)[~undecided])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.001, 1.0), min_size=2, max_size=8))
def test_posterior_summary_agrees_with_brute_force(weights):
    p = np.array(weights) / sum(weights)
    classes = np.arange(len(p)) * 100.0
    out = posterior_summary(p[None], classes)
    intervals = [
        (classes[j] - classes[i], p[i : j + 1].sum())
        for i in range(len(p))
        for j in range(i, len(p))
        if p[i : j + 1].sum() >= 0.95 - 1e-9
    ]
    narrowest = min(width for width, _ in intervals)
    most = max(mass for width, mass in intervals if width == narrowest)
    low, high = (int(out[key][0] // 100) for key in ("hpd_low", "hpd_high"))
    # the narrowest run of classes holding 95%, and among those one holding the most (ties either way)
    assert out["hpd_high"][0] - out["hpd_low"][0] == narrowest and p[low : high + 1].sum() == pytest.approx(most)
    assert out["s_mean"][0] == pytest.approx((p * classes).sum())
    assert out["s_map"][0] == classes[np.argmax(p)]
    assert out["p_selection"][0] == pytest.approx(1 - p[0])
    assert out["bayes_factor"][0] == pytest.approx((1 - p[0]) / p[0] / (len(p) - 1))


def test_planted_sweep_scores_above_the_neutral_ends(scan):
    table = _table(scan["out"] / "cnn.tsv")
    middle = (table["START"].astype(int) + table["END"].astype(int)) / 2
    p, s_mean = table["P_SELECTION"].astype(float), table["S_MEAN"].astype(float)
    centre = np.abs(middle - SWEEP_SITE) < 200_000
    ends = np.abs(middle - SWEEP_SITE) > 800_000  # the outer 200 kb at both ends
    assert centre.sum() >= 5 and ends.sum() >= 5
    assert p[centre].mean() > 0.9 and p[centre].mean() > p[ends].mean() + 0.3, (p[centre], p[ends])
    assert s_mean[centre].mean() > s_mean[ends].mean() + 150
    summary = json.loads((scan["out"] / "summary.json").read_text())["cnn"]
    evaluation = summary["training"]["evaluation"]
    assert evaluation["neutral_vs_strongest_accuracy"] >= 0.8, evaluation  # held-out simulations
    assert np.array(evaluation["confusion_matrix"]).sum() == evaluation["test_simulations"] == 24


def test_table_summary_report_and_synthetic_agreement(scan):
    table = _table(scan["out"] / "cnn.tsv")
    assert list(table) == [
        "CHROM",
        "START",
        "END",
        "P_SELECTION",
        "S_MEAN",
        "S_MAP",
        "S_HPD_LOW",
        "S_HPD_HIGH",
        "BAYES_FACTOR",
        "P_SELECTION_SYNTHETIC",
        "S_MEAN_SYNTHETIC",
        "S_MAP_SYNTHETIC",
        "S_HPD_LOW_SYNTHETIC",
        "S_HPD_HIGH_SYNTHETIC",
        "BAYES_FACTOR_SYNTHETIC",
    ]
    low, high, s_map = (table[c].astype(float) for c in ("S_HPD_LOW", "S_HPD_HIGH", "S_MAP"))
    assert (low <= high).all() and set(s_map) <= {0.0, 200.0, 400.0}
    np.testing.assert_array_equal(table["P_SELECTION"], table["P_SELECTION_SYNTHETIC"])  # the same haplotypes
    summary = json.loads((scan["out"] / "summary.json").read_text())
    assert summary["cnn"]["p_selection"]["synthetic"]["pearson"] == pytest.approx(1.0)
    assert summary["cnn"]["s_mean"]["synthetic"]["peaks_shared"] == summary["cnn"]["s_mean"]["real"]["peaks"]
    assert "xpehh" not in summary and not (scan["out"] / "xpehh.tsv").exists()  # only the methods asked for
    parameters = summary["provenance"]["parameters"]
    assert parameters["methods"] == ["cnn"] and parameters["cnn_simulations"] == 80
    assert parameters["cnn_training_data"] == "training.safetensors"  # file names only, no private folders
    html = (scan["out"] / "report.html").read_text()
    assert html.count("<img") >= 3 and "confusion matrix" in html
    for name in ("cnn_p_selection.png", "cnn_s.png", "cnn_confusion.png"):
        assert (scan["out"] / name).stat().st_size > 1000


def test_saved_network_reloads_with_identical_scores(scan):
    out = scan["dir"] / "reloaded"
    # the synthetic set: all 120 haplotypes of the matrix as an unlabelled VCF, subsampled to the 40 the CNN knows
    from genosynth.io.hdf5 import read_matrix, write_matrix
    from genosynth.io.matrix import HaplotypeMatrix

    m = read_matrix(scan["matrix"])
    unlabelled = scan["dir"] / "unlabelled.h5"
    write_matrix(
        unlabelled, HaplotypeMatrix(m.haplotypes, m.sites, m.samples, m.ploidy, np.full(len(m.populations), ""))
    )
    result = run_genosynth(
        "selection-scan",
        scan["matrix"],
        "--target",
        "A",
        "--method",
        "cnn",
        "--cnn-model",
        scan["model"],
        "--cnn-window-sites",
        "150",
        "--synthetic",
        unlabelled,
        "-o",
        out,
    )
    assert "simulations per S class" not in result.stderr  # nothing simulated or trained
    assert "synthetic set: 120 haplotypes, subsampled to the 40 the CNN was trained on" in result.stderr
    first, again = _table(scan["out"] / "cnn.tsv"), _table(out / "cnn.tsv")
    for column in ("START", "P_SELECTION", "S_MEAN", "S_HPD_LOW", "S_HPD_HIGH", "BAYES_FACTOR"):
        np.testing.assert_array_equal(first[column], again[column])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["provenance"]["inputs"][-1]["name"] == "cnn.safetensors"
    assert summary["cnn"]["training"]["simulation"]["s_grid"] == [0.0, 200.0, 400.0]
    assert summary["cnn"]["training"]["haplotypes_scanned"] == {"real": 40, "synthetic": 40}


def test_cache_is_reused_and_refused_with_other_settings(scan):
    cached = read_training_images(scan["cache"])
    assert cached.images.shape == (240, 64, 64) and np.bincount(cached.labels).tolist() == [80, 80, 80]
    modified = scan["cache"].stat().st_mtime_ns
    out = scan["dir"] / "cached"
    result = run_genosynth(
        "selection-scan",
        scan["matrix"],
        "--target",
        "A",
        "--method",
        "cnn",
        *QUICK,
        "--training-data",
        scan["cache"],
        "-o",
        out,
    )
    assert "reused 240 windows" in result.stderr and scan["cache"].stat().st_mtime_ns == modified
    np.testing.assert_array_equal(
        _table(out / "cnn.tsv")["P_SELECTION"], _table(scan["out"] / "cnn.tsv")["P_SELECTION"]
    )
    refused = run_genosynth(
        "selection-scan",
        scan["matrix"],
        "--target",
        "A",
        "--method",
        "cnn",
        *QUICK,
        "--ne",
        "20000",
        "--training-data",
        scan["cache"],
        "-o",
        scan["dir"] / "refused",
        check=False,
    )
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1, refused.stderr
    assert "ne=10000.0" in refused.stderr and "ne=20000.0" in refused.stderr
    assert not (scan["dir"] / "refused").exists()


def test_simulations_are_seeded_and_independent_of_processes():
    options = dict(s_grid=(0.0, 400.0), simulations=3, haplotypes=20, length=20_000, image_size=64)
    one = simulate_training_images(SweepSettings(**options, seed=4), threads=1, progress=False)
    two = simulate_training_images(SweepSettings(**options, seed=4), threads=2, progress=False)
    other = simulate_training_images(SweepSettings(**options, seed=5), threads=1, progress=False)
    np.testing.assert_array_equal(one.images, two.images)
    assert one.labels.tolist() == [0, 0, 0, 1, 1, 1]
    assert not np.array_equal(one.images, other.images)


def test_demography_follows_the_population_history():
    from genosynth.downstream.selection.sweeps import size_history

    history = size_history(
        SweepSettings(
            s_grid=(0.0, 200.0),
            simulations=2,
            haplotypes=10,
            length=10_000,
            demography="HomSap/OutOfAfrica_3G09",
            demography_population="CEU",
        )
    )
    # CEU's inverse coalescence rate: growth to 29,725 now, a bottleneck near 2,000-3,000 around the out-of-Africa
    # split, the ancestral 7,300 long ago; the sweep span gets the harmonic mean of its recent part
    assert 1_000 < history.recent_size < 29_725 and history.mutation_rate == pytest.approx(2.35e-8)
    assert history.sizes[-1] == pytest.approx(7_300, rel=0.01) and min(history.sizes) < 3_000
    assert all(t > history.recent_until for t in history.times)
    settings = SweepSettings(
        s_grid=(0.0, 400.0),
        simulations=4,
        haplotypes=20,
        length=20_000,
        image_size=64,
        demography="HomSap/OutOfAfrica_3G09",
        demography_population="CEU",
        sweep_end_times=(0, 500),
    )
    data = simulate_training_images(settings, threads=1, progress=False)  # sweeps that outlast the span are redrawn
    assert data.images.shape == (8, 64, 64) and data.history.mutation_rate == pytest.approx(2.35e-8)


@pytest.mark.parametrize(
    "args, message",
    [
        (["--s-grid", ""], "--s-grid is empty"),
        (["--s-grid", "0,-100"], "--s-grid -100: S must be >= 0"),
        (["--s-grid", "100,200"], "needs 0 (neutral)"),
        (["--cnn-window-sites", "100000"], "--cnn-window-sites 100000: longer than the data"),
        (["--image-size", "32"], "--image-size"),
        (["--demography", "HomSap/OutOfAfrica_3G09", "--demography-population", "XYZ"], "'XYZ' is not a population"),
        (["--demography", "HomSap/Nowhere", "--demography-population", "CEU"], "not a stdpopsim Species/Model id"),
        (["--sweep-end-times", "-5"], "--sweep-end-times -5: give one or more times >= 0"),
        (["--demography-population", "CEU"], "--demography-population needs a demographic model"),
        (["--cnn-model", "missing.safetensors"], "missing.safetensors: no such file"),
    ],
)
def test_bad_cnn_options_exit_1_with_one_line(scan, args, message):
    out = scan["dir"] / "bad"
    result = run_genosynth(
        "selection-scan", scan["matrix"], "--target", "A", "--method", "cnn", *args, "-o", out, check=False
    )
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not out.exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--method", "xpehh,cnn"], "--versus is needed by XPEHH"),
        (["--method", "pbs", "--versus", "B"], "--outgroup is needed by PBS"),
        (["--method", "cnn,lasso"], "--method cnn,lasso: expected a comma-separated list"),
        (["--versus", "B", "--cnn-model-output", "x.safetensors"], "--cnn-model-output applies to --method with cnn"),
        (["--method", "cnn", "--cnn-model", "MATRIX"], "not a genosynth model file"),
    ],
)
def test_bad_method_combinations_exit_1(scan, args, message):
    out = scan["dir"] / "bad_method"
    args = [scan["matrix"] if arg == "MATRIX" else arg for arg in args]
    result = run_genosynth("selection-scan", scan["matrix"], "--target", "A", *args, "-o", out, check=False)
    assert result.returncode == 1 and message in result.stderr, result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and not out.exists()


def test_s_grid_parsing():
    assert parse_s_grid("400, 0,200").tolist() == [0.0, 200.0, 400.0]
    with pytest.raises(ValueError, match="values repeat"):
        parse_s_grid("0,100,100")


def test_python_api_in_a_fresh_interpreter_matches_the_command_line(scan):
    import subprocess
    import sys

    code = f"""
import json, genosynth
real = genosynth.read_haplotypes({str(scan["matrix"])!r})
simulation = genosynth.SweepSettings(s_grid=(0, 200, 400), simulations=80, image_size=64)
options = genosynth.CnnScanOptions(window_sites=150, simulation=simulation, epochs=15, threads=2,
                                   training_data={str(scan["cache"])!r})
report = genosynth.selection_scan(real, target="A", methods=["cnn"], cnn=options, progress=False)
report.cnn.network.save({str(scan["dir"] / "api.safetensors")!r})
print(json.dumps(report.cnn.posteriors["real"]["p_selection"].tolist()))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    api = np.array(json.loads(result.stdout))
    np.testing.assert_allclose(api, _table(scan["out"] / "cnn.tsv")["P_SELECTION"].astype(float), rtol=1e-5)
    from genosynth import load_selection_network

    network = load_selection_network(scan["dir"] / "api.safetensors", device="cpu")
    assert network.classes.tolist() == [0.0, 200.0, 400.0] and network.image_size == 64
    record = network.provenance[-1]  # how the network was made: simulation settings, seed, its test figures
    assert record["parameters"]["simulations"] == 80 and record["seed"] == 1
    assert record["summary"]["test_simulations"] == 24


@pytest.mark.gpu
def test_network_trains_on_a_gpu_and_its_file_scores_alike_on_cpu(tmp_path):
    from genosynth import load_selection_network
    from genosynth.downstream.selection.network import CnnConfig, train_selection_network

    data = simulate_training_images(
        SweepSettings(s_grid=(0.0, 400.0), simulations=20, haplotypes=20, length=20_000, image_size=64),
        threads=1,
        progress=False,
    )
    network = train_selection_network(
        data.images, data.labels, np.array([0.0, 400.0]), config=CnnConfig(max_epochs=3), device="cuda", progress=False
    )
    network.save(tmp_path / "cnn.safetensors")
    on_cpu = load_selection_network(tmp_path / "cnn.safetensors", device="cpu")
    np.testing.assert_allclose(on_cpu.probabilities(data.images), network.probabilities(data.images), atol=1e-4)


def test_cnn_options_reach_the_windows_simulations_and_network(scan):
    out, cache, model = (
        scan["dir"] / "options",
        scan["dir"] / "options.safetensors",
        scan["dir"] / "options_cnn.safetensors",
    )
    run_genosynth(
        "selection-scan",
        scan["matrix"],
        "--target",
        "A",
        "--method",
        "cnn",
        "--s-grid",
        "0,400",
        "--simulations",
        "4",
        "--image-size",
        "64",
        "--cnn-window-sites",
        "150",
        "--cnn-step",
        "75",
        "--cnn-epochs",
        "1",
        "--cnn-label-sd",
        "0.7",
        "--mutation-rate",
        "2e-8",
        "--recombination-rate",
        "5e-9",
        "--sweep-end-times",
        "0,200",
        "--ne",
        "5000",
        "--cnn-min-maf",
        "0.05",
        "--seed",
        "3",
        "--training-data",
        cache,
        "--cnn-model-output",
        model,
        "-o",
        out,
    )
    starts = _table(out / "cnn.tsv")["START"].astype(int)
    assert len(starts) == (9105 - 150) // 75 + 1  # 150-site windows every 75 sites of the 9105
    settings = read_training_images(cache).settings
    assert (
        settings.mutation_rate,
        settings.recombination_rate,
        settings.sweep_end_times,
        settings.ne,
        settings.min_maf,
        settings.seed,
        settings.simulations,
    ) == (2e-8, 5e-9, (0.0, 200.0), 5000.0, 0.05, 3, 4)
    from genosynth import load_selection_network

    network = load_selection_network(model, device="cpu")
    assert network.config.label_sd == 0.7 and network.config.max_epochs == 1 and len(network.history) == 1


def test_label_sd_smooths_targets_over_neighbouring_bins():
    from genosynth.downstream.selection.network import _targets

    labels = np.array([0, 2, 4])
    np.testing.assert_array_equal(_targets(labels, 5, 0.0), np.eye(5)[labels])
    smooth = _targets(labels, 5, 1.0)
    np.testing.assert_allclose(smooth.sum(axis=1), 1.0)
    assert (smooth.argmax(axis=1) == labels).all() and smooth[1, 1] > 0.1
    assert smooth[1, 1] == pytest.approx(smooth[1, 3])  # symmetric about the class
