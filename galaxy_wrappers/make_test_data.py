"""Rebuild galaxy_wrappers/test-data/ (the wrappers' <tests> inputs) from a tiny stdpopsim simulation.

Run from the repository root: ``.venv/bin/python galaxy_wrappers/make_test_data.py``. Every file is small
(< 1 MB) and deterministic up to library versions; the wrappers' tests assert on content, not on bytes.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

TEST_DATA = Path(__file__).resolve().parent / "test-data"


def genosynth(*args: object) -> None:
    subprocess.run([sys.executable, "-m", "genosynth", *map(str, args)], check=True, capture_output=True, text=True)


def main() -> None:
    from genosynth.downstream.simulation import simulate_out_of_africa

    TEST_DATA.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as work_name:
        work = Path(work_name)
        vcf, populations = simulate_out_of_africa(work / "sim.vcf", individuals_per_population=10, length=60_000,
                                                  seed=5)
        with open(vcf, "rb") as source, open(TEST_DATA / "sim.vcf.gz", "wb") as target:
            subprocess.run(["bgzip", "-c"], stdin=source, stdout=target, check=True)
        shutil.copyfile(populations, TEST_DATA / "sim.populations.tsv")
    data = TEST_DATA
    genosynth("vcf-to-matrix", data / "sim.vcf.gz", "--populations", data / "sim.populations.tsv", "--min-maf", "0.05",
              "--holdout", "0.3", "--holdout-output", data / "holdout.h5", "--seed", "1", "-o", data / "train.h5")
    genosynth("train-gan", data / "train.h5", "--preset", "wgan-gp", "--epochs", "2", "--monitor-every", "1",
              "--checkpoint-every", "1", "-o", data / "gan.safetensors")
    genosynth("sample", data / "gan.safetensors", "-n", "40", "--seed", "1", "-o", data / "ag.h5")
    for window, region, context in ((1, "22:15000001-15030000", 0), (2, "22:15030001-15060000", 10)):  # a chain of two windows
        genosynth("train-rbm", data / "train.h5", "--region", region, "--context-sites", context, "--epochs", "2",
                  "--monitor-every", "1", "-o", data / f"rbm_window{window}.safetensors")
    genosynth("train-diffusion", data / "train.h5", "--representation", "sites", "--condition-on", "population",
              "--channels", "16", "--max-channels", "32", "--epochs", "2", "--monitor-every", "1", "--monitor-steps", "5", "-o", data / "diffusion.safetensors")
    with tempfile.TemporaryDirectory() as work_name:  # a selection CNN trained on a few simulations
        genosynth("selection-scan", data / "train.h5", "--target", "CEU", "--method", "cnn", "--cnn-window-sites", "40",
                  "--s-grid", "0,400", "--simulations", "10", "--image-size", "64", "--cnn-epochs", "2",
                  "--cnn-model-output", data / "selection_cnn.safetensors", "-o", Path(work_name) / "scan")
    # a HapMap-format genetic map of the simulated stretch for the mosaic baseline: a hotspot in its first half
    (data / "chr22.map.txt").write_text(
        "Chromosome\tPosition(bp)\tRate(cM/Mb)\tMap(cM)\n22\t15000000\t2.5\t0.0\n22\t15030000\t0.5\t0.075\n"
        "22\t15060000\t0.5\t0.09\n"
    )
    genosynth("export", data / "train.h5", "-o", data / "panel.vcf.gz")
    genosynth("export", data / "holdout.h5", "-o", data / "target.vcf.gz")
    for model in ("gan", "rbm_window1", "rbm_window2", "diffusion"):
        for suffix in (".ckpt", ".training.tsv", ".training.png", ".training.pdf", ".hidden.tsv", ".hidden.png",
                       ".hidden.pdf"):
            (data / f"{model}{suffix}").unlink(missing_ok=True)
    for leftover in ("panel.vcf.gz.tbi", "target.vcf.gz.tbi"):
        (data / leftover).unlink(missing_ok=True)
    for path in sorted(data.iterdir()):
        print(f"{path.name}\t{path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
