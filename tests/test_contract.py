"""The command line's contract with a user's files, held for every step: hostile or careless invocations run as
the real command line in a fresh process each fail with their exit code and exactly one error line (no traceback),
leave every file they were given byte for byte as it was, and leave nothing under any output name (nothing new at
all in the folder they ran in). A table of cases per step, and a property test that draws each option's value from
its declared type and bounds (and past them)."""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

GENOSYNTH = Path(sys.executable).parent / "genosynth"
TRACEBACK = re.compile(r"Traceback|^\s+File \"", re.MULTILINE)


@pytest.fixture(scope="module")
def workspace(two_populations, tmp_path_factory):
    """Small inputs of every kind, made once: matrices (train, holdout), VCFs, a .hapt, a model, artificial
    haplotypes, a population table giving one sample two populations, a truncated bgzipped VCF."""
    import genosynth
    from genosynth.io import write_haplotypes
    from genosynth.io.hdf5 import read_matrix, write_matrix

    folder = tmp_path_factory.mktemp("contract")
    matrix = read_matrix(two_populations[0])
    individuals = np.arange(len(matrix.samples))
    train = matrix.select_samples(individuals[individuals % 4 != 0])
    holdout = matrix.select_samples(individuals[individuals % 4 == 0])
    write_matrix(folder / "train.h5", train)
    write_matrix(folder / "hold.h5", holdout)
    write_haplotypes(train, folder / "real.vcf.gz")
    write_haplotypes(holdout, folder / "target.vcf.gz")
    write_haplotypes(train, folder / "real.hapt")
    model = genosynth.train_rbm(
        train, epochs=1, hidden_units=4, chains=10, monitor_gibbs_steps=2, device="cpu", progress=False
    )
    model.save(folder / "rbm.safetensors")
    write_matrix(folder / "ag.h5", genosynth.sample_baseline(train, 40, method="bernoulli", seed=1, progress=False))
    names = train.samples.tolist()
    (folder / "pops.tsv").write_text(
        "".join(f"{s}\t{p}\n" for s, p in zip(names, train.populations)) + f"{names[0]}\tOTHER\n"
    )
    (folder / "notes.txt").write_text("a user's own file\n")
    data = (folder / "real.vcf.gz").read_bytes()
    (folder / "truncated.vcf.gz").write_bytes(data[: len(data) * 2 // 3])
    write_haplotypes(train, folder / "whole.vcf")
    text = (folder / "whole.vcf").read_bytes()
    (folder / "truncated.vcf").write_bytes(text[: len(text) * 2 // 3])
    (folder / "whole.vcf").unlink()
    for name in ("real.vcf.gz.tbi", "target.vcf.gz.tbi"):
        (folder / name).unlink()  # only what the cases read
    return folder


def _tree(folder: Path) -> dict[str, str]:
    """Every entry under ``folder``: its kind, and for a regular file its SHA-256."""
    state = {}
    for root, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = Path(root) / name
            relative = str(path.relative_to(folder))
            if path.is_symlink():
                state[relative] = "link to " + os.readlink(path)
            elif path.is_dir():
                state[relative] = "folder"
            elif path.is_file():
                state[relative] = hashlib.sha256(path.read_bytes()).hexdigest()
            else:
                state[relative] = "special"
    return state


def _prepare(workspace: Path, where: Path, setup: str | None) -> None:
    shutil.copytree(workspace, where, dirs_exist_ok=True)
    if setup == "fifo":
        os.mkfifo(where / "pipe.h5")
    elif setup == "links":
        os.link(where / "real.vcf.gz", where / "hard.vcf.gz")
        os.symlink("train.h5", where / "soft.h5")
    elif setup == "index":
        shutil.copy(where / "train.h5", where / "x.vcf.gz.tbi")  # a matrix, named as the output's index would be
    elif setup == "project":
        (where / "proj").mkdir()
        for name in ("train.h5", "hold.h5", "ag.h5"):
            shutil.copy(where / name, where / "proj" / name)
    elif setup == "tbi":
        (where / "real.vcf.gz.tbi").write_bytes(b"an index beside the input\n")  # checked by name before any read
    elif setup == "devlink":
        os.symlink("/dev/stdout", where / "out.h5")
    elif setup == "damaged":  # files damaged in one way each, made from the good ones
        import h5py
        from safetensors import safe_open
        from safetensors.numpy import save_file

        for name, change in (
            ("bad_provenance.h5", lambda f: f.attrs.__setitem__("provenance", "{not json")),
            ("bad_position.h5", lambda f: f["variants/POS"].__setitem__(0, -5)),
            ("bad_samples.h5", lambda f: f["samples"].__setitem__(1, f["samples"][0])),
        ):
            shutil.copy(where / "train.h5", where / name)
            with h5py.File(where / name, "r+") as handle:
                change(handle)
        with safe_open(str(where / "rbm.safetensors"), "np") as handle:
            metadata, tensors = handle.metadata(), {key: handle.get_tensor(key) for key in handle.keys()}
        weights = tensors["model.w"]
        save_file({**tensors, "model.w": weights[:, 1:].copy()}, str(where / "bad_shape.safetensors"), metadata)
        save_file({**tensors, "model.w": np.full_like(weights, np.nan)}, str(where / "bad_nan.safetensors"), metadata)
    elif setup == "folders":
        (where / "own").mkdir()
        (where / "own" / "notes.txt").write_text("a user's own folder\n")
        (where / "written").mkdir()
        (where / "written" / ".genosynth-output.json").write_text("{}\n")
    elif setup == "evaluated":  # folders as evaluate writes them: one with a user's notes added
        for folder, extra in (("ev", None), ("evnotes", "my_notes.txt")):
            (where / folder).mkdir()
            (where / folder / "metrics.json").write_text("{}\n")
            (where / folder / ".genosynth-output.json").write_text(
                '{"written_by": "genosynth", "step": "evaluate", "files": ["metrics.json"]}\n'
            )
            if extra:
                (where / folder / extra).write_text("a user's notes\n")


def run_case(workspace: Path, where: Path, argv: list[str], setup: str | None = None, timeout: float = 120):
    """Run ``genosynth ARGV`` in a copy of the workspace at ``where``; returns (result, tree before)."""
    _prepare(workspace, where, setup)
    before = _tree(where)
    result = subprocess.run(
        [str(GENOSYNTH), *argv],
        cwd=where,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return result, before


def assert_refused(
    result: subprocess.CompletedProcess, before: dict, where: Path, *, code: int = 1, pattern: str = ""
) -> None:
    """The contract of a refused run: its files untouched and nothing new, the exit code, one error line."""
    after = _tree(where)
    changed = sorted(name for name in before if after.get(name) != before[name])
    added = sorted(set(after) - set(before))
    assert not changed, f"files changed or removed: {changed}\n{result.stderr}"
    assert not added, f"left behind: {added}\n{result.stderr}"
    assert result.returncode == code, f"exit code {result.returncode}, expected {code}:\n{result.stderr}"
    errors = [
        line for line in result.stderr.splitlines() if re.match(r"genosynth(-[a-z-]+)?( [a-z-]+)?: error: ", line)
    ]
    assert len(errors) == 1 and not TRACEBACK.search(result.stderr), result.stderr
    assert re.search(pattern, errors[0]), f"{errors[0]!r} does not match {pattern!r}"


SAME = r"is the same file as the (input|output)"
CASES = {  # step -> (case, argv, setup, pattern of the error line)
    "vcf-to-matrix": [
        ("output is the input", ["real.vcf.gz", "-o", "real.vcf.gz"], None, SAME),
        ("output is a hard link of the input", ["real.vcf.gz", "-o", "hard.vcf.gz"], "links", SAME),
        (
            "holdout output is the output",
            ["real.vcf.gz", "-o", "a.h5", "--holdout", "0.3", "--holdout-output", "a.h5"],
            None,
            SAME,
        ),
        (
            "windows output is the population table",
            ["real.vcf.gz", "-o", "a.h5", "--populations", "pops.tsv", "--windows-output", "pops.tsv"],
            None,
            SAME,
        ),
        ("empty output name", ["real.vcf.gz", "-o", ""], None, r"empty name"),
        ("output with a trailing slash", ["real.vcf.gz", "-o", "new/"], None, r"names a folder"),
        ("output is an existing folder", ["real.vcf.gz", "-o", "own"], "folders", r"is a folder"),
        ("output in a missing folder", ["real.vcf.gz", "-o", "missing/a.h5"], None, r"does not exist"),
        ("input is a pipe", ["pipe.h5", "-o", "a.h5"], "fifo", r"regular file"),
        ("input is a folder", ["own", "-o", "a.h5"], "folders", r"is a folder"),
        (
            "a sample in two populations",
            ["real.vcf.gz", "-o", "a.h5", "--populations", "pops.tsv"],
            None,
            r"pops.tsv: line \d+: sample \S+ is in population",
        ),
        ("truncated bgzip", ["truncated.vcf.gz", "-o", "a.h5"], None, r"truncated.vcf.gz: .*record"),
        (
            "truncated VCF text, found while writing",
            ["truncated.vcf", "-o", "a.h5", "--holdout", "0.5", "--holdout-output", "b.h5"],
            None,
            r"truncated.vcf: record",
        ),
        ("negative seed", ["real.vcf.gz", "-o", "a.h5", "--seed", "-1"], None, r"--seed must be >= 0"),
        ("seed past 64 bits", ["real.vcf.gz", "-o", "a.h5", "--seed", str(2**70)], None, r"--seed must be <="),
        (
            "legend for a VCF input",
            ["real.vcf.gz", "-o", "a.h5", "--legend", "real.legend"],
            None,
            r"--legend applies to a .hapt input",
        ),
        (
            "output is the input's index",
            ["real.vcf.gz", "-o", "real.vcf.gz.tbi", "--region", "1:1-3000"],
            "tbi",
            r"same file as the input INPUT's index",
        ),
        (
            "windows output is the input's index",
            ["real.vcf.gz", "-o", "a.h5", "--windows-output", "real.vcf.gz.tbi"],
            "tbi",
            r"same file as the input INPUT's index",
        ),
        ("a newline in a file name", ["new\nline.vcf.gz", "-o", "a.h5"], None, r"^.*: new\\nline.vcf.gz: no such file"),
        ("output is standard output's name", ["real.vcf.gz", "-o", "-"], None, r"names standard output"),
        ("output is a link to /dev/stdout", ["real.vcf.gz", "-o", "out.h5"], "devlink", r"links to\) /dev/stdout"),
        ("output under /proc", ["real.vcf.gz", "-o", "/proc/self/fd/1"], None, r"device, stream or system file"),
        (
            "more threads than any machine",
            ["real.vcf.gz", "-o", "a.h5", "--threads", "100000"],
            None,
            r"--threads must be <= 1024",
        ),
        (
            "population column without a table",
            ["real.vcf.gz", "-o", "a.h5", "--population-column", "pop"],
            None,
            r"--population-column needs --populations",
        ),
    ],
    "export": [
        ("output is the input", ["train.h5", "-o", "train.h5"], None, r"unknown output type|same file"),
        ("legend is a symbolic link to the input", ["train.h5", "-o", "x.hapt", "--legend", "soft.h5"], "links", SAME),
        ("legend is the input", ["train.h5", "-o", "x.hapt", "--legend", "train.h5"], None, SAME),
        ("legend is the output", ["ag.h5", "-o", "x.hapt", "--legend", "x.hapt"], None, SAME),
        ("index beside the output is the input", ["x.vcf.gz.tbi", "-o", "x.vcf.gz"], "index", SAME),
        ("output is a folder", ["train.h5", "-o", "own/"], "folders", r"names a folder"),
        (
            "provenance attribute not JSON",
            ["bad_provenance.h5", "-o", "x.vcf"],
            "damaged",
            r"bad_provenance.h5: the provenance attribute is not valid JSON",
        ),
        (
            "a sample named twice",
            ["bad_samples.h5", "-o", "x.vcf"],
            "damaged",
            r"bad_samples.h5: sample '[^']+' appears more than once",
        ),
        (
            "a position below 1",
            ["bad_position.h5", "-o", "x.vcf"],
            "damaged",
            r"bad_position.h5: site 1 \(\S+:-5\) has position -5; positions start at 1",
        ),
        ("input is a pipe", ["pipe.h5", "-o", "x.vcf"], "fifo", r"regular file"),
    ],
    "train-rbm": [
        ("history is the model", ["train.h5", "-o", "m.safetensors", "--history", "m.safetensors"], None, SAME),
        ("model is the matrix", ["train.h5", "-o", "train.h5"], None, SAME),
        (
            "checkpoint is the holdout",
            ["train.h5", "-o", "m.safetensors", "--holdout", "hold.h5", "--checkpoint", "hold.h5"],
            None,
            SAME,
        ),
        (
            "hidden output is the model",
            ["train.h5", "-o", "m.safetensors", "--hidden-output", "m.safetensors"],
            None,
            SAME,
        ),
        ("model is a symbolic link to the matrix", ["train.h5", "-o", "soft.h5"], "links", SAME),
        (
            "batch larger than the data",
            ["train.h5", "-o", "m.safetensors", "--batch-size", "100000", "--device", "cpu"],
            None,
            r"--batch-size 100000 is more than the \d+",
        ),
        ("negative seed", ["train.h5", "-o", "m.safetensors", "--seed", "-1"], None, r"--seed must be >= 0"),
        ("matrix is a pipe", ["pipe.h5", "-o", "m.safetensors"], "fifo", r"regular file"),
        (
            "more persistent chains than memory",
            ["train.h5", "-o", "m.safetensors", "--chains", str(10**13), "--device", "cpu"],
            None,
            r"not enough memory.* [\d.]+ [KMGT]iB",
        ),
    ],
    "train-gan": [
        ("model is the holdout", ["train.h5", "-o", "hold.h5", "--holdout", "hold.h5"], None, SAME),
        ("history is the default checkpoint", ["train.h5", "-o", "m.safetensors", "--history", "m.ckpt"], None, SAME),
        ("matrix is missing", ["missing.h5", "-o", "m.safetensors"], None, r"missing.h5: no such file"),
        ("history is the matrix", ["train.h5", "-o", "m.safetensors", "--history", "train.h5"], None, SAME),
        ("seed past 64 bits", ["train.h5", "-o", "m.safetensors", "--seed", str(2**70)], None, r"--seed must be <="),
        (
            "batch larger than the data",
            ["train.h5", "-o", "m.safetensors", "--batch-size", "5000", "--device", "cpu"],
            None,
            r"--batch-size",
        ),
        (
            "context without a region",
            ["train.h5", "-o", "m.safetensors", "--context-sites", "5"],
            None,
            r"--context-sites",
        ),
        (
            "larger latent input than memory",
            ["train.h5", "-o", "m.safetensors", "--latent-size", str(10**12), "--device", "cpu"],
            None,
            r"not enough memory",
        ),
    ],
    "train-diffusion": [
        ("model is the matrix", ["train.h5", "-o", "train.h5"], None, SAME),
        (
            "PCA option for a sites model",
            ["train.h5", "-o", "m.safetensors", "--representation", "sites", "--pca-components", "4"],
            None,
            r"--pca-components applies to --representation pca",
        ),
        ("model is the history's plot", ["train.h5", "-o", "x.png", "--history", "x.tsv"], None, SAME),
        ("empty model name", ["train.h5", "-o", ""], None, r"empty name"),
    ],
    "sample": [
        (
            "output is the baseline's reference",
            ["--baseline", "bernoulli", "--reference", "train.h5", "-n", "10", "-o", "train.h5"],
            None,
            SAME,
        ),
        (
            "output is the model",
            ["rbm.safetensors", "-n", "10", "-o", "rbm.safetensors"],
            None,
            r"unknown output type|same file",
        ),
        (
            "legend is the model",
            ["rbm.safetensors", "-n", "10", "-o", "x.hapt", "--legend", "rbm.safetensors"],
            None,
            SAME,
        ),
        (
            "legend beside a matrix output",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--legend", "x.legend"],
            None,
            r"--legend applies to a .hapt output",
        ),
        (
            "reference with a model",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--reference", "train.h5"],
            None,
            r"--reference applies to --baseline",
        ),
        (
            "Markov window with a model",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--window", "5"],
            None,
            r"--window applies to --baseline",
        ),
        (
            "diffusion steps on an RBM",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--steps", "5"],
            None,
            r"--steps does not apply",
        ),
        (
            "more haplotypes than memory",
            ["rbm.safetensors", "-n", str(10**13), "-o", "x.h5", "--device", "cpu"],
            None,
            r"need [\d.]+ [KMGT]iB of memory",
        ),
        (
            "baseline larger than memory",
            ["--baseline", "bernoulli", "--reference", "train.h5", "-n", str(10**13), "-o", "x.h5"],
            None,
            r"need [\d.]+ [KMGT]iB of memory",
        ),
        (
            "seed past 64 bits",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--seed", str(2**70)],
            None,
            r"--seed must be <=",
        ),
        (
            "output is a symbolic link to the reference",
            ["--baseline", "markov", "--reference", "train.h5", "-n", "10", "-o", "soft.h5"],
            "links",
            SAME,
        ),
        ("model is a pipe", ["pipe.h5", "-n", "10", "-o", "x.h5"], "fifo", r"regular file"),
        (
            "a weight matrix of the wrong shape",
            ["bad_shape.safetensors", "-n", "10", "-o", "x.h5", "--device", "cpu"],
            "damaged",
            r"bad_shape.safetensors: tensor model.w has shape \(\d+, \d+\); this rbm model's configuration",
        ),
        (
            "NaN weights",
            ["bad_nan.safetensors", "-n", "10", "-o", "x.h5", "--device", "cpu"],
            "damaged",
            r"bad_nan.safetensors: tensor model.w holds NaN or infinite values",
        ),
        (
            "more threads than any machine",
            ["rbm.safetensors", "-n", "10", "-o", "x.h5", "--threads", "5000"],
            None,
            r"--threads must be <= 1024",
        ),
    ],
    "evaluate": [
        (
            "output is the current folder",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "."],
            None,
            r"current folder",
        ),
        (
            "output is an input file",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ag.h5"],
            None,
            r"not a folder|same file",
        ),
        (
            "output is the folder of the inputs",
            ["--real", "proj/train.h5", "--synthetic", "a=proj/ag.h5", "-o", "proj"],
            "project",
            r"genosynth did not write|folder holding",
        ),
        (
            "output is a user's folder",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "own"],
            "folders",
            r"genosynth did not write",
        ),
        (
            "output is a genosynth folder holding an input",
            ["--real", "train.h5", "--synthetic", "a=written/.genosynth-output.json", "-o", "written"],
            "folders",
            r"folder holding",
        ),
        (
            "output is a genosynth folder holding a user's file",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "evnotes"],
            "evaluated",
            r"evnotes: holds 1 file\(s\) genosynth did not write \('my_notes.txt'\)",
        ),
        (
            "legend without a .hapt input",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ev", "--legend", "real.legend"],
            None,
            r"--legend applies to a .hapt input",
        ),
        (
            "a newline ending a set name",
            ["--real", "train.h5", "--synthetic", "a\n=ag.h5", "-o", "ev"],
            None,
            r"--synthetic 'a\\n': a set name is",
        ),
        ("a set is a pipe", ["--real", "train.h5", "--synthetic", "a=pipe.h5", "-o", "ev"], "fifo", r"regular file"),
        (
            "negative seed",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ev", "--seed", "-1"],
            None,
            r"--seed must be >= 0",
        ),
        (
            "more triplets than memory",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ev", "--triplets", str(10**15)],
            None,
            r"need [\d.]+ [KMGT]iB of memory",
        ),
        (
            "a distance past 64 bits",
            ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ev", "--ld-max-distance", str(10**20)],
            None,
            r"--ld-max-distance",
        ),
    ],
    "privacy-check": [
        (
            "legend without a .hapt input",
            [
                "--train",
                "train.h5",
                "--holdout",
                "hold.h5",
                "--synthetic",
                "ag.h5",
                "-o",
                "pc",
                "--legend",
                "real.legend",
            ],
            None,
            r"--legend applies to a .hapt input",
        ),
        (
            "output is the project folder",
            ["--train", "proj/train.h5", "--holdout", "proj/hold.h5", "--synthetic", "proj/ag.h5", "-o", "proj"],
            "project",
            r"genosynth did not write|folder holding",
        ),
        (
            "output is the current folder",
            ["--train", "train.h5", "--holdout", "hold.h5", "--synthetic", "ag.h5", "-o", "."],
            None,
            r"current folder",
        ),
        (
            "output is evaluate's folder",
            ["--train", "train.h5", "--holdout", "hold.h5", "--synthetic", "ag.h5", "-o", "ev"],
            "evaluated",
            r"ev: was written by genosynth evaluate",
        ),
        (
            "output is the parent folder",
            ["--train", "train.h5", "--holdout", "hold.h5", "--synthetic", "ag.h5", "-o", ".."],
            None,
            r"current folder",
        ),
        (
            "synthetic is a folder",
            ["--train", "train.h5", "--holdout", "hold.h5", "--synthetic", "own", "-o", "pc"],
            "folders",
            r"is a folder",
        ),
        (
            "seed past 64 bits",
            ["--train", "train.h5", "--holdout", "hold.h5", "--synthetic", "ag.h5", "-o", "pc", "--seed", str(2**70)],
            None,
            r"--seed must be <=",
        ),
    ],
    "selection-scan": [
        (
            "output is the current folder",
            ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "."],
            None,
            r"current folder",
        ),
        (
            "network output is the matrix",
            [
                "train.h5",
                "--target",
                "AAA",
                "--versus",
                "BBB",
                "-o",
                "ss",
                "--method",
                "cnn",
                "--cnn-model-output",
                "train.h5",
            ],
            None,
            SAME,
        ),
        (
            "network output inside the output folder",
            [
                "train.h5",
                "--target",
                "AAA",
                "--versus",
                "BBB",
                "-o",
                "ss",
                "--method",
                "cnn",
                "--cnn-model-output",
                "ss/cnn.safetensors",
            ],
            None,
            r"folder holding|does not exist",
        ),
        (
            "device without the CNN",
            ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "ss", "--device", "cpu"],
            None,
            r"--device applies to --method with cnn",
        ),
        (
            "legend without a .hapt input",
            ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "ss", "--legend", "real.legend"],
            None,
            r"--legend applies to a .hapt input",
        ),
        (
            "CNN option without the CNN",
            ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "ss", "--simulations", "5"],
            None,
            r"--simulations applies to --method with cnn",
        ),
        (
            "population table is a pipe",
            ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "ss", "--populations", "pipe.h5"],
            "fifo",
            r"regular file",
        ),
    ],
    "impute-augment": [
        (
            "output is the current folder",
            ["--panel", "real.vcf.gz", "--synthetic", "ag.h5", "--target", "target.vcf.gz", "-o", "."],
            None,
            r"current folder",
        ),
        (
            "output is the folder of the inputs",
            ["--panel", "proj/train.h5", "--synthetic", "proj/ag.h5", "--target", "target.vcf.gz", "-o", "proj"],
            "project",
            r"genosynth did not write|folder holding",
        ),
        (
            "truncated bgzipped target",
            ["--panel", "real.vcf.gz", "--synthetic", "ag.h5", "--target", "truncated.vcf.gz", "-o", "ia"],
            None,
            r"truncated.vcf.gz: truncated or corrupt gzip data after record \S+:\d+",
        ),
        (
            "legend without a .hapt input",
            [
                "--panel",
                "real.vcf.gz",
                "--synthetic",
                "ag.h5",
                "--target",
                "target.vcf.gz",
                "-o",
                "ia",
                "--legend",
                "real.legend",
            ],
            None,
            r"--legend applies to a .hapt input; ag.h5 is not one",
        ),
        (
            "panel is a pipe",
            ["--panel", "pipe.h5", "--synthetic", "ag.h5", "--target", "target.vcf.gz", "-o", "ia"],
            "fifo",
            r"regular file",
        ),
        (
            "negative seed",
            ["--panel", "real.vcf.gz", "--synthetic", "ag.h5", "--target", "target.vcf.gz", "-o", "ia", "--seed", "-1"],
            None,
            r"--seed must be >= 0",
        ),
    ],
}


