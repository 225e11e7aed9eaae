"""make demo's script, end to end at a smaller size: every step it chains runs and writes what the quick start
promises, the chromosome's chain of window models judged across its boundary included."""

from __future__ import annotations

import csv
import subprocess
import sys

import pytest
from conftest import require_programs


@pytest.mark.slow
def test_the_demo_runs_every_step_into_one_folder(tmp_path):
    require_programs("bcftools", "java", "tabix")
    out = tmp_path / "demo-output"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "genosynth.demo",
            "--output",
            str(out),
            "--individuals",
            "20",
            "--epochs",
            "60",
            "--seed",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        timeout=1500,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert f"demo finished: outputs in {out}/" in result.stdout
    windows = (out / "windows.bed").read_text().splitlines()
    assert len(windows) >= 2, windows  # the chain has a boundary to judge
    assert all((out / f"rbm.w{i}.safetensors").is_file() for i in range(1, len(windows) + 1))
    with open(out / "evaluation" / "metrics.tsv") as table:
        rows = {row["set"]: row for row in csv.DictReader(table, delimiter="\t")}
    assert {"gan", "rbm", "diffusion", "rbm_chain", "markov", "mosaic", "ideal"} <= set(rows)
    assert all(rows[name]["boundary_ld_r"] not in ("", "nan") for name in ("rbm_chain", "ideal")), rows["rbm_chain"]
    for report in (
        "evaluation",
        "privacy_gan",
        "privacy_mosaic",
        "privacy_copying_generator",
        "selection_scan",
        "imputation",
    ):
        assert (out / report / "report.html").is_file(), report
    assert (out / "gan_ag.vcf.gz.tbi").is_file() and (out / "rbm_ag.hapt.gz").is_file()
