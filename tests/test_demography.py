"""infer-demography: on data simulated under OutOfAfrica_3G09 the step picks that scenario over a Demes graph of a
plain split with high posterior, by the CNN and the random forest; the same run with shuffled training labels
does not (so a network that learns nothing fails); an artificial set equal to the real one supports its
scenario; the command line reuses the simulation cache, writes its report and a network that reloads with the
same scores; bad scenario names, Demes files and population mismatches are one-line errors with nothing written."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import run_genosynth
from genosynth.downstream.demography.features import FeatureSettings, data_windows, window_features
from genosynth.downstream.demography.scenarios import parse_scenario

SPLIT = """\
description: YRI and CEU split 2000 generations ago from a constant-size ancestor, no migration
time_units: generations
demes:
  - name: ancestral
    epochs:
      - {start_size: 10000, end_time: 2000}
  - name: YRI
    ancestors: [ancestral]
    epochs:
      - {start_size: 10000}
  - name: CEU
    ancestors: [ancestral]
    epochs:
      - {start_size: 5000}
"""
QUICK = {"simulations": 100, "epochs": 15, "trees": 60}
CLI_QUICK = ["--simulations", "100", "--epochs", "15", "--trees", "60", "--device", "cpu"]


@pytest.fixture(scope="module")
def setup(simulated: dict, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The shared OutOfAfrica_3G09 simulation (YRI, CEU, CHB), a Demes split graph and a simulation cache."""
    import genosynth

    workdir = tmp_path_factory.mktemp("demography")
    split = workdir / "split.yaml"
    split.write_text(SPLIT)
    real = genosynth.read_haplotypes(simulated["vcf_gz"], populations=simulated["populations"])
    return {"real": real, "split": split, "cache": workdir / "cache", "dir": workdir}


def _infer(setup: dict, **options):
    from genosynth import infer_demography

    return infer_demography(
        setup["real"],
        scenarios=["HomSap/OutOfAfrica_3G09", str(setup["split"])],
        use_populations=["YRI", "CEU"],
        cache=setup["cache"],
        device="cpu",
        progress=False,
        **QUICK,
        **options,
    )


@pytest.fixture(scope="module")
def report(setup: dict):
    return _infer(setup, artificial={"copy": setup["real"]})


def test_the_simulated_scenario_is_chosen_with_high_posterior(report):
    assert report.names == ["OutOfAfrica_3G09", "split"]
    for method in ("cnn", "forest"):
        assert report.evaluation[method]["test_accuracy"] >= 0.85
        assert report.best("real", method) == "OutOfAfrica_3G09"
        assert report.posteriors["real"][method]["OutOfAfrica_3G09"] >= 0.7
        confusion = np.array(report.evaluation[method]["confusion_matrix"])
        assert confusion.sum() == report.evaluation[method]["test_simulations"] > 0
    assert report.populations == {"YRI": 40, "CEU": 40}
    # the same haplotypes as an artificial set: identical posteriors, so they support the same scenario
    verdict = report.verdicts["copy"]
    assert verdict["supports_same_scenario"] and verdict["cnn"]["total_variation"] < 1e-9


def test_a_network_trained_on_shuffled_labels_fails_the_check(setup, report):
    control = _infer(setup, shuffle_labels=True)
    assert all(entry["reused"] for entry in control.training.values())  # the cache of the first run
    assert control.evaluation["cnn"]["test_accuracy"] < 0.75
    assert control.posteriors["real"]["cnn"]["OutOfAfrica_3G09"] < 0.7


