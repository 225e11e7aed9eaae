"""The mosaic (Li-Stephens copying) baseline: its switch rate against the model's expectation, the privacy knob's
bound on copied segments, population pools, genetic maps, and its fidelity on the real 805-SNP data judged by
evaluate beside the Bernoulli baseline."""

from __future__ import annotations

import genosynth
import numpy as np
import pytest
from genosynth._infra.errors import InputError
from genosynth.generate.models.mosaic import MosaicSettings, genetic_positions, mosaic_haplotypes
from hypothesis import given, settings
from hypothesis import strategies as st


def _switches(donors: np.ndarray) -> np.ndarray:
    return (np.diff(donors, axis=1) != 0).sum(axis=1)


def test_donor_switches_follow_the_li_stephens_rate():
    k, n, sites = 100, 3000, 1001
    reference = np.random.default_rng(1).integers(0, 2, (k, sites), dtype=np.uint8)
    centimorgans = np.linspace(0, 10, sites)  # 10 cM = 0.1 Morgan
    donors = np.empty((n, sites), dtype=np.int64)
    # 4 Ne / K = 100 jumps per Morgan: 10 over the 0.1 Morgan, a Poisson count
    mosaic_haplotypes(
        reference,
        n,
        np.random.default_rng(2),
        centimorgans=centimorgans,
        settings=MosaicSettings(ne=25 * k),
        donors_out=donors,
    )
    expected = 10 * (1 - 1 / k)  # a jump lands back on its donor 1 time in K, unseen
    observed = _switches(donors).mean()
    assert observed == pytest.approx(expected, rel=0.05)
    assert _switches(donors).var() == pytest.approx(expected, rel=0.15)  # Poisson: variance = mean


def test_max_segment_bounds_every_stretch_copied_from_one_donor():
    k, n, sites = 50, 400, 600
    reference = np.random.default_rng(3).integers(0, 2, (k, sites), dtype=np.uint8)
    centimorgans = np.cumsum(np.random.default_rng(4).exponential(0.01, sites))
    gap = np.diff(centimorgans).max()
    for limit in (0.2, 1.0):
        donors = np.empty((n, sites), dtype=np.int64)
        mosaic_haplotypes(
            reference,
            n,
            np.random.default_rng(5),
            centimorgans=centimorgans,
            settings=MosaicSettings(ne=1.0, max_segment_cm=limit),
            donors_out=donors,
        )
        longest = 0.0
        for row in donors:
            starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]])
            ends = np.r_[starts[1:] - 1, sites - 1]
            longest = max(longest, float((centimorgans[ends] - centimorgans[starts]).max()))
        assert limit - 2 * gap <= longest <= limit + gap


def test_each_haplotype_copies_only_its_population():
    reference = np.vstack([np.zeros((30, 40), np.uint8), np.ones((20, 40), np.uint8)])
    labels = np.array(["A"] * 30 + ["B"] * 20)
    groups = np.array(["A", "B"] * 50)
    out = mosaic_haplotypes(
        reference,
        100,
        np.random.default_rng(6),
        centimorgans=np.linspace(0, 50, 40),
        settings=MosaicSettings(miscopy=0.0, max_segment_cm=1.0),
        reference_groups=labels,
        groups=groups,
    )
    assert (out[groups == "A"] == 0).all() and (out[groups == "B"] == 1).all()
    with pytest.raises(InputError, match="no reference haplotype of population 'C'"):
        mosaic_haplotypes(
            reference,
            2,
            np.random.default_rng(6),
            centimorgans=np.zeros(40),
            reference_groups=labels,
            groups=np.array(["A", "C"]),
        )


def test_miscopy_rate_flips_alleles_at_that_rate():
    reference = np.zeros((10, 2000), np.uint8)
    out = mosaic_haplotypes(
        reference, 200, np.random.default_rng(7), centimorgans=np.zeros(2000), settings=MosaicSettings(miscopy=0.01)
    )
    assert out.mean() == pytest.approx(0.01, rel=0.05)