@pytest.mark.parametrize(
    "step, case, argv, setup, pattern",
    [
        pytest.param(step, case, argv, setup, pattern, id=f"{step}: {case}")
        for step, cases in CASES.items()
        for case, argv, setup, pattern in cases
    ],
)
def test_a_hostile_invocation_is_refused_and_changes_nothing(workspace, tmp_path, step, case, argv, setup, pattern):
    result, before = run_case(workspace, tmp_path, [step, *argv], setup)
    assert_refused(result, before, tmp_path, pattern=pattern)


def test_a_truncated_bgzip_names_the_same_last_record_on_every_run(workspace, tmp_path):
    lines = set()
    for attempt in range(3):
        result, before = run_case(
            workspace, tmp_path / str(attempt), ["vcf-to-matrix", "truncated.vcf.gz", "-o", "a.h5", "--threads", "3"]
        )
        assert_refused(result, before, tmp_path / str(attempt), pattern=r"after record \S+:\d+")
        lines.add(result.stderr.strip().splitlines()[-1])
    assert len(lines) == 1, lines


def test_an_output_naming_dev_stdout_redirected_to_a_file_is_refused(workspace, tmp_path):
    """As root, /dev/stdout (a link to /proc/self/fd/1, itself a link to the redirected file) was replaced by the
    rename: the output must be refused before any work, whatever the stream is."""
    _prepare(workspace, tmp_path, None)
    (tmp_path / "stdout.txt").write_text("")
    before, link = _tree(tmp_path), os.readlink("/dev/stdout")
    with open(tmp_path / "stdout.txt", "w") as stdout:
        result = subprocess.run(
            [str(GENOSYNTH), "vcf-to-matrix", "real.vcf.gz", "-o", "/dev/stdout"],
            cwd=tmp_path,
            stdout=stdout,
            stderr=subprocess.PIPE,
            text=True,
        )
    assert os.path.islink("/dev/stdout") and os.readlink("/dev/stdout") == link
    assert_refused(result, before, tmp_path, pattern=r"/dev/stdout: --output is \(or links to\) /dev/stdout")


