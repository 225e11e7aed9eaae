"""The chromosome recipe's evidence: the mosaic baseline judged against the whole-chromosome targets, its
privacy-fidelity frontier, and a chain of windows at the scale of a real chromosome; one JSON file, one docs page.

recipe: for each of --seeds, --haplotypes artificial haplotypes drawn by the mosaic (the recipe's settings) from
    the training haplotypes and judged with genosynth's own ``evaluate`` (LD over pairs within 100 kb, the
    windows' boundaries: ``boundary_ld_r`` beside ``within_window_ld_r``) and ``check_privacy`` against the
    held-out haplotypes, which are judged the same way as the reference; every target of the recipe checked.
    --dataset chr22: the 5.5 Mb stdpopsim OutOfAfrica_3G09 chr22 simulation of bench/chromosome.py chain (835
    individuals per population, split 80/20 by individual once: 4008 training haplotypes), judged on its first
    --eval-windows windows of 1500 sites. --dataset 805: the 805 SNPs of 1000 Genomes shipped with genosynth
    (5008 haplotypes over the whole genome, not a contiguous chromosome), labelled with 1000 Genomes' 26 population
    codes (the mosaic copies within them), split 80/20 by individual with each seed.
frontier: on the chr22 simulation, fidelity against privacy as the mosaic's privacy knob (``max_segment_cm``)
    moves, one seed; with the neural generators' points where a bench/chromosome.py chain.json on the same data
    exists (--chain-json, their source named on the plot).
scale: a simulated chromosome of about 1M sites x 5010 haplotypes (as bench/vcf_to_matrix.py simulates it),
    sampled window by window (--windows of them) to a bgzipped VCF and to .hapt with the streaming writer;
    the process's memory after each window, the time per window, and a projection to a whole genome.
render: the page (chromosomes.md) and its plots from the JSON.

    .venv/bin/python bench/chromosome_recipe.py recipe --dataset chr22 --seeds 1 2 3
    .venv/bin/python bench/chromosome_recipe.py recipe --dataset 805 --seeds 1 2 3
    .venv/bin/python bench/chromosome_recipe.py frontier [--chain-json W/chain.json]
    .venv/bin/python bench/chromosome_recipe.py scale [--length 50000000] [--windows 40]
    .venv/bin/python bench/chromosome_recipe.py render docs/benchmarks/chromosome-recipe.json --docs docs/benchmarks

Every measuring command writes its section into -o (default docs/benchmarks/chromosome-recipe.json), keeping the
other sections; --tiny runs toy sizes (the test's mode) and measures nothing a user needs.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DEFAULT_JSON = REPO / "docs" / "benchmarks" / "chromosome-recipe.json"
SCHEMA_VERSION = 1

# The recommended recipe: the mosaic, its copied stretches bounded (the privacy knob), a constant 1 cM/Mb where no
# genetic map is given, donors within each haplotype's population.
RECIPE = {"generator": "mosaic", "ne": 10_000.0, "max_segment_cm": 0.2, "cm_per_mb": 1.0, "by_population": True}
KNOBS = (0.05, 0.1, 0.2, 0.3, 0.5, 1.0, 5.0, None)  # the frontier's max_segment_cm; None: no bound

# Neural chains on the same simulation from before result files were kept: ranges over seeds as the benchmarks
# overview states them, with their command; the page shows them beside any --chain-json result.
DOCUMENTED_NEURAL = (
    {
        "set": "PCA diffusion, chained, 8m a window",
        "source": "bench/chromosome.py chain --individuals 835 --models diffusion_pca --windows 2 --budget 8m "
        "--modes chained, seeds 1-3, windows 1-2 (benchmarks overview, no result file)",
        "ld_r": None,
        "w2d_pca": [0.0021, 0.0026],
        "privacy_loss": [0.007, 0.014],
    },
)

LABELS = {"population": "Population code", "superpopulation": "Superpopulation code"}  # the 805 SNPs' columns

TARGETS = (  # key, label
    ("af_r", "AF r >= 0.99"),
    ("ld_r", "LD r (within 100 kb) >= held-out's - 0.03"),
    ("ld_strength", "LD strength within 10% of the real set's"),
    ("boundary", "boundary_ld_r >= within_window_ld_r - 0.05"),
    ("w2d", "PCA W2D <= 2 x held-out's"),
    ("aa", "AA_truth and AA_syn in [0.40, 0.60]"),
    ("privacy", "privacy loss + 1 SE <= 0.05"),
    ("copies", "exact copies <= held-out's + 2 SE"),
    ("time", "<= 10 CPU minutes per 1500-site window"),
)


# ---------------------------------------------------------------------------------------------------------- data


def _chr22(args: argparse.Namespace) -> tuple[Path, Path, list[str]]:
    """The chr22 simulation of bench/chromosome.py (simulated once into --data-dir): train, holdout, windows."""
    sys.path.insert(0, str(Path(__file__).parent))
    import chromosome  # bench/chromosome.py: the same simulation and split as its chain benchmark

    folder = args.data_dir / ("chr22_tiny" if args.tiny else "chr22")
    folder.mkdir(parents=True, exist_ok=True)
    size = argparse.Namespace(
        individuals=20 if args.tiny else 835,
        length=200_000 if args.tiny else 5_500_000,
        window_sites=200 if args.tiny else 1500,
    )
    return chromosome._data(size, folder)


def _chr22_region(args: argparse.Namespace, count: int) -> tuple[Any, Any, list[str]]:
    """Training and held-out haplotypes of the first ``count`` windows, and those windows."""
    import genosynth

    train, holdout, windows = _chr22(args)
    windows = windows[:count]
    region = f"{windows[0].split('-')[0]}-{windows[-1].split('-')[1]}"
    return (
        genosynth.read_haplotypes(train, region=region),
        genosynth.read_haplotypes(holdout, region=region),
        windows,
    )


def _data_805(seed: int, window_sites: int, *, tiny: bool, labels: str) -> tuple[Any, Any, list[str]]:
    """The 805 SNPs labelled with their 26 populations (or 5 superpopulations, ``labels``), split 80/20 by
    individual with ``seed`` (every eighth individual only when ``tiny``), and windows of ``window_sites`` sites."""
    import genosynth
    from genosynth.datasets import data_805
    from genosynth.io.windows import plan_windows

    data = data_805()
    real = genosynth.read_haplotypes(
        data.hapt, legend=data.legend, populations=data.samples, population_column=LABELS[labels]
    )
    if tiny:
        real = real.select_samples(np.arange(0, len(real.samples), 8))
    train, holdout = genosynth.split_holdout(real, fraction=0.2, seed=seed)
    return train, holdout, [str(w) for w in plan_windows(train.sites, window_sites=window_sites)]


# ------------------------------------------------------------------------------------------------------ judging


def _mosaic(reference: Any, n: int, seed: int, max_segment_cm: float | None) -> tuple[Any, float]:
    """``n`` mosaic haplotypes of ``reference`` with the recipe's settings and ``max_segment_cm``; seconds taken."""
    from genosynth.generate.models.mosaic import MosaicSettings, sample_mosaic

    settings = MosaicSettings(ne=RECIPE["ne"], max_segment_cm=max_segment_cm, cm_per_mb=RECIPE["cm_per_mb"])
    start = time.perf_counter()
    artificial = sample_mosaic(
        reference, n, settings=settings, by_population=RECIPE["by_population"], seed=seed, progress=False
    )
    return artificial, time.perf_counter() - start


