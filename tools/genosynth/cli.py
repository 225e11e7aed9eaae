"""The command line: ``genosynth STEP ...`` and one ``genosynth-STEP`` executable per step.

Exit codes (shared/DESIGN.md): 0 success; 1 bad input or usage, one line on stderr; 2 a quality or privacy
gate failed (its report is written); 130 interrupted (SIGINT) and 143 terminated (SIGTERM, as schedulers and
spot-instance reclaims send it), with no output written; anything else a bug.
"""

from __future__ import annotations

import argparse
import importlib
import re
import signal
import sys
import traceback
from types import ModuleType
from typing import Callable, NoReturn, Sequence

from . import __version__
from .devices import defer_cpu_threads
from .errors import GateFailed, InputError, OptionError
from .provenance import command_line

STEPS = {
    "vcf-to-matrix": "genosynth.steps.vcf_to_matrix",
    "export": "genosynth.steps.export",
    "train-gan": "genosynth.steps.train_gan",
    "train-rbm": "genosynth.steps.train_rbm",
    "train-diffusion": "genosynth.steps.train_diffusion",
    "sample": "genosynth.steps.sample",
    "evaluate": "genosynth.steps.evaluate",
    "privacy-check": "genosynth.steps.privacy_check",
    "selection-scan": "genosynth.steps.selection_scan",
    "impute-augment": "genosynth.steps.impute_augment",
}
BUG_EXIT_CODE = 3


class _Parser(argparse.ArgumentParser):
    """argparse with usage errors as one line and exit code 1 (argparse's own default is 2)."""

    def error(self, message: str) -> NoReturn:
        # a bounded option's complaint reads as the library's does: "--epochs must be >= 1"
        message = re.sub(r"^argument (\S+): (must )", r"\1 \2", message)
        self.exit(1, f"{self.prog}: error: {message} (see {self.prog} -h)\n")


def step_module(step: str) -> ModuleType:
    """The module implementing ``step``."""
    return importlib.import_module(STEPS[step])


def build_parser() -> argparse.ArgumentParser:
    """The ``genosynth`` parser with one subcommand per step."""
    parser = _Parser(prog="genosynth", description="Artificial human genomes from generative neural networks.")
    parser.add_argument("--version", action="version", version=f"genosynth {__version__}")
    commands = parser.add_subparsers(dest="step", required=True, metavar="STEP", parser_class=_Parser)
    for step in STEPS:
        module = step_module(step)
        sub = commands.add_parser(step, help=module.DESCRIPTION.split(".")[0], description=module.DESCRIPTION,
                                  formatter_class=argparse.ArgumentDefaultsHelpFormatter)
        module.add_arguments(sub)
    return parser


def step_parser(step: str) -> argparse.ArgumentParser:
    """The parser of one step, as its ``genosynth-STEP`` executable sees it."""
    module = step_module(step)
    parser = _Parser(prog=f"genosynth-{step}", description=module.DESCRIPTION,
                     formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--version", action="version", version=f"genosynth {__version__}")
    module.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``genosynth``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    _run(args.step, args, step_parser(args.step), ["genosynth", *argv])


def _step_main(step: str) -> None:
    parser = step_parser(step)
    _run(step, parser.parse_args(), parser, [f"genosynth-{step}", *sys.argv[1:]])


def _run(step: str, args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> NoReturn:
    signal.signal(signal.SIGTERM, _terminate)
    try:
        with command_line(argv):
            if hasattr(args, "cpu_threads"):  # the steps computing with torch (steps/_compute.py)
                defer_cpu_threads(args.cpu_threads)
            step_module(step).run(args)
    except OptionError as err:
        _fail(step, _with_flag(err, parser), err.exit_code)
    except (InputError, GateFailed) as err:
        _fail(step, str(err), err.exit_code)
    except OSError as err:
        if err.filename is None:  # no file to name: a bug, with its traceback below
            raise_as_bug(step)
        _fail(step, f"{err.filename}: {err.strerror or err}", 1)
    except Terminated:
        _fail(step, "terminated (SIGTERM); no output was written", 143)
    except KeyboardInterrupt:
        _fail(step, "interrupted; no output was written", 130)
    except BrokenPipeError:
        _fail(step, "output pipe closed", 1)
    except Exception:
        raise_as_bug(step)
    sys.exit(0)


def raise_as_bug(step: str) -> NoReturn:
    """The exception being handled is a bug: its traceback, then one line and exit code 3."""
    traceback.print_exc()
    _fail(step, "internal error (a bug: please report it with the traceback above)", BUG_EXIT_CODE)


def _with_flag(err: OptionError, parser: argparse.ArgumentParser) -> str:
    """The error with the command-line flag of its parameter (``--max-time`` for ``max_time``) when the step has one."""
    for action in parser._actions:
        if action.dest == err.parameter and action.option_strings:
            long_flags = [flag for flag in action.option_strings if flag.startswith("--")]  # --bernoulli, not --no-bernoulli
            return err.message_for((long_flags or action.option_strings)[0])
    return str(err)


def _fail(step: str, message: str, code: int) -> NoReturn:
    print(f"genosynth {step}: error: {message}", file=sys.stderr, flush=True)
    sys.exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is so that every atomic output cleans up as on Ctrl-C."""


def _terminate(signum: int, frame: object) -> NoReturn:
    raise Terminated


def _entry_point(step: str) -> Callable[[], None]:
    """The ``main`` of the ``genosynth-STEP`` executable (pyproject.toml's [project.scripts] names it)."""
    def entry() -> None:
        _step_main(step)

    entry.__doc__ = f"Entry point of ``genosynth-{step}``."
    return entry


vcf_to_matrix_main = _entry_point("vcf-to-matrix")
export_main = _entry_point("export")
train_gan_main = _entry_point("train-gan")
train_rbm_main = _entry_point("train-rbm")
train_diffusion_main = _entry_point("train-diffusion")
sample_main = _entry_point("sample")
evaluate_main = _entry_point("evaluate")
privacy_check_main = _entry_point("privacy-check")
selection_scan_main = _entry_point("selection-scan")
impute_augment_main = _entry_point("impute-augment")


def demo_main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m genosynth.demo`` (``make demo``)."""
    from pathlib import Path

    from .demo import run_demo

    parser = argparse.ArgumentParser(prog="python -m genosynth.demo", description="Run genosynth end to end on "
                                     "simulated data.", formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    parser.add_argument("--output", type=Path, default=Path("demo-output"), help="folder of every output")
    parser.add_argument("--individuals", type=int, default=50, help="diploid individuals per population (3 populations)")
    parser.add_argument("--length", type=int, default=500_000, help="simulated base pairs of chr22")
    parser.add_argument("--epochs", type=int, default=600, help="GAN epochs (the diffusion model and each window's RBM get half, the whole matrix's RBM a sixth)")
    parser.add_argument("--seed", type=int, default=1, help="seed of the simulation and every step")
    args = parser.parse_args(argv)
    run_demo(args.output, individuals=args.individuals, length=args.length, epochs=args.epochs, seed=args.seed)
