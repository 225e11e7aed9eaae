"""Benchmark: genosynth vcf-to-matrix against scikit-allel's read_vcf on the same bgzipped VCF, same run.

Simulates (stdpopsim OutOfAfrica_3G09, 3 x 100 individuals = 600 haplotypes, about 5.5 Mb of chr22, at
least 50k sites; bgzipped and tabix-indexed, as cohort VCFs come), then times each reader in its own fresh process (peak memory = that process's VmHWM), alternating
them for --repeats rounds, and prints medians and the ratios.

    .venv/bin/python bench/vcf_to_matrix.py [--repeats 3] [--workdir DIR]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import json, sys, time
kind, vcf, out = sys.argv[1:4]
if kind.startswith("genosynth"):
    from genosynth.cli import main
    start = time.perf_counter()
    try:
        main(["vcf-to-matrix", vcf, "-o", out, "--seed", "1", "--threads", kind.split("-")[1]])
    except SystemExit as exit:
        assert exit.code == 0, exit.code
else:
    import allel
    start = time.perf_counter()
    allel.read_vcf(vcf)
seconds = time.perf_counter() - start
# VmHWM is this process image's own peak; ru_maxrss would include the parent's memory from before exec.
hwm_kib = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "peak_mib": hwm_kib / 1024}))
"""


def _measure(kind: str, vcf: Path, out: Path) -> dict[str, float]:
    result = subprocess.run([sys.executable, "-c", CHILD, kind, str(vcf), str(out)],
                            capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--workdir", type=Path)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        vcf = workdir / "bench.vcf"
        if not (workdir / "bench.vcf.gz").exists():
            from genosynth.simulation import simulate_out_of_africa

            simulate_out_of_africa(vcf, individuals_per_population=100, length=5_500_000, seed=7)
            subprocess.run(["bgzip", "-f", str(vcf)], check=True)
        vcf = workdir / "bench.vcf.gz"
        subprocess.run(["tabix", "-f", "-p", "vcf", str(vcf)], check=True)
        n_sites = sum(1 for line in subprocess.run(["zcat", str(vcf)], capture_output=True, text=True).stdout.splitlines()
                      if not line.startswith("#"))
        results: dict[str, list[dict[str, float]]] = {"genosynth-1": [], "genosynth-2": [], "allel": []}
        for _ in range(args.repeats):
            for kind in results:
                results[kind].append(_measure(kind, vcf, workdir / "bench.h5"))
    seconds = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: statistics.median(r["peak_mib"] for r in v) for k, v in results.items()}
    print(f"input: {vcf.name}, {n_sites} records x 600 haplotypes, {args.repeats} alternating rounds, medians")
    names = {"genosynth-1": "vcf-to-matrix --threads 1 (to HDF5)", "genosynth-2": "vcf-to-matrix --threads 2 (to HDF5)",
             "allel": "allel.read_vcf (to memory)"}
    print(f"{'reader':<40}{'seconds':>10}{'peak MiB':>12}{'speed-up':>10}{'memory':>8}")
    for kind, name in names.items():
        print(f"{name:<40}{seconds[kind]:>10.2f}{peak[kind]:>12.0f}{seconds['allel'] / seconds[kind]:>9.2f}x"
              f"{peak[kind] / peak['allel']:>8.2f}")
    print("speed-up = allel seconds / these seconds; memory = this peak / allel's peak")


if __name__ == "__main__":
    main()