def _judge(train: Any, holdout: Any, artificial: Any, windows: list[str], seed: int) -> dict[str, Any]:
    """evaluate (with the held-out set as the reference row) and check_privacy; the figures the targets need."""
    import genosynth

    report = genosynth.evaluate(
        train,
        {"mosaic": artificial},
        holdout=holdout,
        windows=windows,
        ld_max_distance=100_000,
        seed=seed,
        device="cpu",
        progress=False,
    )
    privacy = genosynth.check_privacy(train, holdout, artificial, seed=seed, device="cpu", progress=False).metrics
    keys = (
        "af_r",
        "ld_r",
        "ld_r_all_pairs",
        "ld_strength",
        "boundary_ld_r",
        "within_window_ld_r",
        "w2d_pca",
        "aats",
        "aa_truth",
        "aa_syn",
    )
    sets = report.metrics["sets"]
    return {
        "mosaic": {key: sets["mosaic"].get(key) for key in keys}
        | {key: privacy[key] for key in ("privacy_loss", "privacy_loss_se", "exact_copies", "mia_auc")}
        | {"n_haplotypes": artificial.n_haplotypes},
        "holdout": {key: sets["holdout"].get(key) for key in keys}
        | {"copies_of_train": privacy["holdout_copies_of_train"], "n_haplotypes": privacy["n_holdout"]},
        "n_sites": report.metrics["n_sites"],
        "ld_sites": report.metrics["ld"]["sites"],
        "ld_pairs": report.metrics["ld"]["pairs"],
    }