def test_window_features_see_structure_and_density():
    """Images count minor alleles per stretch of the window, the joint SFS counts sites by their frequencies; F_ST is at most 0 for two copies of one population and
    high for fixed differences; the statistics' length is what statistics_size says."""
    haplotypes = np.zeros((8, 4), dtype=np.uint8)
    haplotypes[:4, :2] = 1  # sites 0 and 1: fixed differences between the groups
    haplotypes[[0, 4], 2] = 1
    haplotypes[[1, 5], 3] = 1
    positions = np.array([10.0, 20.0, 600.0, 900.0])
    settings = FeatureSettings(image_size=16, sfs_bins=4, ld_bins=2)
    image, stats, sites = window_features(
        haplotypes, positions, [np.arange(4), np.arange(4, 8)], length=1000, min_maf=0.0, settings=settings
    )
    assert sites == 4 and image.shape == (3, 16, 16)  # two populations, then their joint SFS
    assert image[2].sum() == 4 and image[2][15, 0] == 2 and image[2][4, 4] == 2  # fixed in A only; 1/4 in both
    assert image[0, :, 0].max() == 2 and image[1, :, 0].max() == 0  # two minor alleles in the first stretch
    carriers = image[:2, :, 9]  # the site at 600 bp: one carrier per population, its rows repeated by resampling
    assert carriers.max() == 1 and (carriers.sum(axis=1) > 0).all() and image[:2, :, 10:14].sum() == 0
    assert stats[-1] > 0.5  # F_ST of the two groups
    copies = np.vstack([haplotypes[:4], haplotypes[:4]])  # two populations with the same haplotypes
    same = window_features(
        copies, positions, [np.arange(4), np.arange(4, 8)], length=1000, min_maf=0.0, settings=settings
    )[1]
    assert same[-1] <= 0.0
    windows = data_windows(np.array(["1"] * 5 + ["2"] * 2), np.array([5, 6, 150, 151, 260, 7, 8]), length=100)
    assert [(w.tolist(), start) for w, start in windows] == [([0, 1], 5), ([2, 3], 105), ([4], 205), ([5, 6], 7)]


def test_command_line_reuses_the_cache_and_writes_a_reloadable_network(setup, simulated, report):
    from genosynth.downstream.demography.network import load_demography_network

    out, model = setup["dir"] / "out", setup["dir"] / "cnn.safetensors"
    run_genosynth(
        "infer-demography",
        simulated["vcf_gz"],
        "--populations",
        simulated["populations"],
        "--use-populations",
        "YRI,CEU",
        "--scenario",
        "HomSap/OutOfAfrica_3G09",
        "--scenario",
        setup["split"],
        "--cache",
        setup["cache"],
        "--model-output",
        model,
        "-o",
        out,
        *CLI_QUICK,
    )
    written = json.loads((out / "demography.json").read_text())
    assert all(entry["reused"] for entry in written["training"].values())
    assert written["posteriors"]["real"]["cnn"] == pytest.approx(report.posteriors["real"]["cnn"], abs=1e-6)
    assert (out / "report.html").read_text().count("<img") == 2
    network = load_demography_network(model, device="cpu")
    assert network.scenarios == ["OutOfAfrica_3G09", "split"] and network.populations == ["YRI", "CEU"]
    images = np.random.default_rng(1).integers(0, 3, (4, 3, 32, 32)).astype(np.uint8)
    assert np.allclose(network.probabilities(images), report.network.probabilities(images))


def test_scenario_specs_and_renames():
    scenario = parse_scenario("HomSap/OutOfAfrica_2T12:AFR=YRI,EUR=CEU")
    assert scenario.populations == ("AFR", "EUR") and scenario.population_of("CEU") == "EUR"
    scenario.check_labels(["YRI", "CEU"])
    with pytest.raises(ValueError, match="no population 'CHB'"):
        parse_scenario("HomSap/OutOfAfrica_2T12:AFR=YRI").check_labels(["YRI", "CHB"])
    with pytest.raises(ValueError, match="renames EUR=CEU but the data have no population 'CEU'"):
        scenario.check_labels(["YRI", "CHB"])


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("HomSap/NoSuchModel", "HomSap has no model NoSuchModel"),
        ("broken.yaml", "broken.yaml: not a valid Demes graph"),
        ("HomSap/OutOfAfrica_2T12", "no population 'YRI' to sample data population 'YRI' from"),
    ],
)
def test_bad_scenarios_are_one_line_errors(setup, simulated, scenario, message):
    broken = setup["dir"] / "broken.yaml"
    broken.write_text("demes:\n  - name: A\n    epochs: [{start_size: -5}]\n")
    out = setup["dir"] / f"bad-{scenario.replace('/', '_')}"
    result = run_genosynth(
        "infer-demography",
        simulated["vcf_gz"],
        "--populations",
        simulated["populations"],
        "--use-populations",
        "YRI,CEU",
        "--scenario",
        "HomSap/OutOfAfrica_3G09",
        "--scenario",
        broken if scenario == "broken.yaml" else scenario,
        "-o",
        out,
        check=False,
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and message in lines[0], result.stderr
    assert not out.exists()
