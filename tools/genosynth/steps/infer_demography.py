"""infer-demography: which of several demographic scenarios (stdpopsim models or Demes files) the real haplotypes
support, and whether each artificial set supports the same one, by a CNN and a random forest trained on msprime
simulations matched to the data."""

from __future__ import annotations

import argparse
from pathlib import Path

from genosynth._infra.atomic import atomic_group
from genosynth._infra.devices import DEVICE_CHOICES
from genosynth._infra.errors import InputError
from genosynth._infra.progress import log
from genosynth.downstream.demography.features import MIN_IMAGE_SIZE
from genosynth.downstream.demography.infer import DemographyReport, infer_demography
from genosynth.io import read_haplotypes
from genosynth.steps._paths import refuse_legend_without_hapt
from genosynth.steps._types import OUTPUT_FILE, OUTPUT_FOLDER, SEED, THREADS, Bounded, at_least
from genosynth.steps.evaluate import _named_sets

STEP = "infer-demography"
SUMMARY = "Choose between demographic scenarios for real and artificial haplotypes (CNN and random forest)."
DESCRIPTION = (
    "Simulate each candidate scenario (stdpopsim Species/Model ids or Demes files, at least two) with msprime, "
    "matched to the data (haplotypes per population, window length, MAF filter), train a CNN on the "
    "populations' haplotype images and a random forest on summary statistics (SFS, LD decay, F_ST; ABC-RF "
    "style), and report each scenario's posterior probability for the real haplotypes and each artificial set, "
    "with a verdict whether the artificial sets support the real data's scenario; write demography.json, "
    "posteriors.tsv, plots and report.html."
)


def _cache_folder(text: str) -> Path:
    """A folder of simulation caches: created when missing, never a file."""
    if not text.strip():
        raise argparse.ArgumentTypeError("an empty name is not a folder")
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text}: not a folder")
    return path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("matrix", type=Path, help="real haplotypes with population labels: matrix, VCF/BCF or .hapt")
    parser.add_argument(
        "--scenario",
        dest="scenarios",
        action="append",
        required=True,
        metavar="SPEC",
        help="a candidate: stdpopsim Species/Model (e.g. HomSap/OutOfAfrica_3G09) or a Demes YAML file, optionally "
        "followed by :MODELPOP=LABEL,... mapping its populations to the data's; repeat, at least twice",
    )
    parser.add_argument(
        "--synthetic",
        action="append",
        default=[],
        metavar="NAME=FILE",
        help="an artificial set on the same sites with the same population labels; repeat for several sets",
    )
    parser.add_argument("--legend", type=Path, help="legend of .hapt inputs")
    parser.add_argument(
        "--populations", type=Path, help="sample -> population table (TSV) replacing the labels stored in MATRIX"
    )
    parser.add_argument(
        "--use-populations",
        help="comma-separated data populations to model (default: every population of MATRIX)",
    )
    parser.add_argument("-o", "--output", type=OUTPUT_FOLDER, required=True, help="output directory")
    parser.add_argument("--model-output", type=OUTPUT_FILE, help="write the trained CNN here (a model file)")
    parser.add_argument(
        "--cache",
        type=_cache_folder,
        help="folder of simulation caches: each scenario's simulations are read from it when made with the same "
        "settings, else simulated and written there",
    )
    parser.add_argument(
        "--window-length",
        type=at_least(100),
        help="bp per window of data and simulation (default: the data's longest chromosome span, at most 100 kb)",
    )
    parser.add_argument(
        "--min-maf",
        type=Bounded(float, minimum=0, below=0.5),
        help="sites with a lower minor allele frequency are dropped (default: the data's smallest)",
    )
    parser.add_argument("--simulations", type=at_least(10), default=200, help="simulated windows per scenario")
    parser.add_argument(
        "--mutation-rate",
        type=Bounded(float, above=0, below=1e-3),
        help="per bp per generation (default: each stdpopsim model's, else 1.25e-8)",
    )
    parser.add_argument(
        "--recombination-rate",
        type=Bounded(float, minimum=0, below=1e-3),
        help="per bp per generation (default: the stdpopsim species' mean, else 1e-8)",
    )
    parser.add_argument(
        "--image-size",
        type=Bounded(int, minimum=MIN_IMAGE_SIZE, maximum=512),
        default=32,
        help="rows and columns of each population's image",
    )
    parser.add_argument("--epochs", type=at_least(1), default=30, help="most CNN training epochs (early stopping)")
    parser.add_argument("--trees", type=at_least(1), default=300, help="trees of the random forest")
    parser.add_argument(
        "--max-distance",
        type=Bounded(float, above=0, maximum=1),
        default=0.2,
        help="verdict: most total-variation distance between an artificial and the real posterior",
    )
    parser.add_argument("--threads", type=THREADS, default=1, help="processes simulating in parallel")
    parser.add_argument("--seed", type=SEED, default=1, help="seed of simulations, splits and training")
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help="device that trains and runs the CNN")


def extra_inputs(args: argparse.Namespace) -> list[tuple[str, Path]]:
    """The files of the --synthetic NAME=FILE sets and the Demes files among the scenarios."""
    inputs = [(f"--synthetic {name}", path) for name, path in _named_sets(args.synthetic).items()]
    for spec in args.scenarios:
        target = spec.partition(":")[0]
        if target.lower().endswith((".yaml", ".yml", ".json")):
            inputs.append(("--scenario", Path(target)))
    return inputs


def run(args: argparse.Namespace) -> None:
    named = _named_sets(args.synthetic)
    refuse_legend_without_hapt(args.legend, [args.matrix, *named.values()])
    if args.populations is not None and not args.populations.is_file():
        raise InputError(f"{args.populations}: no such file")
    real = read_haplotypes(args.matrix, legend=args.legend, populations=args.populations)
    report = infer_demography(
        real,
        scenarios=args.scenarios,
        artificial={name: read_haplotypes(path, legend=args.legend) for name, path in named.items()},
        **_options(args),
    )
    with atomic_group():  # the folder and the trained network: both or neither
        report.write(args.output)
        if args.model_output:
            report.network.save(args.model_output)
    _log_result(report)
    log(STEP, f"report in {args.output}/report.html")


def _options(args: argparse.Namespace) -> dict:
    """The keyword options of infer_demography that the command line passes through as given."""
    names = ("window_length", "min_maf", "simulations", "mutation_rate", "recombination_rate", "image_size")
    names += ("epochs", "trees", "max_distance", "cache", "threads", "seed", "device")
    use = [p.strip() for p in args.use_populations.split(",")] if args.use_populations else None
    return {"use_populations": use} | {name: getattr(args, name) for name in names}


def _log_result(report: DemographyReport) -> None:
    for set_name in report.posteriors:
        cnn, forest = report.best(set_name, "cnn"), report.best(set_name, "forest")
        line = (
            f"{set_name}: CNN {cnn} (P = {report.posteriors[set_name]['cnn'][cnn]:.3f}), random forest {forest} "
            f"(P = {report.posteriors[set_name]['forest'][forest]:.3f})"
        )
        if set_name in report.verdicts:
            line += "; same scenario as real" if report.verdicts[set_name]["supports_same_scenario"] else "; differs"
        log(STEP, line)