def targets(judged: dict[str, Any], seconds_per_window: float) -> dict[str, bool | None]:
    """Each target of the recipe met (True), missed (False) or not measurable here (None)."""
    m, h = judged["mosaic"], judged["holdout"]

    def known(*values: Any) -> bool:
        return all(v is not None and not (isinstance(v, float) and math.isnan(v)) for v in values)

    rate = h["copies_of_train"] / h["n_haplotypes"]
    copies_limit = rate + 2 * math.sqrt(rate * (1 - rate) / h["n_haplotypes"])
    return {
        "af_r": m["af_r"] >= 0.99 if known(m["af_r"]) else None,
        "ld_r": m["ld_r"] >= h["ld_r"] - 0.03 if known(m["ld_r"], h["ld_r"]) else None,
        "ld_strength": abs(m["ld_strength"] - 1) <= 0.10 if known(m["ld_strength"]) else None,
        "boundary": (
            m["boundary_ld_r"] >= m["within_window_ld_r"] - 0.05
            if known(m["boundary_ld_r"], m["within_window_ld_r"])
            else None
        ),
        "w2d": m["w2d_pca"] <= 2 * h["w2d_pca"],
        "aa": 0.40 <= m["aa_truth"] <= 0.60 and 0.40 <= m["aa_syn"] <= 0.60,
        "privacy": m["privacy_loss"] + m["privacy_loss_se"] <= 0.05,
        "copies": m["exact_copies"] / m["n_haplotypes"] <= copies_limit,
        "time": seconds_per_window <= 600,
    }


# ------------------------------------------------------------------------------------------------------- sections


def recipe(args: argparse.Namespace) -> dict[str, Any]:
    runs = []
    for seed in args.seeds:
        if args.dataset == "chr22":
            train, holdout, windows = _chr22_region(args, args.eval_windows)
        else:
            train, holdout, windows = _data_805(seed, 20 if args.tiny else 100, tiny=args.tiny, labels=args.labels)
        artificial, seconds = _mosaic(train, args.haplotypes, seed, RECIPE["max_segment_cm"])
        judged = _judge(train, holdout, artificial, windows, seed)
        per_window = seconds * 1500 / train.n_sites
        runs.append(
            {
                "seed": seed,
                **judged,
                "sample_seconds": seconds,
                "seconds_per_1500_sites": per_window,
                "targets": targets(judged, per_window),
            }
        )
        print(f"{args.dataset} seed {seed}: {json.dumps(runs[-1], default=str)}", flush=True)
    return {
        "dataset": args.dataset,
        "labels": args.labels if args.dataset == "805" else "population",
        "recipe": RECIPE,
        "windows": windows,
        "n_train": train.n_haplotypes,
        "n_holdout": holdout.n_haplotypes,
        "runs": runs,
    }


def frontier(args: argparse.Namespace) -> dict[str, Any]:
    if args.keep_points:  # the mosaic's points (with their command and machine) as measured; new neural ones
        kept = json.loads(args.output.read_text())["sections"]["frontier"]
        return kept | {"neural": _neural(args.chain_json)}
    train, holdout, windows = _chr22_region(args, args.eval_windows)
    points = []
    for knob in (0.05, 0.5, None) if args.tiny else KNOBS:
        artificial, seconds = _mosaic(train, args.haplotypes, args.seeds[0], knob)
        judged = _judge(train, holdout, artificial, windows, args.seeds[0])
        points.append({"max_segment_cm": knob, **judged, "sample_seconds": seconds})
        print(f"max_segment_cm {knob}: {json.dumps(points[-1]['mosaic'])}", flush=True)
    return {
        "dataset": "chr22",
        "seed": args.seeds[0],
        "windows": windows,
        "n_train": train.n_haplotypes,
        "points": points,
        "neural": _neural(args.chain_json),
    }


