"""privacy-check: metrics against independent computations, known answers, the gate, and the paper's S21
sensitivity test (training haplotypes planted in an otherwise independent synthetic set)."""

from __future__ import annotations

import json
import re

import numpy as np
import pytest
from conftest import report_contents, run_genosynth, write_805_split, write_with_moved_site
from genosynth.assess.distances import nearest_hamming, nearest_on_visible
from genosynth.assess.privacy import (
    adversarial_accuracy,
    check_privacy,
    exposure_p_values,
    roc_auc,
    roc_auc_delong,
)
from genosynth.io.hdf5 import write_matrix
from scipy.spatial.distance import cdist
from scipy.stats import mannwhitneyu


def _hamming(a, b):
    return np.rint(cdist(a, b, "hamming") * a.shape[1]).astype(int)


def test_nearest_hamming_matches_scipy():
    rng = np.random.default_rng(3)
    a, b = rng.integers(0, 2, (70, 120), dtype=np.uint8), rng.integers(0, 2, (40, 120), dtype=np.uint8)
    np.testing.assert_array_equal(nearest_hamming(a, b), _hamming(a, b).min(axis=1))
    within = _hamming(a, a) + np.diag(np.full(len(a), 10**6))
    np.testing.assert_array_equal(nearest_hamming(a, a, exclude_self=True), within.min(axis=1))


def _direct_aats(real, syn):
    """AA_truth, AA_syn and their tie shares straight from the definition (a tie counts as half)."""
    big = 10**6
    d_rs, d_sr = _hamming(real, syn).min(1), _hamming(syn, real).min(1)
    d_rr = (_hamming(real, real) + np.diag([big] * len(real))).min(1)
    d_ss = (_hamming(syn, syn) + np.diag([big] * len(syn))).min(1)
    return (
        np.mean((d_rs > d_rr) + 0.5 * (d_rs == d_rr)),
        np.mean((d_sr > d_ss) + 0.5 * (d_sr == d_ss)),
        np.mean(d_rs == d_rr),
        np.mean(d_sr == d_ss),
    )


def test_aats_matches_direct_definition_on_equal_sizes():
    rng = np.random.default_rng(4)
    real, syn = rng.integers(0, 2, (50, 12), dtype=np.uint8), rng.integers(0, 2, (50, 12), dtype=np.uint8)
    result = adversarial_accuracy(real, syn, repeats=3, rng=np.random.default_rng(0))
    truth, synthetic, ties_truth, ties_syn = _direct_aats(real, syn)
    assert ties_truth > 0.1 and ties_syn > 0.1  # 12 sites: plenty of ties, each counted as half
    assert (result.aa_truth, result.aa_syn) == pytest.approx((truth, synthetic))
    assert (result.ties_truth, result.ties_syn) == pytest.approx((ties_truth, ties_syn))


def test_unequal_sizes_average_the_definition_over_subsamples_of_the_larger_set():
    rng = np.random.default_rng(5)
    big, small = rng.integers(0, 2, (70, 15), dtype=np.uint8), rng.integers(0, 2, (40, 15), dtype=np.uint8)
    for real, syn in ((big, small), (small, big)):
        result = adversarial_accuracy(real, syn, repeats=4, rng=np.random.default_rng(9))
        draws = np.random.default_rng(9)
        subsets = [np.sort(draws.choice(70, 40, replace=False)) for _ in range(4)]
        expected = np.mean(
            [
                _direct_aats(real[s] if len(real) == 70 else real, syn[s] if len(syn) == 70 else syn)[:2]
                for s in subsets
            ],
            axis=0,
        )
        assert (result.aa_truth, result.aa_syn) == pytest.approx(tuple(expected))


def test_a_given_size_subsamples_both_sets_and_is_bounded_by_the_smaller():
    rng = np.random.default_rng(6)
    real, syn = rng.integers(0, 2, (70, 15), dtype=np.uint8), rng.integers(0, 2, (40, 15), dtype=np.uint8)
    result = adversarial_accuracy(real, syn, repeats=3, rng=np.random.default_rng(2), size=25)
    draws = np.random.default_rng(2)
    subsets = [
        (np.sort(draws.choice(70, 25, replace=False)), np.sort(draws.choice(40, 25, replace=False))) for _ in range(3)
    ]
    expected = np.mean([_direct_aats(real[r], syn[s])[:2] for r, s in subsets], axis=0)
    assert (result.aa_truth, result.aa_syn) == pytest.approx(tuple(expected))
    with pytest.raises(ValueError, match="outside 2..40"):
        adversarial_accuracy(real, syn, repeats=1, rng=rng, size=41)


