"""evaluate: every metric against an independent computation (numpy, scipy, direct POT calls), known answers on
real 1000 Genomes haplotypes, unequal set sizes, the report, and site-mismatch handling."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import report_contents, run_genosynth, write_805_split, write_with_moved_site
from genosynth.assess import fidelity
from genosynth.assess.distances import hamming_summary
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.spatial.distance import pdist
from scipy.stats import pearsonr, wasserstein_distance


def _haplotypes(seed: int, n: int, sites: int, p: float = 0.3) -> np.ndarray:
    """Random haplotypes with LD: within runs of three sites, a site copies the previous one 80% of the time."""
    rng = np.random.default_rng(seed)
    h = (rng.random((n, sites)) < p).astype(np.uint8)
    copies = rng.random((n, sites)) < 0.8
    for j in range(1, sites):
        if j % 3:
            h[copies[:, j], j] = h[copies[:, j], j - 1]
    return h


@pytest.mark.parametrize("shape", [(120, 60), (40, 90)])
def test_exact_pca_matches_numpy_svd(shape):
    h = _haplotypes(1, *shape)
    pca = fidelity.principal_components(h, n_components=4)
    centred = h - h.mean(axis=0)
    u, s, vt = np.linalg.svd(centred, full_matrices=False)
    signs = np.sign(vt[np.arange(4), np.abs(vt[:4]).argmax(axis=1)])
    np.testing.assert_allclose(pca.scores, u[:, :4] * s[:4] * signs, atol=1e-6)
    np.testing.assert_allclose(pca.explained_variance_ratio, s[:4] ** 2 / (s**2).sum(), rtol=1e-6)


def test_randomized_pca_finds_population_structure_like_numpy(monkeypatch):
    """Above the exact limit: randomized SVD on structured data (three populations) matches the exact answer."""
    import genosynth.assess.fidelity

    monkeypatch.setattr(genosynth.assess.fidelity, "_EXACT_PCA_LIMIT", 10)
    rng = np.random.default_rng(2)
    frequencies = rng.beta(0.5, 0.5, (3, 300))
    h = np.concatenate([(rng.random((80, 300)) < f).astype(np.uint8) for f in frequencies])
    pca = fidelity.principal_components(h, n_components=4, seed=3)
    u, s, vt = np.linalg.svd(h - h.mean(axis=0), full_matrices=False)
    signs = np.sign(vt[np.arange(4), np.abs(vt[:4]).argmax(axis=1)])
    np.testing.assert_allclose(pca.scores[:, :2], (u[:, :4] * s[:4] * signs)[:, :2], atol=1e-3)
    again = fidelity.principal_components(h, n_components=4, seed=99)
    np.testing.assert_allclose(again.scores[:, :2], pca.scores[:, :2], atol=1e-3)  # signs do not follow the start


def test_wasserstein_2d_matches_direct_pot_and_converges():
    import ot

    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(300, 2)), rng.normal(loc=0.5, size=(200, 2))
    cost = ot.dist(a, b)
    cost /= cost.max()
    exact = ot.emd2(ot.unif(300), ot.unif(200), cost, numItermax=10_000_000)
    assert fidelity.wasserstein_2d(a, b) == pytest.approx(exact, rel=1e-9)
    assert fidelity.wasserstein_2d(a, a) == 0.0


def test_wasserstein_1d_and_histogram_wasserstein_match_scipy():
    rng = np.random.default_rng(3)
    u, v = rng.normal(size=90), rng.normal(1, 2, size=40)
    assert fidelity.wasserstein_1d(u, v) == pytest.approx(wasserstein_distance(u, v))
    counts_a, counts_b = rng.integers(0, 9, 30), rng.integers(0, 9, 30)
    values_a, values_b = np.repeat(np.arange(30), counts_a), np.repeat(np.arange(30), counts_b)
    assert fidelity.histogram_wasserstein(counts_a, counts_b) == pytest.approx(wasserstein_distance(values_a, values_b))


def test_hamming_summary_matches_scipy_across_tiles(monkeypatch):
    import genosynth.assess.distances

    monkeypatch.setattr(genosynth.assess.distances, "_TILE_ROWS", 16)  # several tiles, diagonal and off-diagonal
    a, b = _haplotypes(4, 50, 40), _haplotypes(5, 37, 40)
    within = np.rint(pdist(a, "hamming") * 40).astype(int)
    summary = hamming_summary(a, histogram=True)
    np.testing.assert_array_equal(summary.histogram, np.bincount(within, minlength=41))
    full = np.rint(np.abs(a[:, None, :].astype(int) - a[None, :, :]).sum(-1)) + np.diag([10**6] * 50)
    np.testing.assert_array_equal(summary.nearest_a, full.min(axis=1))
    between = np.abs(a[:, None, :].astype(int) - b[None, :, :]).sum(-1)
    summary = hamming_summary(a, b, histogram=True)
    np.testing.assert_array_equal(summary.histogram, np.bincount(between.ravel(), minlength=41))
    np.testing.assert_array_equal(summary.nearest_a, between.min(axis=1))
    np.testing.assert_array_equal(summary.nearest_b, between.min(axis=0))


def _direct_ld(h: np.ndarray, keep: np.ndarray) -> np.ndarray:
    r = np.corrcoef(h[:, keep].T.astype(float))
    return r**2


def test_compare_ld_matches_numpy_over_tiles_and_chromosomes():
    real, other = _haplotypes(6, 80, 45), _haplotypes(7, 60, 45)
    other[:, 5] = 0  # fixed in one set: removed from both
    positions = np.concatenate([np.arange(30) * 100 + 50, np.arange(15) * 70 + 10])
    chromosomes = np.array(["1"] * 30 + ["2"] * 15)
    ld = fidelity.compare_ld(real, {"other": other}, positions=positions, chromosomes=chromosomes, bins=5, tile=7)
    keep = np.array([i for i in range(45) if 0 < real[:, i].mean() < 1 and 0 < other[:, i].mean() < 1])
    assert 5 not in keep and ld.sites.tolist() == keep.tolist()
    r2_real, r2_other = _direct_ld(real, keep), _direct_ld(other, keep)
    i, j = np.triu_indices(len(keep), k=1)
    same = chromosomes[keep][i] == chromosomes[keep][j]
    i, j = i[same], j[same]
    assert ld.n_pairs == len(i)
    assert ld.r["other"] == pytest.approx(pearsonr(r2_real[i, j], r2_other[i, j])[0], abs=1e-5)
    distance = np.abs(positions[keep][i] - positions[keep][j])
    span = max(np.ptp(positions[keep][chromosomes[keep] == c]) for c in ("1", "2"))
    bins = np.minimum((distance / (span / 5)).astype(int), 4)
    for b in range(5):
        assert ld.decay["real"][b] == pytest.approx(r2_real[i, j][bins == b].mean(), abs=1e-5)
        assert ld.decay["other"][b] == pytest.approx(r2_other[i, j][bins == b].mean(), abs=1e-5)
    corrected = [(r2[i, j].mean() - 1 / len(h)) / (1 - 1 / len(h)) for r2, h in ((r2_real, real), (r2_other, other))]
    assert ld.strength["other"] == pytest.approx(corrected[1] / corrected[0], rel=1e-4)


def test_ld_strength_sees_uniformly_weaker_ld_that_ld_r_cannot_whatever_the_set_sizes():
    """A set drawn from the real set's process with each allele redrawn at random 16% of the time has r² scaled
    by about 0.84^4 = 0.5 at every pair: r² still correlates with the real one (ld_r near 1), ld_strength reads
    about 0.5. The same process at 2000 and 250 haplotypes reads about 1 only with each mean corrected for its
    sample size (raw, the small set's r² look 20% stronger: unlinked pairs average about 1/n)."""
    sites = 60
    positions, chromosomes = np.arange(sites) * 100, np.array(["1"] * sites)
    real, same_small, same_large = _haplotypes(1, 2000, sites), _haplotypes(2, 250, sites), _haplotypes(3, 2000, sites)
    rng = np.random.default_rng(4)
    weaker = _haplotypes(5, 2000, sites)
    redrawn = rng.random(weaker.shape) < 0.16
    weaker[redrawn] = (rng.random(int(redrawn.sum())) < weaker.mean()).astype(np.uint8)
    ld = fidelity.compare_ld(
        real, {"small": same_small, "large": same_large, "weaker": weaker}, positions=positions, chromosomes=chromosomes
    )
    assert ld.r["weaker"] > 0.95 and 0.4 < ld.strength["weaker"] < 0.6
    assert 0.9 < ld.strength["small"] < 1.1 and 0.95 < ld.strength["large"] < 1.05
    pairs = np.triu_indices(sites, 1)
    raw = [fidelity.r_squared_matrix(h)[pairs].mean() for h in (same_small, real)]
    assert raw[0] / raw[1] > 1.15


@settings(max_examples=30, deadline=None)
@given(
    arrays(np.uint8, st.tuples(st.integers(2, 30), st.integers(3, 12)), elements=st.integers(0, 1)),
    st.integers(0, 1000),
)
def test_three_point_correlation_equals_centred_third_moment(h, seed):
    """<xyz> - <xy><z> - <xz><y> - <yz><x> + 2<x><y><z> is the third central moment E[(x-mx)(y-my)(z-mz)]."""
    triplets = np.sort(np.random.default_rng(seed).integers(0, h.shape[1], (5, 3)), axis=1)
    c = h.astype(float) - h.mean(axis=0)
    expected = (c[:, triplets[:, 0]] * c[:, triplets[:, 1]] * c[:, triplets[:, 2]]).mean(axis=0)
    np.testing.assert_allclose(fidelity.three_point_correlations(h, triplets, chunk=2), expected, atol=1e-6)


def test_triplets_have_the_asked_separations():
    triplets = fidelity.choose_triplets(3000, n_triplets=500, rng=np.random.default_rng(0))
    assert list(triplets) == ["1", "4", "16", "64", "256", "512", "1024", "random"]
    for sep, t in triplets.items():
        assert t.shape == (500, 3) and t.min() >= 0 and t.max() < 3000
        if sep == "random":  # three distinct sites, in order, drawn anew for each triplet
            assert (np.diff(t, axis=1) > 0).all() and len(np.unique(t, axis=0)) > 490
        else:
            assert (np.diff(t, axis=1) == int(sep)).all() and len(np.unique(t, axis=0)) == 500
    assert "1024" not in fidelity.choose_triplets(2000, rng=np.random.default_rng(0))


def test_fixed_fraction_and_pearson():
    assert fidelity.fixed_fraction(np.array([0.2, 0.5, 0.0, 1.0]), np.array([0.0, 1.0, 0.0, 1.0])) == 1.0
    assert fidelity.pearson(np.ones(5), np.arange(5)) is None
    x, y = np.random.default_rng(1).random((2, 40))
    assert fidelity.pearson(x, y) == pytest.approx(pearsonr(x, y)[0])


@pytest.fixture(scope="module")
def sets_805(data_805, tmp_path_factory):
    """Real 1000G haplotypes split by individual: real 200, holdout 100 and an independent 100 (unequal sizes)."""
    return write_805_split(
        data_805, tmp_path_factory.mktemp("evaluate"), {"real": 200, "holdout": 100, "independent": 100}, seed=1
    )


def test_evaluate_known_answers_report_and_unequal_sizes(sets_805, tmp_path):
    out = tmp_path / "out"
    run_genosynth(
        "evaluate",
        "--real",
        sets_805["real"],
        "--holdout",
        sets_805["holdout"],
        "--synthetic",
        f"same={sets_805['real']}",
        "--synthetic",
        f"independent={sets_805['independent']}",
        "-o",
        out,
        "--seed",
        "3",
        "--device",
        "cpu",
        "--triplets",
        "500",
    )
    metrics = json.loads((out / "metrics.json").read_text())
    assert list(metrics["sets"]) == ["holdout", "same", "independent"]
    same, independent = metrics["sets"]["same"], metrics["sets"]["independent"]
    assert same["af_r"] == pytest.approx(1.0) and same["ld_r"] == pytest.approx(1.0, abs=1e-6)
    assert same["w2d_pca"] == pytest.approx(0.0, abs=1e-9) and same["pairwise_w"] == 0.0
    assert same["fixed_fraction"] == 0.0 and same["aats"] == 0.0 and same["nn_real_to_set_median"] == 0.0
    assert all(r == pytest.approx(1.0) for r in same["three_point_r"].values())
    # real individuals not in the real set: faithful on every metric, no copies, AATS near 0.5
    assert independent["n_haplotypes"] == 200 and metrics["real"]["n_haplotypes"] == 400
    assert independent["af_r"] > 0.95 and independent["ld_r"] > 0.8 and independent["w2d_pca"] < 0.03
    assert independent["aats_se"] < 0.04 and abs(independent["aats"] - 0.5) < 3 * independent["aats_se"]
    assert (independent["aats_size"], same["aats_size"]) == (200, 400)  # the smaller of the set and the real one
    assert independent["exact_copies_of_real"] == 0
    # the metrics file and the table agree
    rows = [line.split("\t") for line in (out / "metrics.tsv").read_text().splitlines()]
    assert rows[0][:3] == ["set", "n_haplotypes", "af_r"] and [r[0] for r in rows[1:]] == [
        "holdout",
        "same",
        "independent",
    ]
    assert float(rows[3][rows[0].index("w2d_pca")]) == pytest.approx(independent["w2d_pca"], rel=1e-5)
    sources, links = report_contents(out / "report.html")
    pngs = sorted(out.glob("*.png"))
    assert len(sources) == len(pngs) == 10 and links == []  # 7 figures + one LD heatmap per set
    assert all(s.startswith("data:image/png;base64,") for s in sources)
    assert all(p.with_suffix(".pdf").read_bytes().startswith(b"%PDF") for p in pngs)
    assert metrics["provenance"]["seed"] == 3 and len(metrics["provenance"]["inputs"]) == 4


def test_site_mismatch_is_one_line_or_intersected(sets_805, tmp_path):
    moved = tmp_path / "moved.h5"
    sites = write_with_moved_site(sets_805["independent"], moved, 7)
    result = run_genosynth(
        "evaluate", "--real", sets_805["real"], "--synthetic", f"moved={moved}", "-o", tmp_path / "out", check=False
    )
    assert result.returncode == 1
    message = result.stderr.strip().splitlines()[-1]
    assert message.startswith("genosynth evaluate: error: ") and f"site 8 is {sites.label(7)}" in message
    assert not (tmp_path / "out" / "metrics.json").exists()
    result = run_genosynth(
        "evaluate",
        "--real",
        sets_805["real"],
        "--synthetic",
        f"moved={moved}",
        "-o",
        tmp_path / "out",
        "--intersect",
        "--triplets",
        "100",
        "--seed",
        "1",
    )
    assert "moved" in result.stderr and "loses 1 of its 805 sites" in result.stderr
    assert json.loads((tmp_path / "out" / "metrics.json").read_text())["n_sites"] == 804


@pytest.mark.parametrize(
    "value, problem",
    [
        ("nofile", "expected NAME=FILE"),
        ("real=x.h5", "reserved"),
        ("bad name=x.h5", "set name"),
    ],
)
def test_bad_set_names_are_one_line_errors(sets_805, tmp_path, value, problem):
    result = run_genosynth("evaluate", "--real", sets_805["real"], "--synthetic", value, "-o", tmp_path, check=False)
    assert result.returncode == 1 and problem in result.stderr and "Traceback" not in result.stderr


def test_repeated_set_name_is_an_error(sets_805, tmp_path):
    result = run_genosynth(
        "evaluate",
        "--real",
        sets_805["real"],
        "--synthetic",
        f"a={sets_805['holdout']}",
        "--synthetic",
        f"a={sets_805['independent']}",
        "-o",
        tmp_path,
        check=False,
    )
    assert result.returncode == 1 and "'a' is given more than once" in result.stderr


@pytest.mark.gpu
def test_evaluate_distances_pca_and_ld_on_cuda_equal_cpu():
    a, b = _haplotypes(8, 300, 200), _haplotypes(9, 250, 200)
    on = {device: hamming_summary(a, b, histogram=True, device=device) for device in ("cpu", "cuda")}
    np.testing.assert_array_equal(on["cpu"].histogram, on["cuda"].histogram)
    np.testing.assert_array_equal(on["cpu"].nearest_b, on["cuda"].nearest_b)
    positions, chromosomes = np.arange(200) * 10, np.array(["1"] * 200)
    ld = {
        device: fidelity.compare_ld(a, {"b": b}, positions=positions, chromosomes=chromosomes, device=device)
        for device in ("cpu", "cuda")
    }
    assert ld["cpu"].r["b"] == pytest.approx(ld["cuda"].r["b"], abs=1e-5)
    pcs = {device: fidelity.principal_components(a, device=device).scores for device in ("cpu", "cuda")}
    np.testing.assert_allclose(pcs["cpu"], pcs["cuda"], atol=1e-2)


@pytest.mark.parametrize("option, value", [("--components", "1"), ("--triplets", "0"), ("--ld-heatmap-sites", "1")])
def test_bad_evaluate_options_are_one_line_errors(sets_805, tmp_path, option, value):
    result = run_genosynth(
        "evaluate",
        "--real",
        sets_805["real"],
        "--synthetic",
        f"a={sets_805['holdout']}",
        option,
        value,
        "-o",
        tmp_path,
        check=False,
    )
    assert result.returncode == 1 and f"{option} must be >=" in result.stderr


def test_shared_legend_applies_to_hapt_inputs_only(data_805, tmp_path):
    """--legend is shared: the real set is a .hapt under a neutral name (as Galaxy stores it), the synthetic
    set a VCF of the same haplotypes; each is read as what it is, so the comparison is exact."""
    import shutil

    real = tmp_path / "real.dat"
    shutil.copyfile(data_805["hapt"], real)
    run_genosynth(
        "vcf-to-matrix",
        data_805["hapt"],
        "--legend",
        data_805["legend"],
        "--keep-monomorphic",
        "-o",
        tmp_path / "real.h5",
    )
    run_genosynth("export", tmp_path / "real.h5", "-o", tmp_path / "same.vcf.gz")
    run_genosynth(
        "evaluate",
        "--real",
        real,
        "--legend",
        data_805["legend"],
        "--synthetic",
        f"same={tmp_path / 'same.vcf.gz'}",
        "--triplets",
        "100",
        "--seed",
        "1",
        "-o",
        tmp_path / "out",
    )
    metrics = json.loads((tmp_path / "out" / "metrics.json").read_text())["sets"]["same"]
    assert metrics["af_r"] == pytest.approx(1.0) and metrics["w2d_pca"] == pytest.approx(0.0, abs=1e-12)
