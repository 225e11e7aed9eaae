"""Benchmark: genosynth vcf-to-matrix against scikit-allel's read_vcf on the same bgzipped VCF, same run.

Simulates stdpopsim's OutOfAfrica_3G09 (YRI, CEU, CHB; --individuals-per-population each) on --length bp of
chr22 and writes it as a bgzipped, tabix-indexed VCF with the contig's length in its header, as cohort VCFs come
(GT only, phased). Then times each reader in its own fresh process (peak memory = that process's VmHWM; the
bgzip/tabix processes vcf-to-matrix starts are not counted, a few MB each), alternating them for --repeats
rounds, and prints medians, the ratios, and seconds and peak memory per million sites.

    .venv/bin/python bench/vcf_to_matrix.py [--repeats 3] [--workdir DIR]     # 50k sites x 600 haplotypes
    .venv/bin/python bench/vcf_to_matrix.py --individuals-per-population 835 --length 50_000_000 \\
        --repeats 1 --workdir /tmp/vcf1000g                                    # ~1M sites x 5010 haplotypes
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

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

START = 0  # the simulated stretch of chr22 (flat recombination map) begins at its first base


def simulate_vcf(vcf: Path, *, individuals_per_population: int, length: int, seed: int) -> int:
    """Write the simulation as a bgzipped, indexed VCF of its biallelic sites; return the number of records."""
    from genosynth.downstream.simulation import out_of_africa_tree_sequence
    from genosynth.io.matrix import Sites
    from genosynth.io.vcf import VcfWriter

    ts = out_of_africa_tree_sequence(
        individuals_per_population=individuals_per_population, start=START, length=length, seed=seed
    )
    labels = np.array([ts.population(ts.node(ind.nodes[0]).population).metadata["name"] for ind in ts.individuals()])
    names = np.array([f"{label}_{i}" for i, label in enumerate(labels)])
    with VcfWriter(
        vcf,
        samples=names,
        ploidy=np.full(len(names), 2, np.int8),
        populations=labels,
        label="Real",
        provenance=[],
        contigs=["22"],
        contig_lengths={"22": 50_818_468},
        bgzip=True,
    ) as writer:
        block: list[np.ndarray] = []
        fields: list[tuple[int, str, str]] = []
        records = last = 0

        def flush() -> None:
            pos, ref, alt = (np.array(column) for column in zip(*fields))
            writer.append(
                Sites(
                    chrom=np.full(len(pos), "22"), pos=pos.astype(np.int64), id=np.full(len(pos), "."), ref=ref, alt=alt
                ),
                np.stack(block, axis=1),
            )
            block.clear()
            fields.clear()

        for variant in ts.variants():
            position = int(variant.site.position) + START + 1
            if len(variant.alleles) != 2 or variant.alleles[1] is None or position == last:
                continue
            last = position
            block.append(variant.genotypes.astype(np.uint8))
            fields.append((position, variant.alleles[0], variant.alleles[1]))
            records += 1
            if len(block) == 4096:
                flush()
        if block:
            flush()
    return records


def _measure(kind: str, vcf: Path, out: Path) -> dict[str, float]:
    result = subprocess.run(
        [sys.executable, "-c", CHILD, kind, str(vcf), str(out)], capture_output=True, text=True, check=True
    )
    return json.loads(result.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--individuals-per-population", type=int, default=100)
    parser.add_argument("--length", type=lambda text: int(text.replace("_", "")), default=5_500_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--workdir", type=Path, help="keep the simulated VCF here (reused when present)")
    parser.add_argument("--json", type=Path, help="also write the table here for the docs (docs/benchmarks/*.json)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        vcf = workdir / f"ooa_{args.individuals_per_population}x3_{args.length}_{args.seed}.vcf.gz"
        meta = vcf.with_suffix(".json")
        if not meta.exists():
            start = time.perf_counter()
            records = simulate_vcf(
                vcf, individuals_per_population=args.individuals_per_population, length=args.length, seed=args.seed
            )
            meta.write_text(json.dumps({"records": records, "seconds": time.perf_counter() - start}))
        records = json.loads(meta.read_text())["records"]
        size_mib = vcf.stat().st_size / 2**20
        haplotypes = 6 * args.individuals_per_population
        results: dict[str, list[dict[str, float]]] = {"genosynth-1": [], "genosynth-2": [], "allel": []}
        for _ in range(args.repeats):
            for kind in results:
                results[kind].append(_measure(kind, vcf, workdir / "bench.h5"))
                (workdir / "bench.h5").unlink(missing_ok=True)
    seconds = {k: statistics.median(r["seconds"] for r in v) for k, v in results.items()}
    peak = {k: statistics.median(r["peak_mib"] for r in v) for k, v in results.items()}
    print(
        f"input: {vcf.name}, {records} records x {haplotypes} haplotypes "
        f"({size_mib:.0f} MiB bgzipped), {args.repeats} alternating rounds, medians"
    )
    names = {
        "genosynth-1": "vcf-to-matrix --threads 1 (to HDF5)",
        "genosynth-2": "vcf-to-matrix --threads 2 (to HDF5)",
        "allel": "allel.read_vcf (to memory)",
    }
    print(f"{'reader':<40}{'seconds':>10}{'peak MiB':>10}{'speed-up':>10}{'memory':>8}{'s per M sites':>15}")
    per_million = 1e6 / records
    for kind, name in names.items():
        print(
            f"{name:<40}{seconds[kind]:>10.2f}{peak[kind]:>10.0f}{seconds['allel'] / seconds[kind]:>9.2f}x"
            f"{peak[kind] / peak['allel']:>8.2f}{seconds[kind] * per_million:>15.1f}"
        )
    print("speed-up = allel seconds / these seconds; memory = this peak / allel's peak")
    if args.json:
        from results import write_result

        write_result(
            args.json,
            title=f"{records:,} sites x {haplotypes:,} haplotypes, {size_mib:.0f} MiB bgzipped",
            columns=[
                "reader",
                "seconds",
                "peak memory (MiB)",
                "speed-up",
                "memory vs allel",
                "seconds per million sites",
            ],
            rows=[
                [
                    name,
                    round(seconds[kind], 2),
                    round(peak[kind]),
                    round(seconds["allel"] / seconds[kind], 2),
                    round(peak[kind] / peak["allel"], 2),
                    round(seconds[kind] * per_million, 1),
                ]
                for kind, name in names.items()
            ],
            notes=f"median of {args.repeats} alternating rounds, each reader in a fresh process; speed-up = "
            "allel's seconds / these seconds",
        )


if __name__ == "__main__":
    main()