def _mosaics(pool: np.ndarray, n: int, *, switches: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` haplotypes each copied from ``switches + 1`` random haplotypes of ``pool`` in turn, switching at
    random sites: new haplotypes of the pool's distribution, more alike than real ones (a generator that never
    saw the training set, yet imperfect)."""
    out = np.empty((n, pool.shape[1]), dtype=np.uint8)
    for row in out:
        bounds = [0, *np.sort(rng.choice(pool.shape[1], switches, replace=False)), pool.shape[1]]
        for start, end, source in zip(bounds, bounds[1:], rng.choice(len(pool), switches + 1)):
            row[start:end] = pool[source, start:end]
    return out


def _numbered_sites(n_sites: int):
    """Sites 1..n of chromosome 1, 100 bp apart, A>C: the coordinates of a simulated genotype matrix."""
    from genosynth.io.matrix import Sites

    return Sites(
        np.array(["1"] * n_sites),
        np.arange(1, n_sites + 1) * 100,
        np.array(["."] * n_sites),
        np.array(["A"] * n_sites),
        np.array(["C"] * n_sites),
    )


def test_privacy_loss_of_a_generator_that_never_saw_the_training_set_is_near_zero_whatever_the_set_sizes():
    """A dense coalescent window, 1200 training, 300 held-out and 1200 artificial haplotypes, the artificial
    ones mosaics of a third set: AATS depends on the size here, so measured at each set's own size the privacy
    loss would read about -0.1; measured at one size (the smallest set's) it reads 0 up to noise."""
    import msprime
    from genosynth.assess.privacy import check_privacy
    from genosynth.io.matrix import HaplotypeMatrix

    ts = msprime.sim_ancestry(
        samples=1000, population_size=10_000, sequence_length=300_000, recombination_rate=1e-8, random_seed=3
    )
    h = msprime.sim_mutations(ts, rate=1e-8, random_seed=3, model=msprime.BinaryMutationModel()).genotype_matrix().T
    rng = np.random.default_rng(0)
    h = h[rng.permutation(len(h))].astype(np.uint8)
    train, holdout, synthetic = h[:1200], h[1200:1500], _mosaics(h[1500:], 1200, switches=3, rng=rng)
    sites = _numbered_sites(h.shape[1])
    report = check_privacy(
        *(HaplotypeMatrix.artificial(x, sites) for x in (train, holdout, synthetic)),
        seed=1,
        device="cpu",
        progress=False,
    )
    m = report.metrics
    assert m["aats_size"] == 300 and m["aats_train"] > 0.65  # imperfect: more alike than real haplotypes
    assert abs(m["privacy_loss"]) < 0.03 and m["exact_copies"] == 0 and abs(m["mia_auc"] - 0.5) < 0.05
    assert m["privacy_loss_se"] == pytest.approx(np.hypot(m["aats_se_train"], m["aats_se_holdout"]))
    assert 0.005 < m["privacy_loss_se"] < 0.03  # 300 haplotypes a side
    at_own_sizes = adversarial_accuracy(train, synthetic, repeats=1, rng=rng).aats
    assert m["aats_holdout"] - at_own_sizes < -0.05  # what comparing AATS at 1200 with AATS at 300 would report


def test_exact_copies_are_read_against_held_out_haplotypes_identical_to_training_ones():
    """A coalescent window of 200 kb and 2000 haplotypes, where real individuals share whole haplotypes (86% of
    the held-out ones are identical to a training one): unseen real haplotypes copy training ones about as often
    (no sign of memorisation, the caveat says), the training set itself clearly more often."""
    import msprime
    from genosynth.assess.privacy import check_privacy
    from genosynth.io.matrix import HaplotypeMatrix

    ts = msprime.sim_ancestry(
        samples=1000, population_size=10_000, sequence_length=200_000, recombination_rate=1e-8, random_seed=4
    )
    h = msprime.sim_mutations(ts, rate=1e-8, random_seed=4, model=msprime.BinaryMutationModel()).genotype_matrix().T
    h = h[np.random.default_rng(0).permutation(len(h))].astype(np.uint8)
    train, holdout, unseen = h[:1200], h[1200:1500], h[1500:]
    sites = _numbered_sites(h.shape[1])
    training = {bytes(row) for row in train}
    reports = {
        name: check_privacy(
            *(HaplotypeMatrix.artificial(x, sites) for x in (train, holdout, synthetic)),
            seed=1,
            device="cpu",
            progress=False,
        )
        for name, synthetic in (("unseen", unseen), ("train", train))
    }
    m = reports["unseen"].metrics
    assert m["holdout_copies_of_train"] == sum(bytes(row) in training for row in holdout) > 100
    assert m["exact_copies"] == sum(bytes(row) in training for row in unseen) > 100
    assert reports["unseen"].caveats == [
        f"{m['exact_copies'] / 500:.1%} of the synthetic haplotypes are exact copies of training ones, and "
        f"{m['holdout_copies_of_train'] / 300:.1%} of the held-out haplotypes are identical to a training one: copies "
        f"at about that rate or below are what real individuals share, no sign of memorisation by themselves"
    ]
    m = reports["train"].metrics
    assert m["exact_copies"] == 1200 and m["holdout_copies_of_train"] < 300
    assert len(reports["train"].caveats) == 1 and reports["train"].caveats[0].startswith("100.0% of the synthetic")
    assert "clearly more often than held-out individuals do" in reports["train"].caveats[0]


def test_two_samples_of_one_tie_heavy_distribution_score_half():
    """A coalescent simulation with few sites, where most nearest neighbours tie: two halves of it (a perfect
    generator) score AATS 0.5 up to sampling error, which strict inequalities alone would put near 0.05."""
    import msprime

    ts = msprime.sim_ancestry(
        samples=2000, population_size=10_000, sequence_length=200_000, recombination_rate=1e-8, random_seed=2, ploidy=1
    )
    h = msprime.sim_mutations(ts, rate=2e-8, random_seed=2, model=msprime.BinaryMutationModel()).genotype_matrix().T
    order = np.random.default_rng(2).permutation(len(h))
    a, b = h[order[:1000]].astype(np.uint8), h[order[1000:]].astype(np.uint8)
    result = adversarial_accuracy(a, b, repeats=1, rng=np.random.default_rng(0))
    ties = (result.ties_truth + result.ties_syn) / 2
    strict = result.aats - ties / 2
    assert ties > 0.8 and strict < 0.1 and abs(result.aats - 0.5) < 0.02


def test_roc_auc_matches_mann_whitney():
    rng = np.random.default_rng(5)
    pos, neg = rng.integers(0, 6, 80).astype(float), rng.integers(0, 6, 120).astype(float)
    assert roc_auc(pos, neg) == pytest.approx(mannwhitneyu(pos, neg).statistic / (80 * 120))


@pytest.fixture(scope="module")
def sets_805(data_805, tmp_path_factory):
    """Real 1000G haplotypes split by individual: train 300, holdout 150, and 150 unseen ones as a perfect generator."""
    return write_805_split(
        data_805, tmp_path_factory.mktemp("privacy"), {"train": 300, "holdout": 150, "independent": 150}, seed=0
    )


def _check(sets, synthetic, out, *extra):
    result = run_genosynth(
        "privacy-check",
        "--train",
        sets["train"],
        "--holdout",
        sets["holdout"],
        "--synthetic",
        synthetic,
        "-o",
        out,
        "--seed",
        "1",
        "--device",
        "cpu",
        *extra,
        check=False,
    )
    return result, json.loads((out / "privacy.json").read_text()) if (out / "privacy.json").exists() else None


def test_training_set_as_its_own_synthetic_set_fails_the_gate(sets_805, tmp_path):
    """AATS at the held-out set's size (300 of the 600 copies and 300 of the 600 training haplotypes, drawn
    independently) finds about half the copies' sources, so AATS(train) sits near 0.25, not 0; the copies and
    the membership inference count all of them."""
    result, metrics = _check(sets_805, sets_805["train"], tmp_path / "out", "--max-privacy-loss", "0.1")
    assert metrics["aats_size"] == 300 and 0.2 < metrics["aats_train"] < 0.3
    assert 0.2 < metrics["aa_truth_train"] < 0.3 and 0.2 < metrics["aa_syn_train"] < 0.3
    assert metrics["privacy_loss"] > 0.2 and metrics["exact_copies"] == 600 and metrics["mia_auc"] == 1.0
    assert metrics["caveats"] == []  # balanced halves: the privacy loss shows the copying plainly
    assert result.returncode == 2
    assert (
        result.stderr.strip()
        .splitlines()[-1]
        .startswith("genosynth privacy-check: error: privacy gate failed: privacy loss")
    )
    assert metrics["gate"]["passed"] is False and (tmp_path / "out" / "report.html").is_file()


def test_report_is_self_contained_and_holds_every_plot(sets_805, tmp_path):
    result, metrics = _check(sets_805, sets_805["independent"], tmp_path / "out")
    assert result.returncode == 0, result.stderr
    for key in (
        "aats_train",
        "aats_holdout",
        "aa_truth_train",
        "aa_syn_train",
        "privacy_loss",
        "exact_copies",
        "near_copies",
        "mia_auc",
    ):
        assert key in metrics
    assert metrics["provenance"]["inputs"][2]["sha256"]

    sources, links = report_contents(tmp_path / "out" / "report.html")
    assert len(sources) == 5 and all(s.startswith("data:image/png;base64,") for s in sources)
    assert links == []
    for name in ("dcr", "mia_roc", "aats", "attribute_inference", "exposure"):
        assert (tmp_path / "out" / f"{name}.png").stat().st_size > 1000
        assert (tmp_path / "out" / f"{name}.pdf").read_bytes().startswith(b"%PDF")


def test_sensitivity_to_planted_training_haplotypes(sets_805, tmp_path):
    """The paper's S21: which metrics flag 1, 10 and 100 copied training haplotypes among 300 unseen ones."""
    from genosynth.io.hdf5 import read_matrix

    train = read_matrix(sets_805["train"])
    independent = read_matrix(sets_805["independent"])
    results = {}
    for planted in (0, 1, 10, 100):
        haplotypes = independent.haplotypes.copy()
        haplotypes[:planted] = train.haplotypes[np.random.default_rng(planted).choice(600, planted, replace=False)]
        mixed = type(independent)(
            haplotypes, independent.sites, independent.samples, independent.ploidy, independent.populations
        )
        write_matrix(tmp_path / f"syn{planted}.h5", mixed)
        _, results[planted] = _check(sets_805, tmp_path / f"syn{planted}.h5", tmp_path / f"out{planted}")
    assert [results[k]["exact_copies"] for k in (0, 1, 10, 100)] == [0, 1, 10, 100]
    assert abs(results[0]["privacy_loss"]) < 0.05 and abs(results[0]["mia_auc"] - 0.5) < 0.06
    assert results[100]["mia_auc"] > results[10]["mia_auc"] > results[0]["mia_auc"]
    assert results[100]["mia_auc"] > 0.53 and results[100]["privacy_loss"] > 0.05
    assert results[0]["dcr"]["synthetic_to_train"]["min"] > 0 and results[1]["dcr"]["synthetic_to_train"]["min"] == 0


def test_site_mismatch_names_the_site(sets_805, tmp_path):
    write_with_moved_site(sets_805["independent"], tmp_path / "moved.h5", 4)
    result, _ = _check(sets_805, tmp_path / "moved.h5", tmp_path / "out")
    assert result.returncode == 1
    assert re.search(r"moved\.h5: site 5 is \d+:\d+ \w>\w, but .*train\.h5 has", result.stderr)


@pytest.mark.gpu
def test_nearest_hamming_on_cuda_equals_cpu():
    rng = np.random.default_rng(6)
    a, b = rng.integers(0, 2, (3000, 2000), dtype=np.uint8), rng.integers(0, 2, (2500, 2000), dtype=np.uint8)
    np.testing.assert_array_equal(nearest_hamming(a, b, device="cuda"), nearest_hamming(a, b, device="cpu"))


def test_each_gate_and_near_distance_act_on_their_own_metric(sets_805, tmp_path):
    from genosynth.io.hdf5 import read_matrix

    train, independent = read_matrix(sets_805["train"]), read_matrix(sets_805["independent"])
    haplotypes = independent.haplotypes.copy()
    haplotypes[:5] = train.haplotypes[:5]
    haplotypes[5:8] = train.haplotypes[5:8]
    haplotypes[5:8, :2] ^= 1  # three copies with 2 sites changed: near copies at --near 2, not at --near 1
    write_matrix(
        tmp_path / "syn.h5",
        type(independent)(
            haplotypes, independent.sites, independent.samples, independent.ploidy, independent.populations
        ),
    )
    result, metrics = _check(
        sets_805,
        tmp_path / "syn.h5",
        tmp_path / "near1",
        "--near",
        "1",
        "--max-exact-copies",
        "5",
        "--max-mia-auc",
        "0.9",
    )
    assert result.returncode == 0 and metrics["exact_copies"] == 5 and metrics["near_copies"] == 5
    result, metrics = _check(
        sets_805, tmp_path / "syn.h5", tmp_path / "near2", "--near", "2", "--max-exact-copies", "4"
    )
    assert metrics["near_copies"] == 8 and metrics["near_distance"] == 2
    error_line = result.stderr.strip().splitlines()[-1]
    assert result.returncode == 2 and "exact copies 5 > 4" in error_line and "privacy loss" not in error_line
    result, metrics = _check(sets_805, tmp_path / "syn.h5", tmp_path / "auc", "--max-mia-auc", "0.3")
    assert result.returncode == 2 and re.search(
        r"membership-inference AUC 0\.\d+ \(95% CI [\d.]+-[\d.]+\) > 0\.3", result.stderr
    )
    low, high = metrics["mia_auc_ci"]
    assert metrics["gate"]["failures"] == [
        f"membership-inference AUC {metrics['mia_auc']:.3f} (95% CI {low:.3f}-{high:.3f}) > 0.3"
    ]


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--near", "-1"], "--near must be >= 0"),
        (["--repeats", "0"], "--repeats must be >= 1"),
        (["--hidden-fraction", "0"], "--hidden-fraction must be in (0, 1)"),
        (["--hidden-fraction", "1"], "--hidden-fraction must be in (0, 1)"),
        (["--max-exposed-fraction", "1.5"], "--max-exposed-fraction must be in [0, 1]"),
    ],
)
def test_bad_option_values_are_one_line_errors(sets_805, tmp_path, extra, message):
    result, metrics = _check(sets_805, sets_805["independent"], tmp_path / "out", *extra)
    assert result.returncode == 1 and message in result.stderr and metrics is None
    assert len(result.stderr.strip().splitlines()) == 1


def test_device_cuda_without_a_gpu_is_refused(sets_805, tmp_path):
    import torch

    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    result = run_genosynth(
        "privacy-check",
        "--train",
        sets_805["train"],
        "--holdout",
        sets_805["holdout"],
        "--synthetic",
        sets_805["independent"],
        "-o",
        tmp_path / "out",
        "--device",
        "cuda",
        check=False,
    )
    assert result.returncode == 1 and "--device cuda: no CUDA device is visible" in result.stderr


def test_saturated_aats_halves_are_a_caveat_beside_the_privacy_loss(sets_805, tmp_path):
    """Every training haplotype copied with a third of its sites flipped: each copy is nearer its source than any
    other copy (AA_syn 0.01) and most real haplotypes nearer another real one than any copy (AA_truth 0.91), so
    AATS stays near 0.5 and the privacy loss small (0.05) although membership inference finds every training
    haplotype (AUC 1); the report says so. An unseen real set, whose halves are balanced, gets no caveat."""
    from genosynth.io.hdf5 import read_matrix

    train = read_matrix(sets_805["train"])
    flips = np.random.default_rng(5).random(train.haplotypes.shape) < 0.33
    noisy = type(train)(
        train.haplotypes ^ flips.astype(np.uint8), train.sites, train.samples, train.ploidy, train.populations
    )
    write_matrix(tmp_path / "noisy.h5", noisy)
    result, metrics = _check(sets_805, tmp_path / "noisy.h5", tmp_path / "noisy")
    assert result.returncode == 0 and metrics["aa_syn_train"] < 0.1 and metrics["mia_auc"] > 0.9, metrics
    assert metrics["privacy_loss"] < 0.1  # what the caveat is for
    assert len(metrics["caveats"]) == 1 and "the privacy loss can understate memorisation" in metrics["caveats"][0]
    assert (
        "caveat: AA_truth" in result.stderr and "Caveat: AA_truth" in (tmp_path / "noisy" / "report.html").read_text()
    )
    result, metrics = _check(sets_805, sets_805["independent"], tmp_path / "independent")
    assert metrics["caveats"] == [] and "caveat" not in result.stderr


# -- the stronger attacks: attribute inference, exposure, the AUC's confidence interval ------------------------


def test_nearest_on_visible_sites_matches_a_direct_search():
    rng = np.random.default_rng(8)
    queries, reference = rng.integers(0, 2, (60, 40), dtype=np.uint8), rng.integers(0, 2, (90, 40), dtype=np.uint8)
    visible = (rng.random(queries.shape) > 0.3).astype(np.uint8)
    direct = np.array([((reference != q) & (v == 1)).sum(axis=1).argmin() for q, v in zip(queries, visible)])
    np.testing.assert_array_equal(nearest_on_visible(queries, visible, reference), direct)


def test_delong_standard_error_matches_the_direct_definition():
    rng = np.random.default_rng(9)
    pos, neg = rng.integers(0, 8, 50).astype(float) + 1, rng.integers(0, 8, 70).astype(float)
    psi = (pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])
    v10, v01 = psi.mean(axis=1), psi.mean(axis=0)
    auc, se = roc_auc_delong(pos, neg)
    assert auc == pytest.approx(psi.mean()) and se == pytest.approx(
        np.sqrt(v10.var(ddof=1) / 50 + v01.var(ddof=1) / 70)
    )


def test_exposure_p_values_count_the_held_out_haplotypes_as_near():
    rng = np.random.default_rng(10)
    train, holdout = rng.integers(0, 30, 40), rng.integers(0, 30, 99)
    direct = [(1 + (holdout <= d).sum()) / 100 for d in train]
    np.testing.assert_allclose(exposure_p_values(train, holdout), direct)


@pytest.fixture(scope="module")
def attacked(sets_805):
    """check_privacy of a leaking generator (every training haplotype copied with 1% of its sites flipped) and of
    an independent one (unseen real individuals), in memory."""
    from genosynth.io.hdf5 import read_matrix

    train, holdout, independent = (read_matrix(sets_805[k]) for k in ("train", "holdout", "independent"))
    flips = np.random.default_rng(11).random(train.haplotypes.shape) < 0.01
    leaking = type(train)(
        train.haplotypes ^ flips.astype(np.uint8), train.sites, train.samples, train.ploidy, train.populations
    )
    return {
        name: check_privacy(train, holdout, synthetic, seed=2, device="cpu", progress=False)
        for name, synthetic in (("leaking", leaking), ("independent", independent))
    }


def test_attribute_inference_finds_a_leaking_generator_and_not_an_independent_one(attacked):
    leak, fair = attacked["leaking"].metrics, attacked["independent"].metrics
    assert leak["hidden_sites"] == round(0.1 * 805) and leak["attribute_targets"] == 300  # as many as held out
    assert leak["attribute_accuracy_train"] > 0.95 and leak["attribute_gap"] > 10 * leak["attribute_gap_se"] > 0
    assert leak["attribute_gap"] > 0.2
    assert abs(fair["attribute_gap"]) < 3 * fair["attribute_gap_se"] and fair["attribute_gap_se"] < 0.02
    # an unseen individual's hidden sites are guessed no better than from the commoner allele plus a little
    assert abs(fair["attribute_accuracy_holdout"] - fair["attribute_baseline_holdout"]) < 0.05


def test_exposure_names_the_training_haplotypes_a_leaking_generator_sits_on(attacked, sets_805):
    from genosynth.io.hdf5 import read_matrix

    leak, fair = attacked["leaking"].metrics, attacked["independent"].metrics
    assert leak["exposed_fraction"] > 0.95 and fair["exposed_fraction"] <= 0.01 + 3 * fair["exposed_fraction_se"]
    assert leak["smallest_p_value"] == pytest.approx(1 / 301)
    train = read_matrix(sets_805["train"])
    names = set(zip(train.haplotype_sample.tolist(), train.haplotype_index.tolist()))
    top = leak["most_exposed"]
    assert len(top) == 10 and all((row["sample"], row["haplotype"]) in names for row in top)
    assert all(row["p_value"] == pytest.approx(1 / 301) and row["distance"] <= 20 for row in top)
    assert len(attacked["leaking"].to_dict()["most_exposed"]) == 10 and "haplotypes" not in top[0]


def test_the_membership_auc_carries_a_confidence_interval_that_covers_one_half_without_a_leak(attacked):
    leak, fair = attacked["leaking"].metrics, attacked["independent"].metrics
    assert leak["mia_auc_ci"][0] > 0.95
    low, high = fair["mia_auc_ci"]
    assert low < 0.5 < high and high - low == pytest.approx(2 * 1.96 * fair["mia_auc_se"]) and fair["mia_auc_se"] > 0


def test_the_new_gates_fail_a_leaking_set_in_one_line_and_pass_an_independent_one(sets_805, tmp_path):
    from genosynth.io.hdf5 import read_matrix

    train = read_matrix(sets_805["train"])
    flips = np.random.default_rng(12).random(train.haplotypes.shape) < 0.01
    write_matrix(
        tmp_path / "leak.h5",
        type(train)(
            train.haplotypes ^ flips.astype(np.uint8), train.sites, train.samples, train.ploidy, train.populations
        ),
    )
    gates = ("--max-attribute-gap", "0.05", "--max-exposed-fraction", "0.05")
    result, metrics = _check(sets_805, tmp_path / "leak.h5", tmp_path / "leak", *gates)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 2 and lines[-1].startswith("genosynth privacy-check: error: privacy gate failed:")
    assert re.search(r"attribute-inference gap 0\.\d+ \(standard error 0\.\d+\) > 0\.05; exposed training "
                     r"haplotypes 1\.000 \(expected at most 0\.01\) > 0\.05", lines[-1])  # fmt: skip
    assert (tmp_path / "leak" / "gate.txt").read_text().startswith("failed: attribute-inference gap")
    exposure = (tmp_path / "leak" / "exposure.tsv").read_text().splitlines()
    assert exposure[0] == "sample\thaplotype\tpopulation\tdistance\tp_value" and len(exposure) == 601
    html = (tmp_path / "leak" / "report.html").read_text()
    assert "most exposed training haplotypes" in html and metrics["most_exposed"][0]["sample"] in html
    result, metrics = _check(sets_805, sets_805["independent"], tmp_path / "fair", *gates)
    assert result.returncode == 0 and metrics["gate"]["passed"], result.stderr


def test_a_differentially_private_guarantee_in_the_synthetic_provenance_is_reported(sets_805, tmp_path):
    from genosynth.io.hdf5 import read_matrix

    train, holdout, independent = (read_matrix(sets_805[k]) for k in ("train", "holdout", "independent"))
    guarantee = {"epsilon": 3.0, "epsilon_spent": 2.94, "delta": 1e-5, "accountant": "rdp", "unit": "individual"}
    independent.provenance = [{"step": "train-gan", "summary": {"privacy": guarantee}}, {"step": "sample"}]
    report = check_privacy(train, holdout, independent, seed=1, device="cpu", progress=False)
    assert report.to_dict()["differential_privacy"] == guarantee
    html = report.write(tmp_path / "out").joinpath("report.html").read_text()
    assert "epsilon 3 (spent 2.94), delta 1e-05, accountant rdp, per individual" in html
    independent.provenance = []
    assert (
        check_privacy(train, holdout, independent, seed=1, device="cpu", progress=False).metrics["differential_privacy"]
        is None
    )