def _neural(paths: list[Path] | None) -> list[dict[str, Any]]:
    """The sets of bench/chromosome.py chain result files (chain.json) with their privacy figures."""
    neural = []
    for path in paths or []:
        chain = json.loads(Path(path).read_text())
        for name, row in chain["results"].items():
            if "privacy_loss" in row:
                neural.append(
                    {
                        "set": f"{name.replace('_', ' ')}, {chain['budget']} a window",
                        "source": f"bench/chromosome.py chain, {chain['budget']} a window, seed {chain['seed']}, "
                        f"windows {chain['windows'][0]} to {chain['windows'][-1]} (its chain.json added with "
                        "`frontier --keep-points --chain-json`)",
                        **{
                            k: row.get(k)
                            for k in ("ld_r", "ld_strength", "w2d_pca", "aa_truth", "privacy_loss", "privacy_loss_se")
                        },
                    }
                )
    return neural


def scale(args: argparse.Namespace) -> dict[str, Any]:
    """A chromosome-sized simulation sampled window by window to VCF and .hapt, memory read after each window."""
    import subprocess

    from genosynth.generate.models.mosaic import MosaicSettings, write_mosaic
    from genosynth.io.hdf5 import read_sites

    folder = args.data_dir / ("scale_tiny" if args.tiny else f"scale_{args.length}")
    folder.mkdir(parents=True, exist_ok=True)
    matrix = args.matrix or folder / "chromosome.h5"
    simulated = None
    if not matrix.exists():
        sys.path.insert(0, str(Path(__file__).parent))
        from vcf_to_matrix import simulate_vcf  # bench/vcf_to_matrix.py: the same 1000 Genomes-like simulation

        start = time.perf_counter()
        vcf = folder / "chromosome.vcf.gz"
        simulate_vcf(vcf, individuals_per_population=args.individuals, length=args.length, seed=1)
        simulated = time.perf_counter() - start
        subprocess.run(
            [sys.executable, "-m", "genosynth", "vcf-to-matrix", vcf, "-o", matrix, "--seed", "1"], check=True
        )
        vcf.unlink()
    sites = read_sites(matrix)
    window_sites = -(-len(sites) // args.windows)
    settings = MosaicSettings(ne=RECIPE["ne"], max_segment_cm=RECIPE["max_segment_cm"], cm_per_mb=RECIPE["cm_per_mb"])
    rows: list[dict[str, Any]] = []
    outputs = {}
    for suffix in ("vcf.gz", "hapt"):
        out = folder / f"artificial.{suffix}"
        _reset_peak()
        start, cpu = time.perf_counter(), _memory()["cpu_seconds"]

        def after_window(written: int, suffix: str = suffix, start: float = start, cpu: float = cpu) -> None:
            mine = [row for row in rows if row["output"] == suffix]
            now = _memory()
            rows.append(
                {"output": suffix, "window": len(mine) + 1, "sites": written, "seconds": time.perf_counter() - start}
                | now
                | {"cpu_seconds": now["cpu_seconds"] - cpu}
            )
            print(json.dumps(rows[-1]), flush=True)

        written = write_mosaic(
            matrix,
            args.haplotypes,
            out,
            settings=settings,
            by_population=RECIPE["by_population"],
            seed=1,
            block_sites=window_sites,
            progress=False,
            on_block=after_window,
        )
        closed = _memory()  # after the writer closed (a .hapt is assembled from its spool then)
        outputs[suffix] = {
            "seconds": time.perf_counter() - start,
            "cpu_seconds": closed["cpu_seconds"] - cpu,
            "peak_mib": closed["peak_mib"],
            "bytes": out.stat().st_size,
            "sites": written.n_sites,
        }
        out.unlink()
        out.with_suffix(".legend").unlink(missing_ok=True)
    return {
        "reference": str(args.matrix) if args.matrix else None,
        "n_sites": len(sites),
        "n_reference": _reference_haplotypes(matrix),
        "n_haplotypes": args.haplotypes,
        "span_bp": int(sites.pos[-1] - sites.pos[0] + 1),
        "simulated_seconds": simulated,
        "windows": -(-len(sites) // window_sites),
        "window_sites": window_sites,
        "rows": rows,
        "outputs": outputs,
    }


def _reference_haplotypes(matrix: Path) -> int:
    import h5py

    with h5py.File(matrix, "r") as handle:
        return int(handle["sample_info/ploidy"][:].sum())


def _memory() -> dict[str, float]:
    """This process's resident and peak resident memory now (MiB), and the CPU seconds it has used."""
    status = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines() if ":" in line)
    times = os.times()
    memory = {key: int(status[name].split()[0]) / 1024 for key, name in (("rss_mib", "VmRSS"), ("peak_mib", "VmHWM"))}
    return memory | {"cpu_seconds": times.user + times.system}


def _reset_peak() -> None:
    """Start this process's peak resident memory (VmHWM) afresh, where Linux allows it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        pass


# ------------------------------------------------------------------------------------------------------- the file


def _machine() -> dict[str, Any]:
    from genosynth._infra.devices import usable_cpus

    model = platform.processor() or platform.machine()
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            model = line.split(":", 1)[1].strip()
            break
    return {
        "cpu": model,
        "usable_cores": usable_cpus(),
        "load_average": round(os.getloadavg()[0], 1),
        "python": platform.python_version(),
        "threads": os.environ.get("OMP_NUM_THREADS", "all"),
    }


def _write_section(path: Path, name: str, section: dict[str, Any], tiny: bool) -> None:
    """Put ``section`` under ``name`` in the result file, keeping its other sections; atomically."""
    result = json.loads(path.read_text()) if path.exists() else {"schema_version": SCHEMA_VERSION, "sections": {}}
    if result.get("tiny", tiny) != tiny:
        raise SystemExit(
            f"{path}: a {'tiny' if result['tiny'] else 'full'} result file; write the other mode elsewhere"
        )
    result["tiny"] = tiny
    result["sections"][name] = section
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(json.dumps(result, indent=1, default=_plain) + "\n")
    temp.replace(path)


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"not JSON: {type(value)}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", choices=("recipe", "frontier", "scale", "render"))
    parser.add_argument("result", nargs="?", type=Path, help="render: the result file")
    parser.add_argument("--dataset", choices=("chr22", "805"), default="chr22", help="recipe: the data")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument(
        "--haplotypes", type=int, default=None, help="haplotypes drawn (default: recipe 2000, frontier and scale 1000)"
    )
    parser.add_argument(
        "--labels",
        choices=tuple(LABELS),
        default="population",
        help="recipe --dataset 805: the labels the mosaic copies within",
    )
    parser.add_argument("--eval-windows", type=int, default=4, help="chr22: the first windows judged")
    parser.add_argument("--chain-json", nargs="*", type=Path, help="frontier: bench/chromosome.py chain results")
    parser.add_argument(
        "--keep-points",
        action="store_true",
        help="frontier: keep the mosaic's points of -o and replace only the neural ones (--chain-json)",
    )
    parser.add_argument("--length", type=int, default=50_000_000, help="scale: simulated bp")
    parser.add_argument("--individuals", type=int, default=835, help="scale: individuals per population")
    parser.add_argument("--windows", type=int, default=40, help="scale: windows of the chain")
    parser.add_argument("--matrix", type=Path, help="scale: a matrix file to chain along instead of the simulation")
    parser.add_argument("--data-dir", type=Path, default=REPO / ".bench-data" / "chromosome-recipe")
    parser.add_argument("--tiny", action="store_true", help="toy sizes: the test's mode")
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_JSON)
    parser.add_argument("--docs", type=Path, default=DEFAULT_JSON.parent, help="render: the page's folder")
    args = parser.parse_args(argv)
    if args.which == "render":
        from chromosome_report import render_page

        print(render_page(json.loads(args.result.read_text()), args.docs, source=args.result))
        return
    if args.haplotypes is None:
        args.haplotypes = (200 if args.tiny else 2000) if args.which == "recipe" else (100 if args.tiny else 1000)
    if args.tiny:
        args.eval_windows = min(args.eval_windows, 3)
        args.length, args.individuals, args.windows = 200_000, 10, min(args.windows, 5)
    start = time.perf_counter()
    section = {"recipe": recipe, "frontier": frontier, "scale": scale}[args.which](args)
    name = f"recipe_{args.dataset}" if args.which == "recipe" else args.which
    if args.which == "recipe" and args.labels == "superpopulation":
        name += "_superpopulations"
    command = shlex.join(["bench/chromosome_recipe.py", *(argv if argv is not None else sys.argv[1:])])
    # a section that keeps earlier measurements keeps their command and machine
    section = {"command": command, "machine": _machine(), "seconds": round(time.perf_counter() - start, 1)} | section
    _write_section(args.output, name, section, args.tiny)
    print(f"wrote section {name} of {args.output}")


if __name__ == "__main__":
    main()