def test_an_output_folder_genosynth_wrote_or_an_empty_one_is_replaced(workspace, tmp_path):
    _prepare(workspace, tmp_path, "folders")
    (tmp_path / "empty").mkdir()
    for folder in ("empty", "written", "written"):  # the last replaces the folder (and manifest) it wrote
        result = subprocess.run(
            [
                str(GENOSYNTH),
                "privacy-check",
                "--train",
                "train.h5",
                "--holdout",
                "hold.h5",
                "--synthetic",
                "ag.h5",
                "-o",
                folder,
                "--seed",
                "1",
                "--device",
                "cpu",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert result.returncode in (0, 2), result.stderr
        assert (tmp_path / folder / ".genosynth-output.json").is_file()
        assert (tmp_path / folder / "privacy.json").is_file()


STOPPED_WITHIN = (
    3.5  # seconds: the watchdog ends a run 2 s after the signal; the rest is the process's exit, on a busy CI
)
# machine


def _stop_when_started(argv: list[str], cwd: Path, started, sig: int) -> tuple[subprocess.CompletedProcess, float]:
    process = subprocess.Popen([str(GENOSYNTH), *argv], cwd=cwd, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not started() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert process.poll() is None, "the run ended before the signal"
    sent = time.monotonic()
    process.send_signal(sig)
    _, stderr = process.communicate(timeout=60)
    return subprocess.CompletedProcess(argv, process.returncode, "", stderr), time.monotonic() - sent


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signalled_conversion_stops_within_two_seconds_and_writes_nothing(workspace, tmp_path, sig, code):
    """vcf-to-matrix once ignored signals: the handler's exception was raised inside a weakref callback, where
    Python discards it, and the run finished with exit 0."""
    from genosynth.io import write_haplotypes
    from genosynth.io.hdf5 import read_matrix
    from genosynth.io.matrix import HaplotypeMatrix, Sites

    small = read_matrix(workspace / "train.h5")
    sites = 3000  # 450 haplotypes x 3000 sites: a conversion long enough to interrupt
    repeats = -(-sites // small.n_sites)
    alleles = np.tile(small.haplotypes, (1, repeats))[:, :sites]
    big = HaplotypeMatrix(
        alleles,
        Sites(
            np.full(sites, "1"),
            np.arange(1, sites + 1) * 10,
            np.full(sites, "."),
            np.full(sites, "A"),
            np.full(sites, "C"),
        ),
        small.samples,
        small.ploidy,
        small.populations,
    )
    write_haplotypes(big, tmp_path / "big.vcf")
    before = _tree(tmp_path)
    result, took = _stop_when_started(
        ["vcf-to-matrix", "big.vcf", "-o", "big.h5"], tmp_path, lambda: list(tmp_path.glob(".big.h5.*.tmp")), sig
    )
    assert took < STOPPED_WITHIN, f"stopped after {took:.1f} s"
    assert_refused(result, before, tmp_path, code=code, pattern=r"(terminated|interrupted).*no output was written")


def test_a_terminated_training_keeps_only_its_checkpoint_and_says_so(workspace, tmp_path):
    _prepare(workspace, tmp_path, None)
    argv = [
        "train-rbm",
        "train.h5",
        "-o",
        "m.safetensors",
        "--epochs",
        "100000",
        "--checkpoint-every",
        "1",
        "--hidden-units",
        "4",
        "--chains",
        "10",
        "--monitor-every",
        "100000",
        "--device",
        "cpu",
    ]
    result, took = _stop_when_started(argv, tmp_path, lambda: (tmp_path / "m.ckpt").exists(), signal.SIGTERM)
    assert took < STOPPED_WITHIN and result.returncode == 143, (took, result.stderr)
    assert "m.ckpt, kept so that --resume continues from it" in result.stderr.splitlines()[-1]
    assert not TRACEBACK.search(result.stderr)
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("m.", ".m.")))
    assert left == ["m.ckpt"], left


def _leftovers(folder: Path) -> list[str]:
    """Temporary outputs and set-aside old folders left anywhere under ``folder``."""
    return sorted(str(p.relative_to(folder)) for p in folder.rglob(".*") if p.name.endswith((".tmp", ".old")))


def test_a_training_stopped_while_writing_its_outputs_writes_all_of_them_or_none_and_says_which(workspace, tmp_path):
    """The model, its history with curves and the RBM's hidden representation with its plot are one group: a signal
    while they are written (the model's temporary file exists, the plots are being drawn) leaves all or none, and
    the last line says which (once the model and history stayed while the line said only the checkpoint was kept)."""
    _prepare(workspace, tmp_path, None)
    argv = [
        "train-rbm",
        "train.h5",
        "-o",
        "m.safetensors",
        "--epochs",
        "2",
        "--hidden-units",
        "4",
        "--chains",
        "10",
        "--monitor-gibbs-steps",
        "2",
        "--validation-size",
        "10",
        "--device",
        "cpu",
    ]
    result, _ = _stop_when_started(argv, tmp_path, lambda: list(tmp_path.glob(".m.safetensors.*.tmp")), signal.SIGTERM)
    assert result.returncode == 143 and not TRACEBACK.search(result.stderr), result.stderr
    group = [
        "m.hidden.pdf",
        "m.hidden.png",
        "m.hidden.tsv",
        "m.safetensors",
        "m.training.pdf",
        "m.training.png",
        "m.training.tsv",
    ]
    left = sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(("m.", ".m.")))
    last = result.stderr.splitlines()[-1]
    if "after writing" in last:  # the signal came after the renames: every output, and the line says so
        assert left == sorted(group + ["m.ckpt"]) and "m.safetensors" in last, (left, last)
    else:
        assert left == ["m.ckpt"] and last.endswith(
            "except the checkpoint m.ckpt, kept so that --resume continues from it"
        ), (left, last)


def test_a_folder_output_stopped_while_written_leaves_no_created_parent_and_no_temporary(workspace, tmp_path):
    _prepare(workspace, tmp_path, None)
    before = _tree(tmp_path)
    argv = [
        "evaluate",
        "--real",
        "train.h5",
        "--synthetic",
        "a=ag.h5",
        "-o",
        "n1/n2/ev",
        "--triplets",
        "50",
        "--device",
        "cpu",
    ]
    result, _ = _stop_when_started(argv, tmp_path, lambda: list(tmp_path.glob("n1/n2/.ev.*.tmp")), signal.SIGTERM)
    assert_refused(result, before, tmp_path, code=143, pattern=r"terminated \(SIGTERM\); no output was written$")


def test_a_selection_scan_stopped_while_writing_leaves_neither_its_folder_nor_its_network(workspace, tmp_path):
    """The scan's folder and --cnn-model-output are one group: once the folder stayed, the network was written
    after it, and the line said nothing was written."""
    _prepare(workspace, tmp_path, None)
    before = _tree(tmp_path)
    argv = [
        "selection-scan",
        "train.h5",
        "--target",
        "AAA",
        "--versus",
        "BBB",
        "-o",
        "ss",
        "--method",
        "cnn",
        "--s-grid",
        "0,400",
        "--simulations",
        "10",
        "--image-size",
        "64",
        "--cnn-window-sites",
        "20",
        "--cnn-epochs",
        "1",
        "--device",
        "cpu",
        "--cnn-model-output",
        "net.safetensors",
    ]
    result, _ = _stop_when_started(argv, tmp_path, lambda: list(tmp_path.glob(".ss.*.tmp")), signal.SIGTERM)
    assert_refused(result, before, tmp_path, code=143, pattern=r"terminated \(SIGTERM\); no output was written$")


@pytest.mark.parametrize("moment", ["writing", "replacing"])
def test_a_folder_replaced_under_a_signal_is_the_old_or_the_new_one_and_the_line_says_which(
    workspace, tmp_path, moment
):
    """A signal while a genosynth folder is replaced: the old folder stays whole (and the line says nothing was
    written) or the new one is in place (and the line names it); no temporary or set-aside folder is left."""
    _prepare(workspace, tmp_path, None)
    argv = [
        "evaluate",
        "--real",
        "train.h5",
        "--synthetic",
        "a=ag.h5",
        "-o",
        "ev",
        "--triplets",
        "50",
        "--device",
        "cpu",
    ]
    subprocess.run([str(GENOSYNTH), *argv, "--seed", "1"], cwd=tmp_path, check=True, capture_output=True)
    if moment == "replacing":  # an old folder large enough that setting it aside and removing it takes a while
        import json

        (tmp_path / "ev" / "bulk").mkdir()
        for index in range(20000):
            (tmp_path / "ev" / "bulk" / str(index)).write_bytes(b"")
        manifest = tmp_path / "ev" / ".genosynth-output.json"
        written = json.loads(manifest.read_text())
        written["files"] += [f"bulk/{index}" for index in range(20000)]
        manifest.write_text(json.dumps(written))
    old = _tree(tmp_path / "ev")
    pattern = ".ev.*.old" if moment == "replacing" else ".ev.*.tmp"
    result, _ = _stop_when_started(
        [*argv, "--seed", "2"], tmp_path, lambda: list(tmp_path.glob(pattern)), signal.SIGTERM
    )
    last = result.stderr.splitlines()[-1]
    assert result.returncode == 143 and not TRACEBACK.search(result.stderr), result.stderr
    assert not _leftovers(tmp_path), _leftovers(tmp_path)
    if _tree(tmp_path / "ev") == old:
        assert last.endswith("terminated (SIGTERM); no output was written"), last
    else:
        assert "terminated (SIGTERM) after writing ev; no other output was written" in last, last
        assert (tmp_path / "ev" / "report.html").is_file()


def _on_a_full_disk(argv: list[str], cwd: Path, size: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    """Run ``genosynth ARGV`` in a fresh tmpfs of ``size`` (a private mount namespace: ``unshare -m``), its inputs
    outside it; returns the result and what the run left in the tmpfs."""
    mount = cwd / "small-disk"
    mount.mkdir(exist_ok=True)
    script = 'mount -t tmpfs -o size="$1" tmpfs "$2" && cd "$2" || exit 99; shift 2; "$@"; code=$?; ls -A; exit $code'
    result = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, "sh", size, str(mount), str(GENOSYNTH), *argv],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    return result, result.stdout.split()


def _can_mount_a_small_disk() -> bool:
    try:
        with tempfile.TemporaryDirectory() as folder:
            return (
                subprocess.run(
                    ["unshare", "-m", "sh", "-c", f"mount -t tmpfs -o size=16k tmpfs {folder}"], capture_output=True
                ).returncode
                == 0
            )
    except OSError:
        return False


@pytest.mark.skipif(not _can_mount_a_small_disk(), reason="needs unshare -m and mount (root in a namespace)")
@pytest.mark.parametrize("size", ["16k", "64k"])
@pytest.mark.parametrize(
    "step, argv",
    [
        ("vcf-to-matrix", ["{w}/real.vcf.gz", "-o", "a.h5"]),
        ("sample", ["{w}/rbm.safetensors", "-n", "2000", "-o", "s.h5", "--device", "cpu"]),
        ("export", ["{w}/train.h5", "-o", "x.vcf"]),
        (
            "train-rbm",
            [
                "{w}/train.h5",
                "-o",
                "m.safetensors",
                "--epochs",
                "2",
                "--hidden-units",
                "4",
                "--chains",
                "10",
                "--monitor-gibbs-steps",
                "2",
                "--validation-size",
                "10",
                "--device",
                "cpu",
            ],
        ),
        (
            "evaluate",
            ["--real", "{w}/train.h5", "--synthetic", "a={w}/ag.h5", "-o", "ev", "--triplets", "50", "--device", "cpu"],
        ),
    ],
)
def test_a_full_disk_is_one_line_naming_the_output_and_leaves_nothing_half_written(
    workspace, tmp_path, size, step, argv
):
    """A disk that fills while an output is written (ENOSPC raised by h5py, safetensors, matplotlib or a plain
    write, mostly without a file name): once a traceback (exit 3) or a segmentation fault in h5py's teardown."""
    result, left = _on_a_full_disk([step, *(arg.format(w=workspace) for arg in argv)], tmp_path, size)
    if result.returncode == 0 and size != "16k":  # it fitted: nothing to check at this size (16k fits none)
        return
    assert result.returncode == 1 and not TRACEBACK.search(result.stderr), result.stderr
    errors = [line for line in result.stderr.splitlines() if ": error: " in line]
    assert len(errors) == 1 and re.search(r": No space left on device while writing; nothing was written", errors[0]), (
        result.stderr
    )
    kept = [name for name in left if name.endswith(".ckpt")]
    assert left == kept and all(f"except the checkpoint {name}" in errors[0] for name in kept), (left, errors)


# --- the property test: each option's value drawn from its declared type and bounds, and past them ---

BASE = {  # a quick command of each step that succeeds; the drawn option is added to it
    "vcf-to-matrix": ["real.vcf.gz", "-o", "out.h5"],
    "export": ["train.h5", "-o", "out.vcf"],
    "train-gan": ["train.h5", "-o", "m.safetensors", "--epochs", "1", "--validation-size", "10", "--device", "cpu"],
    "train-rbm": [
        "train.h5",
        "-o",
        "m.safetensors",
        "--epochs",
        "1",
        "--hidden-units",
        "4",
        "--chains",
        "10",
        "--monitor-gibbs-steps",
        "2",
        "--validation-size",
        "10",
        "--device",
        "cpu",
    ],
    "train-diffusion": [
        "train.h5",
        "-o",
        "m.safetensors",
        "--representation",
        "sites",
        "--epochs",
        "1",
        "--channels",
        "8",
        "--max-channels",
        "8",
        "--patch",
        "2",
        "--monitor-steps",
        "2",
        "--validation-size",
        "10",
        "--device",
        "cpu",
    ],
    "sample": ["rbm.safetensors", "-n", "10", "-o", "out.h5", "--device", "cpu"],
    "evaluate": ["--real", "train.h5", "--synthetic", "a=ag.h5", "-o", "ev", "--triplets", "50", "--device", "cpu"],
    "privacy-check": [
        "--train",
        "train.h5",
        "--holdout",
        "hold.h5",
        "--synthetic",
        "ag.h5",
        "-o",
        "pc",
        "--device",
        "cpu",
    ],
    "selection-scan": ["train.h5", "--target", "AAA", "--versus", "BBB", "-o", "ss"],
    "impute-augment": ["--panel", "real.vcf.gz", "--synthetic", "ag.h5", "--target", "target.vcf.gz", "-o", "ia"],
}
EXPENSIVE = {"impute-augment", "selection-scan"}  # only values past the bounds are drawn (a valid run takes long)
# options whose small valid values still start long work: drawn past their bounds only
SLOW_WHEN_VALID = {
    "--epochs",
    "--simulations",
    "--cnn-epochs",
    "--image-size",
    "--repeats",
    "--hidden-units",
    "--chains",
    "--k",
    "--latent-size",
    "--mlp-width",
    "--channels",
    "--max-channels",
    "--pca-components",
    "--validation-size",
    "--monitor-every",
    "--checkpoint-every",
    "--components",
    "--triplets",
    "--ld-heatmap-sites",
    "--boundary-span",
    "--monitor-gibbs-steps",
    "--monitor-steps",
    "--gibbs-steps",
    "--steps",
    "--cnn-window-sites",
    "--window",
    "--batch",
    "--batch-size",
    "-n",
    "--haplotypes",
    "--threads",
}


def _drawable(step: str) -> list[argparse.Action]:
    """The options of ``step`` with a declared numeric type or choices (paths and free text are the table's)."""
    from genosynth.cli import step_parser
    from genosynth.steps._types import Bounded

    return [
        action
        for action in step_parser(step)._actions
        if action.option_strings
        and action.nargs is None
        and type(action) is argparse._StoreAction
        and action.dest not in ("help", "version")
        and (isinstance(action.type, Bounded) or action.type in (int, float, None) or action.choices)
    ]


def _values(action: argparse.Action, step: str):
    """(value, past its bounds) pairs: inside the declared bounds or choices, and past them."""
    from genosynth.steps._types import Bounded

    past = st.sampled_from(["", "x", "nan", "inf", "-inf", "1e400", "0x10", str(2**70), str(-(2**70))])
    if action.type is None and not action.choices:  # free text (a region, a duration, a name): any text
        text = st.text(st.characters(blacklist_characters="\x00", blacklist_categories=("Cs",)), max_size=12)
        inside = st.one_of(text, st.sampled_from(["1:1-100", "1:0-5", "chr1", "-1", "1h", "AAA", "x" * 300]))
        return inside.map(lambda v: (v, False))
    if action.choices:
        inside = st.sampled_from([str(choice) for choice in action.choices])
        past = st.sampled_from(["", "bogus", "AUTO"])
    else:
        kind = action.type.kind if isinstance(action.type, Bounded) else action.type
        low, high = action.type.bounds() if isinstance(action.type, Bounded) else (None, None)
        if action.dest == "seed":
            low, high = 0, 2**31 - 1
        edges = [v for v in (low, high) if v is not None]
        beyond = [v - 1 for v in edges[:1] if low is not None] + [v + 1 for v in edges[-1:] if high is not None]
        if kind is float:
            beyond = [low - 0.001] if low is not None else []
            beyond += [high + 0.001] if high is not None else []
        if beyond:  # mostly just past a bound, where a missed check lets a value through
            past = st.one_of(st.sampled_from([str(v) for v in beyond]), st.sampled_from([str(v) for v in beyond]), past)
        if kind is int:
            start = int(low if low is not None else 0)
            inside = st.integers(start, start + 3 if high is None else min(start + 3, int(high))).map(str)
        else:
            lower = float(low if low is not None else 0.0)
            upper = float(high if high is not None else lower + 10)
            inside = st.floats(
                lower,
                upper,
                exclude_min=action.type.above is not None if isinstance(action.type, Bounded) else False,
                exclude_max=action.type.below is not None if isinstance(action.type, Bounded) else False,
                allow_nan=False,
            ).map(repr)
    if step in EXPENSIVE or max(action.option_strings, key=len) in SLOW_WHEN_VALID:
        return past.map(lambda v: (v, True))
    return st.one_of(inside.map(lambda v: (v, False)), past.map(lambda v: (v, True)))


@st.composite
def _option(draw, step: str):
    action = draw(st.sampled_from(_drawable(step)))
    value, outside = draw(_values(action, step))
    return max(action.option_strings, key=len), value, outside


@pytest.mark.parametrize("step", list(BASE))
def test_drawn_option_values_hold_the_contract(workspace, step):
    @settings(
        max_examples=4,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(_option(step))
    def check(drawn):
        flag, value, outside = drawn
        with tempfile.TemporaryDirectory() as folder:
            where = Path(folder)
            result, before = run_case(workspace, where, [step, *BASE[step], f"{flag}={value}"], timeout=300)
            if outside:
                assert_refused(result, before, where, pattern=re.escape(flag) + "|argument")
            elif result.returncode not in (0, 2):  # a valid value may still be refused, by the contract
                assert_refused(result, before, where, code=result.returncode)
            else:
                after = _tree(where)
                assert all(after.get(name) == digest for name, digest in before.items()), result.stderr
                assert not TRACEBACK.search(result.stderr), result.stderr

    check()


def test_help_lists_every_step_whole_and_each_default_once():
    from genosynth.cli import STEPS, build_parser, step_module

    listing = " ".join(
        subprocess.run([str(GENOSYNTH), "--help"], capture_output=True, text=True, check=True).stdout.split()
    )
    for step in STEPS:
        assert f"{step} {step_module(step).SUMMARY}" in listing, step
        text = build_parser()._subparsers._group_actions[0].choices[step].format_help()  # genosynth STEP -h
        options = re.split(r"\n  (?=-)", text)  # one entry per option
        twice = [
            entry.split()[0]
            for entry in options
            if len(re.findall(r"\bdefault:? [\w.'-]", " ".join(entry.split()), re.IGNORECASE)) > 1
        ]
        assert not twice, f"{step}: defaults given twice for {twice}"
        assert "(default: None)" not in text, step
