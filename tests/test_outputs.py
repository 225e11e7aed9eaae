"""Outputs that are whole and safe to share: a folder is swapped in complete or not at all (a run terminated
part-way, or failing after its first file, leaves the previous complete folder), and shared files (artificial
genomes, model files, reports) name inputs without their folders."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import genosynth
import pytest
from conftest import read_text, run_genosynth, write_805_split


@pytest.fixture(scope="module")
def sets(data_805, tmp_path_factory):
    return write_805_split(
        data_805, tmp_path_factory.mktemp("outputs"), {"train": 800, "holdout": 200, "other": 800}, seed=4
    )


def _folder_state(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def test_a_terminated_run_leaves_the_previous_complete_folder(sets, tmp_path):
    out = tmp_path / "evaluation"
    command = [
        "evaluate",
        "--real",
        sets["train"],
        "--synthetic",
        f"other={sets['other']}",
        "--holdout",
        sets["holdout"],
        "-o",
        out,
        "--seed",
        "1",
        "--device",
        "cpu",
        "--triplets",
        "500",
    ]
    run_genosynth(*command)
    before = _folder_state(out)
    process = subprocess.Popen(
        [sys.executable, "-m", "genosynth", *map(str, command)], stderr=subprocess.PIPE, text=True
    )
    deadline = time.monotonic() + 120
    while not list(tmp_path.glob(".evaluation.*.tmp")) and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)  # the new folder is being written: terminate the run now
    assert process.poll() is None, "the run ended before it started writing"
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 143 and "terminated (SIGTERM)" in stderr
    assert _folder_state(out) == before  # the previous run's complete folder, untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evaluation"]  # no half-written folder beside it


def test_a_write_failing_after_its_first_file_leaves_no_folder(sets, tmp_path, monkeypatch):
    from genosynth.reports import html

    train, holdout, other = (genosynth.read_haplotypes(sets[name]) for name in ("train", "holdout", "other"))
    report = genosynth.check_privacy(train, holdout, other, seed=1, device="cpu", progress=False)
    written = []

    def fail_on_the_json(path, data):  # the figures are written first, then this file fails
        written.extend(p.name for p in path.parent.iterdir())
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(html, "write_json", fail_on_the_json)
    monkeypatch.setattr("genosynth.reports.write_json", fail_on_the_json)
    with pytest.raises(OSError, match="No space left"):
        report.write(tmp_path / "privacy")
    assert "dcr.png" in written  # files had been written when it failed
    assert list(tmp_path.iterdir()) == []


def test_shared_outputs_name_inputs_without_their_folders(sets, tmp_path):
    private = tmp_path / "home" / "alice" / "cohort"
    private.mkdir(parents=True)
    model, ag = private / "rbm.safetensors", private / "ag.vcf.gz"
    run_genosynth(
        "train-rbm",
        sets["train"],
        "-o",
        model,
        "--epochs",
        "1",
        "--hidden-units",
        "4",
        "--chains",
        "10",
        "--monitor-gibbs-steps",
        "2",
        "--device",
        "cpu",
    )
    run_genosynth("sample", model, "-n", "20", "-o", ag, "--seed", "1")
    run_genosynth(
        "privacy-check",
        "--train",
        sets["train"],
        "--holdout",
        sets["holdout"],
        "--synthetic",
        ag,
        "-o",
        private / "privacy",
        "--seed",
        "1",
        "--device",
        "cpu",
    )
    shared = {
        "artificial genomes": read_text(ag),
        "model file": model.read_bytes()[:200_000].decode("latin-1"),
        "privacy report": (private / "privacy" / "report.html").read_text(),
        "privacy metrics": (private / "privacy" / "privacy.json").read_text(),
    }
    for name, text in shared.items():
        assert str(tmp_path) not in text and "/home/alice" not in text, name
    provenance = json.loads((private / "privacy" / "privacy.json").read_text())["provenance"]
    assert [entry["name"] for entry in provenance["inputs"]] == ["train.h5", "holdout.h5", "ag.vcf.gz"]
    assert provenance["command"][0] == "genosynth" and "ag.vcf.gz" in provenance["command"]


def test_every_output_file_follows_the_umask(sets, tmp_path):
    """Model and checkpoint files were once written 0600 while every other output followed the umask."""
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "genosynth",
            "train-rbm",
            str(sets["holdout"]),
            "-o",
            str(tmp_path / "m.safetensors"),
            "--epochs",
            "1",
            "--hidden-units",
            "4",
            "--chains",
            "10",
            "--monitor-gibbs-steps",
            "2",
            "--device",
            "cpu",
        ],
        capture_output=True,
        text=True,
        preexec_fn=lambda: os.umask(0o027),
    )
    assert run.returncode == 0, run.stderr
    modes = {p.name: oct(p.stat().st_mode & 0o777) for p in tmp_path.iterdir()}
    assert set(modes.values()) == {"0o640"}, modes


def test_engine_logs_name_no_temporary_or_home_folder(tmp_path, simulated):
    """impute-augment copies Beagle's logs and outputs into its report: with TMPDIR inside a home folder their
    command lines named the private temporary folder."""
    from conftest import require_programs

    require_programs("beagle", "bgzip", "tabix")
    home = tmp_path / "home" / "alice"
    (home / "tmp").mkdir(parents=True)
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "panel.h5",
        "--populations",
        simulated["populations"],
        "--holdout",
        "0.3",
        "--holdout-output",
        tmp_path / "target.h5",
        "--seed",
        "1",
    )
    run_genosynth("export", tmp_path / "target.h5", "-o", tmp_path / "target.vcf.gz")
    run_genosynth(
        "sample",
        "--baseline",
        "bernoulli",
        "--reference",
        tmp_path / "panel.h5",
        "-n",
        "20",
        "-o",
        tmp_path / "ag.h5",
        "--seed",
        "1",
    )
    run_genosynth(
        "impute-augment",
        "--panel",
        tmp_path / "panel.h5",
        "--synthetic",
        tmp_path / "ag.h5",
        "--target",
        tmp_path / "target.vcf.gz",
        "-o",
        tmp_path / "impute",
        "--seed",
        "1",
        env={"TMPDIR": str(home / "tmp"), "HOME": str(home)},
    )
    import gzip

    shared = {
        p.name: (gzip.open(p, "rt").read() if p.name.endswith(".gz") else p.read_text(errors="replace"))
        for p in (tmp_path / "impute").iterdir()
        if p.name.startswith("imputed_")
    }
    assert any(name.endswith(".log") for name in shared), sorted(shared)
    for name, text in shared.items():
        assert str(home) not in text and "/home/alice" not in text, name
