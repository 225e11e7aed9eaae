"""The mosaic (Li-Stephens copying) baseline: its switch rate against the model's expectation, the privacy knob's
bound on copied segments, population pools, genetic maps, and its fidelity on the real 805-SNP data judged by
evaluate beside the Bernoulli baseline."""

from __future__ import annotations

import gzip
import re

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
        settings=MosaicSettings(ne=25 * k, max_segment_cm=None),  # the copying model alone, no privacy bound
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


def _reference(n_sites: int, *, chromosomes: int = 1, k: int = 40, seed: int = 0, labels=("A", "B")):
    """A synthetic reference: ``k`` haplotypes of diploid samples labelled in turn by ``labels`` (None: no
    labels), ``n_sites`` sites 150 bp apart split over ``chromosomes``."""
    from genosynth.io.matrix import HaplotypeMatrix, Sites

    rng = np.random.default_rng(seed)
    chrom = np.repeat([str(c + 1) for c in range(chromosomes)], -(-n_sites // chromosomes))[:n_sites]
    pos = np.concatenate([np.arange(1, (chrom == c).sum() + 1) * 150 for c in dict.fromkeys(chrom)])
    sites = Sites(chrom, pos, np.array(["."] * n_sites), np.array(["A"] * n_sites), np.array(["G"] * n_sites))
    samples = np.array([f"s{i}" for i in range(k // 2)])
    populations = np.array([labels[i % len(labels)] if labels else "" for i in range(k // 2)])
    haplotypes = rng.integers(0, 2, (k, n_sites), dtype=np.uint8)
    return HaplotypeMatrix(haplotypes, sites, samples, np.full(k // 2, 2, np.int8), populations)


def test_written_in_blocks_the_draw_is_the_gathered_one(tmp_path):
    """Streaming a matrix reference block by block (blocks across a chromosome boundary, forced switches and
    population pools in play) writes exactly the haplotypes sample_mosaic gathers, whatever the block size."""
    from genosynth.generate.models.mosaic import sample_mosaic, write_mosaic
    from genosynth.io.hdf5 import write_matrix

    reference = _reference(301, chromosomes=2)
    write_matrix(tmp_path / "ref.h5", reference)
    settings = MosaicSettings(ne=2000.0, max_segment_cm=0.01, miscopy=0.01)
    gathered = sample_mosaic(reference, 30, settings=settings, seed=4, ploidy=2, progress=False)
    assert len(set(gathered.populations)) == 2
    for block, suffix in ((7, "vcf.gz"), (1000, "h5")):
        written = write_mosaic(
            tmp_path / "ref.h5",
            30,
            tmp_path / f"out{block}.{suffix}",
            settings=settings,
            seed=4,
            ploidy=2,
            block_sites=block,
            progress=False,
        )
        assert (written.n_haplotypes, written.n_sites) == (30, 301)
        back = genosynth.read_haplotypes(tmp_path / f"out{block}.{suffix}")
        np.testing.assert_array_equal(back.haplotypes, gathered.haplotypes)
        assert back.sites.keys() == reference.sites.keys()
        assert back.populations.tolist() == gathered.populations.tolist()
    other = sample_mosaic(reference, 30, settings=settings, seed=5, ploidy=2, progress=False)
    assert (other.haplotypes != gathered.haplotypes).any()


def test_memory_of_a_streamed_chromosome_does_not_grow_with_its_length(tmp_path):
    """Peak memory (tracemalloc: numpy's buffers included) of writing a mosaic of a matrix reference with 2x the
    sites stays within 1.3x: only a block of reference and output sites is held at a time."""
    import tracemalloc

    from genosynth.generate.models.mosaic import write_mosaic
    from genosynth.io.hdf5 import write_matrix

    peaks = {}
    for n_sites in (4_000, 8_000):
        write_matrix(tmp_path / f"ref{n_sites}.h5", _reference(n_sites, k=200, labels=None))
        tracemalloc.start()
        write_mosaic(
            tmp_path / f"ref{n_sites}.h5", 40, tmp_path / f"out{n_sites}.vcf", seed=1, block_sites=1000, progress=False
        )
        peaks[n_sites] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert genosynth.read_haplotypes(tmp_path / f"out{n_sites}.vcf").n_sites == n_sites
    assert peaks[8_000] < 1.3 * peaks[4_000], peaks


def test_sample_command_draws_a_mosaic_and_refuses_what_does_not_apply(tmp_path):
    """The command line: settings and the reference's and map's checksums in the provenance (names, no folders);
    a population picks its donors; an unknown population, a reference without labels, or a rate with a map is a
    one-line error that writes nothing."""
    from conftest import run_genosynth
    from genosynth._infra.provenance import file_sha256
    from genosynth.io.hdf5 import write_matrix

    write_matrix(tmp_path / "ref.h5", _reference(200))
    write_matrix(tmp_path / "plain.h5", _reference(200, labels=None))
    (tmp_path / "map.txt").write_text("chr pos rate cM\n1 1 2.0 0.0\n1 40000 2.0 0.08\n")
    out = tmp_path / "out.vcf.gz"
    base = ["sample", "--baseline", "mosaic", "--reference", tmp_path / "ref.h5", "-n", "20", "--seed", "3"]
    run_genosynth(
        *base,
        "-o",
        out,
        "--genetic-map",
        tmp_path / "map.txt",
        "--max-segment-cm",
        "0.05",
        "--miscopy",
        "0",
        "--population",
        "B",
        "--ploidy",
        "2",
    )
    drawn = genosynth.read_haplotypes(out)
    record = drawn.provenance[-1]
    assert record["parameters"]["baseline"] == "mosaic" and record["parameters"]["max_segment_cm"] == 0.05
    assert record["parameters"]["population"] == "B" and record["parameters"]["miscopy_applied"] == 0
    assert record["inputs"] == [
        {"name": "ref.h5", "sha256": file_sha256(tmp_path / "ref.h5")},
        {"name": "map.txt", "sha256": file_sha256(tmp_path / "map.txt")},
    ]
    assert str(tmp_path) not in gzip.decompress(out.read_bytes()).decode()  # no folder anywhere in the file
    assert set(drawn.populations) == {"B"}
    reference = genosynth.read_haplotypes(tmp_path / "ref.h5")
    b_rows = reference.haplotypes[reference.haplotype_population == "B"]
    # without miscopy every allele is a B donor's: each site's alleles are among the B haplotypes' alleles there
    assert all(set(drawn.haplotypes[:, j]) <= set(b_rows[:, j]) for j in range(200))
    for extra, message in (
        (["--population", "C"], r"--population 'C' is not a population of ref.h5 \(it has A, B\)"),
        (["--genetic-map", tmp_path / "map.txt", "--recombination-rate", "2"], r"--recombination-rate applies without"),
        (["--window", "5"], r"--window applies to --baseline markov"),
    ):
        result = run_genosynth(*base, "-o", tmp_path / "x.h5", *extra, check=False)
        assert result.returncode != 0 and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert re.search(message, result.stderr), result.stderr
    result = run_genosynth(
        *base[:4], tmp_path / "plain.h5", *base[5:], "-o", tmp_path / "x.h5", "--population", "A", check=False
    )
    assert result.returncode != 0 and "--population needs population labels, and plain.h5 has none" in result.stderr
    assert not (tmp_path / "x.h5").exists()


def test_nextflow_sample_task_draws_the_mosaic_of_the_training_matrix(tmp_path):
    """main.nf's --models mosaic: the sample module, given a chromosome's training matrix as model 'mosaic', runs
    the mosaic baseline on it (a real task, rendered by Nextflow's Groovy) and writes an indexed VCF of its sites."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "nextflow" / "checks"))
    import subprocess

    import tasks

    def runner(module: str, taskdir: Path, argv: list[str]) -> subprocess.CompletedProcess:
        if argv[:2] == ["/bin/bash", "-c"]:  # the versions evals (test_nextflow runs them)
            return subprocess.CompletedProcess(argv, 0, "stub\n", "")
        return tasks.local_runner(module, taskdir, argv)

    result = tasks.run_task(
        tasks.Task(
            "sample",
            files={"models": [tasks.TEST_DATA / "train.h5"]},
            values={"meta": {"id": "22", "model": "mosaic"}, "haplotypes": 6, "seed": 2},
            ext={"args": "--max-segment-cm 0.5"},
        ),
        tmp_path / "task",
        runner,
    )
    assert "--baseline mosaic --reference 'train.h5'" in result.script
    drawn = genosynth.read_haplotypes(result.outputs["vcf"][0])
    assert (
        drawn.n_haplotypes == 6
        and drawn.sites.keys() == genosynth.read_haplotypes(tasks.TEST_DATA / "train.h5").sites.keys()
    )
    assert drawn.provenance[-1]["parameters"]["max_segment_cm"] == 0.5
