"""Whole chromosomes from window models: a chain keeps linkage across a window boundary that independent windows
break; population labels carried through a chain; every bad chain is one line and no output; training on a
region reads only that window (the matrix's other chunks may be unreadable); a windowed model resumes bit for
bit from its own checkpoint, never another window's; vcf-to-matrix plans the windows; the convolutional preset
trains, conditions and samples (whether it learns is not tested here: on CPU that takes longer than a test may)."""

from __future__ import annotations

import gc
import json

import genosynth
import h5py
import numpy as np
import pytest
from conftest import run_genosynth
from genosynth.io.hdf5 import read_matrix, write_matrix
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.model_file import load_model_file
from genosynth.io.regions import read_bed

BLOCK = slice(16, 24)  # sites 17-24 carry one allele per haplotype: a block that straddles the boundary at 20|21


def _sites(n: int, chrom: str = "1", *, start: int = 100, step: int = 100, ref: str = "A") -> Sites:
    return Sites(
        np.array([chrom] * n),
        start + np.arange(n) * step,
        np.array(["."] * n),
        np.array([ref] * n),
        np.array(["G"] * n),
    )


def _planted(n_haplotypes: int = 600, n_sites: int = 40, *, seed: int = 1) -> HaplotypeMatrix:
    """Random haplotypes (allele frequency 0.3) with one block of identical sites across the boundary between
    sites 20 and 21 (positions 2000 | 2100), two populations."""
    rng = np.random.default_rng(seed)
    haplotypes = (rng.random((n_haplotypes, n_sites)) < 0.3).astype(np.uint8)
    haplotypes[:, BLOCK] = rng.integers(0, 2, n_haplotypes, dtype=np.uint8)[:, None]
    n_samples = n_haplotypes // 2
    return HaplotypeMatrix(
        haplotypes,
        _sites(n_sites),
        np.array([f"s{i}" for i in range(n_samples)]),
        np.full(n_samples, 2, np.int8),
        np.array(["A", "B"] * (n_samples // 2)),
    )


def _r2(matrix: HaplotypeMatrix, i: int, j: int) -> float:
    return float(np.corrcoef(matrix.haplotypes[:, i], matrix.haplotypes[:, j])[0, 1] ** 2)


RBM_FAST = {"lr": 0.05, "epochs": 40, "progress": False, "device": "cpu", "monitor_every": 60}


@pytest.fixture(scope="module")
def planted() -> HaplotypeMatrix:
    return _planted()


@pytest.fixture(scope="module")
def rbm_windows(planted, tmp_path_factory) -> dict[str, object]:
    """Window 1 (sites 1-20), window 2 conditioned on the 5 sites before it, and window 2 trained alone."""
    folder = tmp_path_factory.mktemp("rbm_windows")
    models = {
        "w1": genosynth.train_rbm(planted, region="1:1-2000", seed=1, **RBM_FAST),
        "w2": genosynth.train_rbm(planted, region="1:2001-4000", context_sites=5, seed=2, **RBM_FAST),
        "w2_alone": genosynth.train_rbm(planted, region="1:2001-4000", seed=2, **RBM_FAST),
    }
    for name, model in models.items():
        model.save(folder / f"{name}.safetensors")
    return {"models": models, "folder": folder}


def test_a_chain_keeps_linkage_across_a_boundary_that_independent_windows_break(planted, rbm_windows):
    models = rbm_windows["models"]
    chained = genosynth.sample_chain([models["w1"], models["w2"]], 1000, seed=3, progress=False)
    independent = genosynth.sample_chain([models["w1"], models["w2_alone"]], 1000, seed=3, progress=False)
    assert chained.n_sites == independent.n_sites == planted.n_sites
    assert chained.sites.pos.tolist() == planted.sites.pos.tolist()
    assert _r2(chained, 18, 19) > 0.9 and _r2(chained, 22, 23) > 0.9  # within each window, both chains
    assert _r2(chained, 19, 20) > 0.8  # across the boundary: the chain carries the block on
    assert _r2(independent, 19, 20) < 0.05  # independent windows cannot
    report = genosynth.evaluate(
        planted, {"chained": chained, "independent": independent}, seed=1, progress=False, device="cpu", boundary_span=4
    )
    decay = report.metrics["ld"]["boundary_decay"]  # boundaries read from the chained set's provenance
    assert report.metrics["ld"]["window_boundaries"] == [["1", 2100]]
    assert decay["chained"][0] > 0.7 > 0.1 > decay["independent"][0]  # adjacent sites across the boundary


def test_the_chain_from_files_streams_a_vcf_and_records_its_windows(rbm_windows, tmp_path):
    folder = rbm_windows["folder"]
    out = tmp_path / "chrom.vcf.gz"
    result = run_genosynth(
        "sample",
        folder / "w1.safetensors",
        folder / "w2.safetensors",
        "-n",
        "50",
        "--seed",
        "4",
        "--device",
        "cpu",
        "-o",
        out,
    )
    assert "wrote 50 haplotypes x 40 sites" in result.stderr
    back = genosynth.read_haplotypes(out)
    record = back.provenance[-1]
    assert record["step"] == "sample" and record["parameters"]["windows"] == [["1", 100, 2000], ["1", 2100, 4000]]
    assert [entry["name"] for entry in record["inputs"]] == ["w1.safetensors", "w2.safetensors"]
    again = genosynth.sample_chain(
        [genosynth.load_model(folder / f"{n}.safetensors", device="cpu") for n in ("w1", "w2")],
        50,
        seed=4,
        progress=False,
    )
    np.testing.assert_array_equal(back.haplotypes, again.haplotypes)  # streamed and in memory: the same draw
    # .hapt (a haplotype per line) is assembled from the windows spooled to an anonymous file, which leaves nothing
    run_genosynth(
        "sample",
        folder / "w1.safetensors",
        folder / "w2.safetensors",
        "-n",
        "50",
        "--seed",
        "4",
        "--device",
        "cpu",
        "-o",
        tmp_path / "chrom.hapt.gz",
    )
    hapt = genosynth.read_haplotypes(tmp_path / "chrom.hapt.gz", legend=tmp_path / "chrom.legend")
    np.testing.assert_array_equal(hapt.haplotypes, back.haplotypes)
    np.testing.assert_array_equal(hapt.sites.pos, back.sites.pos)
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "chrom.hapt.gz",
        "chrom.legend",
        "chrom.vcf.gz",
        "chrom.vcf.gz.tbi",
    ]


def test_a_chain_of_model_files_holds_one_window_model_at_a_time(rbm_windows, tmp_path):
    folder = rbm_windows["folder"]
    files = [folder / "w1.safetensors", folder / "w2.safetensors"]
    draw = genosynth.generate.chain.draw_chain(files, 300, seed=6, device="cpu", progress=False)
    assert (draw.chromosome, draw.n_sites) == ("1", 40)
    loaded_between_windows, parts = [], []
    for _, haplotypes in draw.windows:  # a window's model is released once its window is drawn
        gc.collect()
        loaded_between_windows.append([o for o in gc.get_objects() if type(o) is genosynth.Model and o.source])
        parts.append(haplotypes)
    assert loaded_between_windows == [[], []]
    eager = genosynth.sample_chain(
        [genosynth.load_model(path, device="cpu") for path in files], 300, seed=6, progress=False
    )
    np.testing.assert_array_equal(np.concatenate(parts, axis=1), eager.haplotypes)  # the same draw either way
    assert genosynth.write_chain(files, 10, tmp_path / "a.h5", seed=1, device="cpu", progress=False).n_sites == 40
    for bad in ({"gibbs_steps": 0}, {"start": "data"}):  # every file's option values, before any model is loaded
        with pytest.raises(genosynth.OptionError, match=next(iter(bad))):
            genosynth.generate.chain.draw_chain(files, 10, device="cpu", progress=False, **bad)
    header = genosynth.read_model_header(files[1])
    assert (header.kind, header.context_sites, len(header.sites)) == ("rbm", 5, 20)
    rbm_windows["models"]["w2_alone"].save(tmp_path / "w2.safetensors")
    moved = genosynth.read_model_header(tmp_path / "w2.safetensors")
    rbm_windows["models"]["w2"].save(tmp_path / "w2.safetensors")  # replaced between the checks and the draw
    with pytest.raises(genosynth.InputError, match="w2.safetensors: the model file changed"):
        moved.load("cpu")


@pytest.mark.gpu
def test_a_chain_on_two_devices_is_refused_before_anything_is_loaded(rbm_windows):
    folder = rbm_windows["folder"]
    on_gpu = genosynth.load_model(folder / "w1.safetensors", device="cuda")
    with pytest.raises(genosynth.OptionError, match="must be on one device, not cpu and cuda"):
        genosynth.generate.chain.draw_chain([on_gpu, folder / "w2.safetensors"], 10, device="cpu", progress=False)
    drawn = genosynth.sample_chain([on_gpu, folder / "w2.safetensors"], 10, seed=1, device="cuda", progress=False)
    assert drawn.haplotypes.shape == (10, 40)


def test_population_labels_are_carried_through_a_chain(tmp_path):
    rng = np.random.default_rng(5)
    n = 400
    population = np.repeat(["A", "B"], n // 2)  # haplotype populations; population A carries allele 1 often
    haplotypes = (rng.random((n, 24)) < np.where(population == "A", 0.9, 0.1)[:, None]).astype(np.uint8)
    matrix = HaplotypeMatrix(
        haplotypes,
        _sites(24),
        np.array([f"s{i}" for i in range(n // 2)]),
        np.full(n // 2, 2, np.int8),
        population[::2].copy(),
    )
    fast = {
        "epochs": 150,
        "progress": False,
        "device": "cpu",
        "monitor_every": 150,
        "condition_on": "population",
        "lr_generator": 2e-3,
        "lr_discriminator": 2e-3,
        "latent_size": 16,
    }
    w1 = genosynth.train_gan(matrix, region="1:1-1200", seed=1, **fast)
    w2 = genosynth.train_gan(matrix, region="1:1201-2400", context_sites=3, seed=1, **fast)
    for label, low, high in (("A", 0.7, 1.0), ("B", 0.0, 0.3)):
        drawn = genosynth.sample_chain([w1, w2], 200, population=label, seed=1, progress=False)
        assert set(drawn.populations.tolist()) == {label}
        assert low < drawn.haplotypes[:, 12:].mean() < high  # the second window generated for the label too
    mixed = genosynth.sample_chain([w1, w2], 400, ploidy=2, seed=2, progress=False)  # labels drawn, then kept
    assert set(mixed.populations.tolist()) == {"A", "B"}
    per_sample = mixed.haplotypes[:, 12:].reshape(200, 2, 12).mean(axis=(1, 2))
    assert per_sample[mixed.populations == "A"].mean() > per_sample[mixed.populations == "B"].mean() + 0.4


@pytest.fixture(scope="module")
def bad_chains(planted, tmp_path_factory) -> dict[str, object]:
    """One-epoch models of windows that do not chain, saved as files."""
    folder = tmp_path_factory.mktemp("bad_chains")
    quick = {"epochs": 1, "progress": False, "device": "cpu"}
    other_alleles = HaplotypeMatrix(
        planted.haplotypes,
        Sites(
            planted.sites.chrom,
            planted.sites.pos,
            planted.sites.id,
            np.where(np.arange(40) == 16, "C", "A"),
            planted.sites.alt,
        ),
        planted.samples,
        planted.ploidy,
        planted.populations,
    )
    on_2 = HaplotypeMatrix(planted.haplotypes, _sites(40, "2"), planted.samples, planted.ploidy, planted.populations)
    models = {
        "w1": genosynth.train_rbm(planted, region="1:1-2000", **quick),
        "w2": genosynth.train_rbm(planted, region="1:2001-4000", context_sites=5, **quick),
        "w2_bare": genosynth.train_rbm(planted, region="1:2001-4000", **quick),
        "overlapping": genosynth.train_rbm(planted, region="1:1501-4000", **quick),
        "after_a_gap": genosynth.train_rbm(planted, region="1:3001-4000", **quick),
        "other_context": genosynth.train_rbm(other_alleles, region="1:2001-4000", context_sites=5, **quick),
        "chromosome_2": genosynth.train_rbm(on_2, region="2:2001-4000", **quick),
        "conditional": genosynth.train_gan(planted, region="1:2001-4000", condition_on="population", **quick),
        "whole": genosynth.train_rbm(planted, **quick),
    }
    for name, model in models.items():
        model.save(folder / f"{name}.safetensors")
    return {"folder": folder}


@pytest.mark.parametrize(
    "names, message",
    [
        (("w2", "w1"), "w2.safetensors: conditioned on 5 sites before its window, so it cannot start a chain"),
        (("w2_bare", "w1"), "w1.safetensors: its window starts at 1:100, not after the window before it (w2_bare"),
        (("w1", "overlapping"), "overlapping.safetensors: its window starts at 1:1600, not after the window before it"),
        (
            ("w1", "after_a_gap"),
            "after_a_gap.safetensors: its window starts after 1:3000, but the window before it "
            "(w1.safetensors) ends at 1:2000: sites between the windows are missing",
        ),
        (
            ("w1", "other_context"),
            "other_context.safetensors: conditioned on 5 sites that are not the last sites of the windows before it",
        ),
        (("w1", "chromosome_2"), "chromosome_2.safetensors: on chromosome 2, but the chain's first window"),
        (
            ("w1", "conditional"),
            "conditional.safetensors: conditioned on populations ['A', 'B'], but w1.safetensors on none",
        ),
        (("w1", "whole"), "whole.safetensors: its window starts at 1:100, not after"),
    ],
)
def test_bad_chains_are_one_line_and_write_nothing(bad_chains, tmp_path, names, message):
    folder = bad_chains["folder"]
    out = tmp_path / "chain.vcf.gz"
    result = run_genosynth(
        "sample",
        *(folder / f"{name}.safetensors" for name in names),
        "-n",
        "10",
        "--device",
        "cpu",
        "-o",
        out,
        check=False,
    )
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1, result.stderr
    assert message in result.stderr
    assert not list(tmp_path.iterdir())


def test_a_windowed_model_alone_says_it_needs_the_windows_before_it(bad_chains, tmp_path):
    result = run_genosynth(
        "sample",
        bad_chains["folder"] / "w2.safetensors",
        "-n",
        "5",
        "-o",
        tmp_path / "x.h5",
        "--device",
        "cpu",
        check=False,
    )
    assert result.returncode == 1 and "conditioned on the 5 sites before it: sample it in a chain" in result.stderr


def test_training_a_region_reads_only_its_window_and_context(tmp_path):
    """A matrix of three chunks whose first and last are overwritten with garbage: a window inside the middle
    chunk (with its context) still trains; reading the whole matrix fails naming the file."""
    rng = np.random.default_rng(2)
    n_samples, n_sites = 100, 30_000
    matrix = HaplotypeMatrix(
        (rng.random((2 * n_samples, n_sites)) < 0.2).astype(np.uint8),
        _sites(n_sites),
        np.array([f"s{i}" for i in range(n_samples)]),
        np.full(n_samples, 2, np.int8),
        np.array([""] * n_samples),
    )
    path = tmp_path / "m.h5"
    write_matrix(path, matrix)
    with h5py.File(path, "r") as handle:
        gt = handle["calldata/GT"]
        chunk_sites = gt.chunks[0]
        chunks = [gt.id.get_chunk_info(i) for i in range(gt.id.get_num_chunks())]
    assert len(chunks) >= 3
    with open(path, "r+b") as raw:
        for chunk in chunks[:1] + chunks[2:]:
            raw.seek(chunk.byte_offset)
            raw.write(b"\xff" * chunk.size)
    first = chunk_sites + 200  # a window of 300 sites inside the second chunk, its 50 context sites too
    region = f"1:{matrix.sites.pos[first]}-{matrix.sites.pos[first + 299]}"
    model = tmp_path / "w.safetensors"
    run_genosynth(
        "train-rbm",
        path,
        "--region",
        region,
        "--context-sites",
        "50",
        "--epochs",
        "1",
        "--device",
        "cpu",
        "--monitor-every",
        "1",
        "--validation-size",
        "50",
        "-o",
        model,
    )
    saved = load_model_file(model)
    assert saved.sites.pos.tolist() == matrix.sites.pos[first : first + 300].tolist()
    assert [key[1] for key in saved.extra["window"]["context"]] == matrix.sites.pos[first - 50 : first].tolist()
    assert saved.config["context_sites"] == 50
    whole = run_genosynth("train-rbm", path, "--epochs", "1", "-o", tmp_path / "whole.safetensors", check=False)
    assert whole.returncode == 1 and whole.stderr.startswith(f"genosynth train-rbm: error: {path}: cannot read")


def test_a_windowed_model_resumes_bit_for_bit_from_its_own_checkpoint(planted, tmp_path):
    import torch

    source = tmp_path / "planted.h5"
    write_matrix(source, planted)
    common = ("--context-sites", "5", "--device", "cpu", "--monitor-every", "2", "--validation-size", "100")
    whole, split = tmp_path / "whole.safetensors", tmp_path / "chr1.w1.safetensors"
    run_genosynth("train-rbm", source, "-o", whole, "--epochs", "4", "--region", "1:1001-2500", *common)
    run_genosynth("train-rbm", source, "-o", split, "--epochs", "2", "--region", "1:1001-2500", *common)
    # the next window, as large, trained beside it: each window keeps its own checkpoint
    run_genosynth(
        "train-rbm", source, "-o", tmp_path / "chr1.w2.safetensors", "--epochs", "2", "--region", "1:2501-4000", *common
    )
    assert (tmp_path / "chr1.w1.ckpt").is_file() and (tmp_path / "chr1.w2.ckpt").is_file()
    wrong = run_genosynth(
        "train-rbm",
        source,
        "-o",
        split,
        "--epochs",
        "4",
        "--resume",
        "--region",
        "1:1001-2500",
        "--checkpoint",
        tmp_path / "chr1.w2.ckpt",
        *common,
        check=False,
    )
    assert (
        wrong.returncode == 1
        and wrong.stderr.startswith(f"genosynth train-rbm: error: {tmp_path / 'chr1.w2.ckpt'}: site 1 is 1:2600")
        and wrong.stderr.count("\n") == 1
    )
    run_genosynth("train-rbm", source, "-o", split, "--epochs", "4", "--resume", "--region", "1:1001-2500", *common)
    a, b = load_model_file(whole), load_model_file(split)
    assert a.extra == b.extra and a.extra["window"]["region"] == "1:1001-2500"
    assert all(torch.equal(a.tensors[k], b.tensors[k]) for k in a.tensors)


def test_vcf_to_matrix_plans_windows_of_sites_or_from_region_starts(simulated, tmp_path):
    windows = tmp_path / "windows.bed"
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "m.h5",
        "--window-sites",
        "100",
        "--windows-output",
        windows,
    )
    sites = read_matrix(tmp_path / "m.h5").sites
    regions = read_bed(windows)
    counts = [int(r.contains(sites.chrom, sites.pos).sum()) for r in regions]
    assert sum(counts) == len(sites) and all(count == 100 for count in counts[:-1]) and 50 < counts[-1] <= 150
    starts = tmp_path / "blocks.bed"
    starts.write_text("22\t15100000\t15150000\tblock\n")
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "m2.h5",
        "--window-starts",
        starts,
        "--windows-output",
        windows,
    )
    first, second = read_bed(windows)
    assert first.start == sites.pos[0] and second.start == sites.pos[sites.pos > 15100000][0]
    assert second.end == sites.pos[-1] and first.end == sites.pos[sites.pos <= 15100000][-1]
    missing = run_genosynth(
        "vcf-to-matrix", simulated["vcf_gz"], "-o", tmp_path / "m3.h5", "--window-sites", "5", check=False
    )
    assert missing.returncode == 1 and "needs --windows-output" in missing.stderr
    assert not (tmp_path / "m3.h5").exists()


def test_the_convolutional_preset_trains_conditions_and_samples_on_a_few_hundred_sites(planted):
    from genosynth.generate.models.conv_gan import build_critic, build_generator

    wide = _planted(400, 300, seed=3)
    model = genosynth.train_gan(
        wide,
        preset="conv-wgan-gp",
        region="1:2001-30000",
        context_sites=20,
        condition_on="population",
        epochs=2,
        progress=False,
        device="cpu",
        monitor_every=1,
        validation_size=50,
    )
    assert model.config.conv_channels and model.context_sites == 20
    drawn = model.sample(30, seed=1, population="B", progress=False, context=wide.haplotypes[:30, :20])
    assert drawn.haplotypes.shape == (30, 280) and set(drawn.populations.tolist()) == {"B"}

    def parameters(n_sites: int) -> int:
        networks = (
            build_generator(n_sites=n_sites, latent_size=128, n_condition=0, widest=128, narrowest=16),
            build_critic(n_sites=n_sites, n_classes=0, context_sites=0, widest=128, narrowest=16),
        )
        return sum(p.numel() for network in networks for p in network.parameters())

    counts = {n: parameters(n) for n in (1024, 8192, 65536)}
    growth = [(counts[b] - counts[a]) / (b - a) for a, b in ((1024, 8192), (8192, 65536))]
    assert growth[1] <= growth[0] and growth[1] < 16  # at most linear in the sites, a few parameters per site
    assert counts[65536] < 3e6  # the dense networks would need about 1e10 at 65,536 sites


def test_evaluate_reads_windows_from_a_bed_and_limits_ld_pairs_by_distance(planted, tmp_path):
    real, other = tmp_path / "real.h5", tmp_path / "other.h5"
    write_matrix(real, planted)
    write_matrix(other, planted)  # a set whose provenance records no windows: the BED gives them
    bed = tmp_path / "windows.bed"
    bed.write_text("1\t99\t2000\tw1\n1\t2099\t4000\tw2\n")
    run_genosynth(
        "evaluate",
        "--real",
        real,
        "--synthetic",
        f"x={other}",
        "--windows",
        bed,
        "--ld-max-distance",
        "500",
        "--boundary-span",
        "4",
        "--triplets",
        "50",
        "--seed",
        "1",
        "--device",
        "cpu",
        "-o",
        tmp_path / "ev",
    )
    ld = json.loads((tmp_path / "ev" / "metrics.json").read_text())["ld"]
    assert ld["window_boundaries"] == [["1", 2100]]
    n = ld["sites"]  # sites 100 bp apart: same-chromosome pairs within 500 bp are those up to 5 sites apart
    assert n == 40 and ld["pairs_by_class"]["same_chromosome"] == sum(n - d for d in range(1, 6))
    assert ld["pairs_by_class"]["all_pairs"] == n * (n - 1) // 2
    assert ld["pairs_by_class"]["boundary"] == sum(1 for i in range(16, 20) for j in range(20, 24) if j - i <= 7)


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ("train-rbm", "{matrix}", "--context-sites", "5", "-o", "{out}/m.safetensors"),
            "--context-sites 5: the context precedes a window; give --region",
        ),
        (
            (
                "vcf-to-matrix",
                "{vcf}",
                "--windows-output",
                "{out}/w.bed",
                "--window-sites",
                "10",
                "--window-starts",
                "{out}/starts.bed",
                "-o",
                "{out}/m.h5",
            ),
            "or --window-starts, not both",
        ),
    ],
)
def test_window_options_without_what_they_need_are_one_line(planted, simulated, tmp_path, args, message):
    matrix = tmp_path / "planted.h5"
    write_matrix(matrix, planted)
    out = tmp_path / "out"
    out.mkdir()
    result = run_genosynth(*(a.format(matrix=matrix, vcf=simulated["vcf_gz"], out=out) for a in args), check=False)
    assert result.returncode == 1 and len(result.stderr.strip().splitlines()) == 1 and message in result.stderr
    assert not list(out.iterdir())