def test_genetic_map_is_interpolated_and_a_bad_row_names_its_line(tmp_path):
    good = tmp_path / "map.txt"
    good.write_text(
        "Chromosome\tPosition(bp)\tRate(cM/Mb)\tMap(cM)\n22\t1000000\t2.0\t0.0\n22\t2000000\t0.5\t2.0\n"
        "22\t3000000\t0.5\t2.5\n"
    )
    cm = genetic_positions(np.array([1_500_000, 2_000_000, 2_500_000, 500_000, 3_500_000]), genetic_map=good)
    np.testing.assert_allclose(cm, [1.0, 2.0, 2.25, -1.0, 2.75])
    two = tmp_path / "two.txt"  # a whole-genome map: each chromosome's rows, with or without 'chr'
    two.write_text(
        "Chromosome Position Rate Map\nchr1 1000000 1.0 0.0\nchr1 2000000 1.0 1.0\n"
        "chr2 1000000 1.0 5.0\nchr2 2000000 1.0 9.0\n"
    )
    np.testing.assert_allclose(genetic_positions(np.array([1_500_000]), genetic_map=two, chromosome="2"), [7.0])
    np.testing.assert_allclose(genetic_positions(np.array([1_500_000]), genetic_map=two, chromosome="chr1"), [0.5])
    bad = tmp_path / "bad.txt"
    bad.write_text("Chromosome Position Rate Map\n22 1000 1.0 0.0\n22 900 1.0 0.1\n")
    with pytest.raises(InputError, match=r"bad.txt: line 3: positions must increase"):
        genetic_positions(np.array([1000]), genetic_map=bad)


def test_mosaic_of_real_haplotypes_within_populations_meets_the_805_targets(data_805, tmp_path):
    """Copying within superpopulations keeps AF, LD and structure (PCA W2D) at the RBM's targets and leaks no more
    than a held-out set; copying across them mixes the populations along each haplotype (W2D ten times worse);
    independent sites keep no LD. Judged by evaluate and check_privacy."""
    from genosynth.generate.models.mosaic import sample_mosaic

    real = genosynth.read_haplotypes(
        data_805["hapt"],
        legend=data_805["legend"],
        populations=data_805["samples"],
        population_column="Superpopulation code",
    )
    train, holdout = genosynth.split_holdout(real, fraction=0.2, seed=1)
    sets = {
        "mosaic": sample_mosaic(train, 2000, seed=8, progress=False),
        "mixed": sample_mosaic(train, 1000, seed=8, by_population=False, progress=False),
        "bernoulli": genosynth.sample_baseline(train, 1000, seed=8, progress=False),
    }
    assert set(sets["mosaic"].populations) <= set(train.populations) and set(sets["mixed"].populations) == {""}
    assert {"AFR", "AMR", "EAS", "EUR", "SAS"} <= set(sets["mosaic"].populations)
    report = genosynth.evaluate(train, sets, holdout=holdout, seed=1, device="cpu", progress=False, triplets=200)
    mosaic = report.sets["mosaic"]
    assert mosaic["af_r"] > 0.99 and mosaic["ld_r_all_pairs"] > 0.97 and mosaic["w2d_pca"] < 0.006
    assert 0.35 <= mosaic["aa_truth"] <= 0.75 and 0.35 <= mosaic["aa_syn"] <= 0.65
    assert report.sets["mixed"]["w2d_pca"] > 10 * mosaic["w2d_pca"]
    assert report.sets["bernoulli"]["ld_r"] < mosaic["ld_r"] - 0.5
    privacy = genosynth.check_privacy(train, holdout, sets["mosaic"], seed=1, device="cpu", progress=False)
    assert privacy.metrics["privacy_loss"] < 0.05 and privacy.metrics["exact_copies"] == 0
    genosynth.write_haplotypes(sets["mosaic"], tmp_path / "mosaic.h5")
    assert genosynth.read_haplotypes(tmp_path / "mosaic.h5").provenance[-1]["parameters"]["baseline"] == "mosaic"


@settings(max_examples=40, deadline=None)
@given(
    k=st.integers(1, 8),
    n=st.integers(1, 12),
    sites=st.integers(1, 30),
    limit=st.none() | st.floats(0.01, 5),
    seed=st.integers(0, 2**32 - 1),
)
def test_every_allele_is_its_donors_and_a_forced_switch_changes_donor(k, n, sites, limit, seed):
    rng = np.random.default_rng(seed)
    reference = rng.integers(0, 2, (k, sites), dtype=np.uint8)
    centimorgans = np.cumsum(rng.exponential(1.0, sites))
    donors = np.full((n, sites), -1, dtype=np.int64)
    out = mosaic_haplotypes(
        reference,
        n,
        rng,
        centimorgans=centimorgans,
        settings=MosaicSettings(ne=0.5, miscopy=0.0, max_segment_cm=limit),
        donors_out=donors,
    )
    assert out.dtype == np.uint8 and out.shape == (n, sites)
    assert ((donors >= 0) & (donors < k)).all()
    np.testing.assert_array_equal(out, reference[donors, np.arange(sites)])
    if limit is not None and k > 1:
        starts = np.full(n, centimorgans[0])
        for j in range(1, sites):
            changed = donors[:, j] != donors[:, j - 1]
            over = centimorgans[j] - starts > limit
            assert changed[over].all()  # past the limit the donor always changes (a jump may also change it)
            starts[changed] = centimorgans[j]
