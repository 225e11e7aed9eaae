"""selection-scan: equality with direct scikit-allel calls, a simulated sweep found where it was planted,
real-vs-synthetic agreement with known answers, NaN accounting, chromosomes kept apart, and bad input."""

from __future__ import annotations

import json

import allel
import numpy as np
import pytest
from conftest import report_contents, run_genosynth
from genosynth.downstream.selection.scan import compare_scans, spearman
from genosynth.io.hdf5 import read_matrix, write_matrix
from genosynth.io.matrix import HaplotypeMatrix

SWEEP_SITE = 1_000_001  # simulate_sweep's default: the middle of a 2 Mb region


@pytest.fixture(scope="module")
def sweep(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Populations A (hard sweep at 1 Mb), B and C, 30 individuals each, 2 Mb, as a matrix."""
    from genosynth.downstream.simulation import simulate_sweep

    workdir = tmp_path_factory.mktemp("sweep")
    vcf, populations = simulate_sweep(workdir / "sweep.vcf", seed=1)
    matrix = workdir / "sweep.h5"
    run_genosynth("vcf-to-matrix", vcf, "--populations", populations, "-o", matrix)
    scan = workdir / "scan"
    run_genosynth(
        "selection-scan",
        matrix,
        "--target",
        "A",
        "--versus",
        "B",
        "--outgroup",
        "C",
        "--synthetic",
        matrix,
        "--ihs",
        "-o",
        scan,
    )
    return {"matrix": matrix, "scan": scan, "dir": workdir, "data": read_matrix(matrix)}


def _table(path) -> dict[str, np.ndarray]:
    lines = path.read_text().splitlines()
    header = lines[0].split("\t")
    rows = [line.split("\t") for line in lines[1:]]
    return {name: np.array([row[i] for row in rows]) for i, name in enumerate(header)}


def _floats(column: np.ndarray) -> np.ndarray:
    return np.array([np.nan if v == "NA" else float(v) for v in column])  # tables write missing values as NA


def _population(matrix: HaplotypeMatrix, name: str) -> np.ndarray:
    return matrix.haplotypes[matrix.haplotype_population == name]


def test_scores_equal_direct_scikit_allel_calls(sweep):
    m = sweep["data"]
    a, b, c = (_population(m, p) for p in "ABC")
    pos = m.sites.pos
    xpehh = _table(sweep["scan"] / "xpehh.tsv")
    np.testing.assert_array_equal(xpehh["POS"].astype(int), pos)
    direct = allel.xpehh(a.T, b.T, pos, use_threads=False)
    np.testing.assert_allclose(_floats(xpehh["XPEHH"]), direct, rtol=1e-5, equal_nan=True)
    np.testing.assert_allclose(
        _floats(xpehh["XPEHH_STD"]), allel.standardize(direct), rtol=1e-5, atol=1e-6, equal_nan=True
    )

    pbs = _table(sweep["scan"] / "pbs.tsv")
    counts = [allel.HaplotypeArray(h.T).count_alleles(max_allele=1) for h in (a, b, c)]
    direct_pbs = allel.pbs(*counts, window_size=10, window_step=5)
    np.testing.assert_allclose(_floats(pbs["PBS"]), direct_pbs, rtol=1e-5, equal_nan=True)
    assert pbs["START"].astype(int)[1] == pos[5] and pbs["END"].astype(int)[1] == pos[14]

    ihs = _table(sweep["scan"] / "ihs.tsv")
    raw = allel.ihs(a.T, pos, use_threads=False)
    direct_ihs, _ = allel.standardize_by_allele_count(raw, a.sum(axis=0), n_bins=50, diagnostics=False)
    np.testing.assert_allclose(_floats(ihs["IHS_STD"]), direct_ihs, rtol=1e-5, atol=1e-6, equal_nan=True)


def test_simulated_sweep_tops_both_scans(sweep):
    summary = json.loads((sweep["scan"] / "summary.json").read_text())
    top_xpehh = summary["xpehh"]["real"]["top"]
    top_pbs = summary["pbs"]["real"]["top"]
    # the region is 2 Mb: the highest score of each statistic lies within 100 kb of the sweep site
    assert abs(top_xpehh["start"] - SWEEP_SITE) < 100_000, top_xpehh
    assert top_pbs["start"] - 100_000 < SWEEP_SITE < top_pbs["end"] + 100_000, top_pbs
    assert top_xpehh["score"] > 2


def test_nan_scores_are_kept_and_counted(sweep):
    summary = json.loads((sweep["scan"] / "summary.json").read_text())
    xpehh = _floats(_table(sweep["scan"] / "xpehh.tsv")["XPEHH_STD"])
    assert summary["xpehh"]["real"]["nan"] == int(np.isnan(xpehh).sum()) > 0
    assert summary["xpehh"]["synthetic"]["n_compared"] == int(np.isfinite(xpehh).sum())
    ihs = _floats(_table(sweep["scan"] / "ihs.tsv")["IHS_STD"])
    assert summary["ihs"]["real"]["nan"] == int(np.isnan(ihs).sum())


def test_real_target_as_synthetic_agrees_exactly_and_report_is_whole(sweep):
    summary = json.loads((sweep["scan"] / "summary.json").read_text())
    for statistic in ("xpehh", "pbs", "ihs"):
        agreement = summary[statistic]["synthetic"]
        assert agreement["pearson"] == pytest.approx(1.0) and agreement["spearman"] == pytest.approx(1.0)
        assert agreement["peaks_shared"] == agreement["peaks_real"] > 0
    for name in ("xpehh", "pbs", "ihs"):
        assert (sweep["scan"] / f"{name}.png").stat().st_size > 0 and (sweep["scan"] / f"{name}.pdf").is_file()
    sources, links = report_contents(sweep["scan"] / "report.html")
    assert len(sources) == 3 and all(s.startswith("data:image/png;base64,") for s in sources) and not links
    assert summary["provenance"]["step"] == "selection-scan"


def test_haplotypes_without_linkage_lose_the_signal(sweep):
    """Each site of A shuffled on its own: same allele frequencies (PBS unchanged), haplotypes broken (XP-EHH moves)."""
    m = sweep["data"]
    a = _population(m, "A")
    rng = np.random.default_rng(2)
    shuffled = np.stack([rng.permutation(column) for column in a.T], axis=1)
    n = len(shuffled) // 2
    synthetic = HaplotypeMatrix(
        shuffled,
        m.sites,
        np.array([f"ag{i}" for i in range(n)]),
        np.full(n, 2, np.int8),
        np.array(["A"] * n),
        label="AG",
    )
    path = sweep["dir"] / "shuffled.h5"
    write_matrix(path, synthetic)
    out = sweep["dir"] / "scan_shuffled"
    run_genosynth(
        "selection-scan",
        sweep["matrix"],
        "--target",
        "A",
        "--versus",
        "B",
        "--outgroup",
        "C",
        "--synthetic",
        path,
        "-o",
        out,
    )
    summary = json.loads((out / "summary.json").read_text())
    assert summary["pbs"]["synthetic"]["pearson"] == pytest.approx(1.0)
    # XP-EHH also reflects the versus population's haplotypes, which both scans share: the agreement drops, not to 0
    assert summary["xpehh"]["synthetic"]["pearson"] < 0.8 and summary["xpehh"]["synthetic"]["spearman"] < 0.8


def test_chromosomes_are_scanned_apart_and_a_map_is_used(sweep):
    m = sweep["data"]
    half = m.n_sites // 2
    sites = m.sites.take(slice(None))
    sites.chrom = np.where(np.arange(m.n_sites) < half, "1", "2")
    path = sweep["dir"] / "two_chromosomes.h5"
    write_matrix(path, HaplotypeMatrix(m.haplotypes, sites, m.samples, m.ploidy, m.populations))
    genetic_map = sweep["dir"] / "two.map"
    genetic_map.write_text("1\t.\t0\t1\n1\t.\t4\t2000001\n2\t.\t0\t1\n2\t.\t2\t2000001\n")
    out = sweep["dir"] / "scan_two"
    run_genosynth(
        "selection-scan",
        path,
        "--target",
        "A",
        "--versus",
        "B",
        "--outgroup",
        "C",
        "--window",
        "20",
        "--step",
        "20",
        "--map",
        genetic_map,
        "-o",
        out,
    )
    a, b = _population(m, "A"), _population(m, "B")
    pos = m.sites.pos
    parts = [
        allel.xpehh(a[:, s].T, b[:, s].T, pos[s], map_pos=pos[s] * rate, use_threads=False)
        for s, rate in ((slice(0, half), 2e-6), (slice(half, None), 1e-6))
    ]
    xpehh = _table(out / "xpehh.tsv")
    np.testing.assert_allclose(_floats(xpehh["XPEHH"]), np.concatenate(parts), rtol=1e-4, equal_nan=True)
    pbs = _table(out / "pbs.tsv")
    assert len(pbs["CHROM"]) == half // 20 + (m.n_sites - half) // 20  # no window spans both chromosomes
    assert ((pbs["CHROM"] == "1") == (pbs["END"].astype(int) <= pos[half - 1])).all()


@pytest.mark.parametrize(
    "case, message",
    [
        ("unknown", "population 'D' has 0 haplotypes, at least 2 are needed (populations: A, B, C"),
        ("same", "must name different populations"),
        ("unsorted", "positions must increase strictly within a chromosome, but site 3"),
        ("sites", "site 1 is"),
    ],
)
def test_bad_input_exits_1_with_one_line(sweep, case, message):
    m = sweep["data"]
    args = ["--target", "A", "--versus", "B"]
    matrix = sweep["matrix"]
    if case == "unknown":
        args = ["--target", "D", "--versus", "B"]
    elif case == "same":
        args = ["--target", "A", "--versus", "A"]
    elif case == "unsorted":
        sites = m.sites.take(slice(None))
        sites.pos = sites.pos.copy()
        sites.pos[2] = sites.pos[1]
        matrix = sweep["dir"] / "unsorted.h5"
        write_matrix(matrix, HaplotypeMatrix(m.haplotypes, sites, m.samples, m.ploidy, m.populations))
    elif case == "sites":
        other = m.select_sites(np.arange(1, m.n_sites))
        path = sweep["dir"] / "fewer_sites.h5"
        write_matrix(path, other)
        args += ["--synthetic", path]
    out = sweep["dir"] / f"bad_{case}"
    result = run_genosynth("selection-scan", matrix, *args, "-o", out, check=False)
    assert result.returncode == 1, result.stderr
    assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert not (out / "summary.json").exists()


def test_spearman_and_peaks_match_scipy():
    from scipy.stats import spearmanr

    rng = np.random.default_rng(5)
    x = rng.integers(0, 20, 300).astype(float)
    y = x + rng.normal(0, 5, 300)
    assert spearman(x, y) == pytest.approx(spearmanr(x, y).statistic)
    y_nan = y.copy()
    y_nan[:10] = np.nan
    out = compare_scans(x, y_nan, percentile=95)
    assert out["n_compared"] == 290 and out["nan_synthetic"] == 10
    assert out["spearman"] == pytest.approx(spearmanr(x[10:], y[10:]).statistic)
    assert out["peaks_synthetic"] == int((y[10:] >= np.percentile(y[10:], 95)).sum())


def test_ehh_window_and_ihs_options_reach_scikit_allel(sweep):
    out = sweep["dir"] / "scan_options"
    run_genosynth(
        "selection-scan",
        sweep["matrix"],
        "--target",
        "A",
        "--versus",
        "B",
        "--outgroup",
        "C",
        "--ihs",
        "--min-ehh",
        "0.1",
        "--gap-scale",
        "10000",
        "--max-gap",
        "100000",
        "--window",
        "20",
        "--step",
        "10",
        "--min-maf",
        "0.1",
        "--percentile",
        "95",
        "-o",
        out,
    )
    m = sweep["data"]
    a, b, c = (_population(m, p) for p in "ABC")
    pos = m.sites.pos
    ehh = {"min_ehh": 0.1, "gap_scale": 10000, "max_gap": 100000, "use_threads": False}
    np.testing.assert_allclose(
        _floats(_table(out / "xpehh.tsv")["XPEHH"]), allel.xpehh(a.T, b.T, pos, **ehh), rtol=1e-5, equal_nan=True
    )
    counts = [allel.HaplotypeArray(h.T).count_alleles(max_allele=1) for h in (a, b, c)]
    np.testing.assert_allclose(
        _floats(_table(out / "pbs.tsv")["PBS"]),
        allel.pbs(*counts, window_size=20, window_step=10),
        rtol=1e-5,
        equal_nan=True,
    )
    raw = allel.ihs(a.T, pos, min_maf=0.1, **ehh)
    direct, _ = allel.standardize_by_allele_count(raw, a.sum(axis=0), n_bins=50, diagnostics=False)
    np.testing.assert_allclose(
        _floats(_table(out / "ihs.tsv")["IHS_STD"]), direct, rtol=1e-5, atol=1e-6, equal_nan=True
    )
    summary = json.loads((out / "summary.json").read_text())
    xpehh = _floats(_table(out / "xpehh.tsv")["XPEHH_STD"])
    assert summary["xpehh"]["real"]["threshold"] == pytest.approx(np.nanpercentile(xpehh, 95), rel=1e-4)


@pytest.mark.parametrize(
    "option, value, message",
    [
        ("--min-ehh", "1.5", "--min-ehh must be in (0, 1)"),
        ("--window", "1", "--window must be >= 2"),
        ("--percentile", "100", "--percentile must be in [50, 100)"),
        ("--min-maf", "0.6", "--min-maf must be in [0, 0.5)"),
        ("--max-gap", "0", "--max-gap must be >= 1"),
        ("--step", "0", "--step must be >= 1"),
    ],
)
def test_bad_option_values_exit_1(sweep, option, value, message):
    result = run_genosynth(
        "selection-scan",
        sweep["matrix"],
        "--target",
        "A",
        "--versus",
        "B",
        option,
        value,
        "-o",
        sweep["dir"] / "bad_option",
        check=False,
    )
    assert result.returncode == 1 and message in result.stderr and len(result.stderr.strip().splitlines()) == 1
