"""The command line: ``genosynth STEP ...`` and one ``genosynth-STEP`` executable per step.

Exit codes (docs/your-files.md): 0 success; 1 bad input or usage, one line on stderr; 2 a quality or privacy
gate failed (its report is written); 3 a bug (its traceback above the last line); 130 interrupted (SIGINT) and 143
terminated (SIGTERM, as schedulers and spot-instance reclaims send it), with nothing written unless the last line
names what was.
"""

from __future__ import annotations

import argparse
import atexit
import errno
import importlib
import inspect
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import NoReturn

from genosynth._infra.atomic import COMMITTED, STOP_SIGNALS, committing, raise_if_stopped, remove_pending
from genosynth._infra.devices import format_bytes
from genosynth._infra.errors import GateFailed, InputError, OptionError
from genosynth._infra.options import parse_seed
from genosynth._infra.progress import configure_logging, log
from genosynth._infra.provenance import command_line
from genosynth._infra.version import __version__
from genosynth.steps._paths import StepPaths, check_paths, step_paths

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
    "infer-demography": "genosynth.steps.infer_demography",
}
BUG_EXIT_CODE = 3


class _HelpFormatter(argparse.ArgumentDefaultsHelpFormatter):
    """Each option's default once: added as ``(default: X)`` unless its help already states it, and never for an
    option without one."""

    def _get_help_string(self, action: argparse.Action) -> str | None:
        text = action.help or ""
        stated = "default" in text.lower() and str(action.default) in text  # the help says it already
        if (
            stated
            or any(action.default is nothing for nothing in (None, False, argparse.SUPPRESS))
            or not action.option_strings
        ):
            return text
        return super()._get_help_string(action)


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
    parser = _Parser(
        prog="genosynth",
        description="Artificial human genomes from generative neural networks.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="steps:\n"
        + "\n".join(f"  {step:<16} {step_module(step).SUMMARY}" for step in STEPS)
        + "\n\n'genosynth STEP -h' shows a step's options.",
    )
    _add_common_options(parser)
    commands = parser.add_subparsers(
        dest="step", required=True, metavar="STEP", parser_class=_Parser, help="the step to run (below)"
    )
    for step in STEPS:
        module = step_module(step)
        sub = commands.add_parser(step, description=module.DESCRIPTION, formatter_class=_HelpFormatter)
        _add_common_options(sub, suppress_defaults=True)
        module.add_arguments(sub)
    return parser


def _add_common_options(parser: argparse.ArgumentParser, *, suppress_defaults: bool = False) -> None:
    """--version, --quiet and --verbose, accepted before and after the step's name."""
    default = argparse.SUPPRESS if suppress_defaults else False  # a step's parser keeps what the main one parsed
    parser.add_argument("--version", action="version", version=f"genosynth {__version__}")
    messages = parser.add_mutually_exclusive_group()
    messages.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=default,
        help="only warnings and errors on standard error (no progress or result lines)",
    )
    messages.add_argument(
        "-v", "--verbose", action="store_true", default=default, help="also debugging lines on standard error"
    )


def step_parser(step: str) -> argparse.ArgumentParser:
    """The parser of one step, as its ``genosynth-STEP`` executable sees it."""
    module = step_module(step)
    parser = _Parser(prog=f"genosynth-{step}", description=module.DESCRIPTION, formatter_class=_HelpFormatter)
    _add_common_options(parser)
    module.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``genosynth``."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.given_options = _given_options(args.step, argv[argv.index(args.step) + 1 :])
    _run(args.step, args, step_parser(args.step), ["genosynth", *argv])


def _step_main(step: str) -> None:
    parser = step_parser(step)
    args = parser.parse_args()
    args.given_options = _given_options(step, sys.argv[1:])
    _run(step, args, parser, [f"genosynth-{step}", *sys.argv[1:]])


def _given_options(step: str, argv: list[str]) -> frozenset[str]:
    """The destinations of the options ``argv`` gives explicitly (not left at their defaults), so that a step can
    refuse an option that does not apply to what it was asked to do."""
    parser = step_parser(step)
    for action in parser._actions:
        action.default, action.required = argparse.SUPPRESS, False
    given, _ = parser.parse_known_args(argv)
    return frozenset(vars(given))


def _run(step: str, args: argparse.Namespace, parser: argparse.ArgumentParser, argv: list[str]) -> NoReturn:
    module = step_module(step)
    configure_logging(step, level=logging.WARNING if args.quiet else logging.DEBUG if args.verbose else logging.INFO)
    _stop_on_signals(step, module, args)
    paths = None
    try:
        with command_line(argv):
            if getattr(args, "seed", None) is not None:
                parse_seed("seed", args.seed)
            paths = step_paths(module, parser, args)
            check_paths(paths, step=step)  # before any work: no output may replace an input
            log(
                step,
                "reads "
                + (", ".join(f"{name} {path}" for name, path in paths.inputs) or "no file")
                + "; writes "
                + ", ".join(f"{name} {path}" for name, path in paths.files + paths.folders),
                level=logging.DEBUG,
            )
            module.run(args)
            raise_if_stopped()  # a signal whose exception was discarded where it was raised
    except OptionError as err:
        _fail(step, _with_flag(err, parser), err.exit_code)
    except (InputError, GateFailed) as err:
        _fail(step, str(err), err.exit_code)
    except MemoryError:
        _fail(step, "not enough memory for this run (ask for less: fewer haplotypes, a smaller --batch or a region)", 1)
    except RuntimeError as err:  # torch's allocators: "can't allocate memory" (CPU), torch.OutOfMemoryError (GPU)
        _fail_if_write_failed(step, err, paths, module, args)
        if not _allocation_failure(err):
            raise_as_bug(step)
        _fail(
            step,
            f"not enough memory for this run: {_allocation_failure(err)} (ask for smaller sizes: fewer "
            "haplotypes, units, chains or a smaller batch)",
            1,
        )
    except BrokenPipeError:
        _fail(step, "output pipe closed", 1)
    except OSError as err:
        _fail_if_write_failed(step, err, paths, module, args)
        if err.filename is None:  # no file to name: a bug, with its traceback below
            raise_as_bug(step)
        _fail(step, f"{err.filename}: {err.strerror or err}", 1)
    except KeyboardInterrupt as err:  # Terminated included
        signum = STOP_SIGNALS[0] if STOP_SIGNALS else signal.SIGTERM if isinstance(err, Terminated) else signal.SIGINT
        with _exit_lock:  # every output is cleaned up by now: skip the interpreter's slow teardown (torch's)
            log(step, f"error: {_escape(_stopped_message(module, args, signum))}", level=logging.ERROR)
            _exit_now(128 + signum)
    except Exception as err:
        _fail_if_write_failed(step, err, paths, module, args)
        raise_as_bug(step)
    sys.exit(0)


_WRITE_FAILURES = {
    errno.ENOSPC: "No space left on device",
    errno.EDQUOT: "Disk quota exceeded",
    errno.EROFS: "Read-only file system",
    errno.EFBIG: "File too large",
}  # the disk refused a write


def _write_failure(err: BaseException | None) -> int | None:
    """The errno of a write the disk refused (full, over quota, read-only), found in ``err`` or the errors that led
    to it, including the ones writers report as text (h5py's "errno = 28", safetensors' "os error 28")."""
    while err is not None:
        if isinstance(err, OSError) and err.errno in _WRITE_FAILURES:
            return err.errno
        text = str(err)
        for number, words in _WRITE_FAILURES.items():
            if words in text or re.search(rf"(errno = |os error ){number}\b", text):
                return number
        err = err.__cause__ or err.__context__
    return None


def _fail_if_write_failed(
    step: str, err: BaseException, paths: StepPaths | None, module: ModuleType, args: argparse.Namespace
) -> None:
    """One line naming the outputs when the disk refused a write, then exit at once: the temporary outputs are
    gone by now, and a writer left in a failed state (h5py's) may crash the interpreter's teardown."""
    number = _write_failure(err)
    if number is None:
        return
    outputs = _names([str(path) for _, path in paths.files + paths.folders]) if paths else "the output"
    written, kept = _written_and_kept(module, args)
    said = (
        f"; only {_names(written)} {'was' if len(written) == 1 else 'were'} written"
        if written
        else "; nothing was written"
    ) + (f" except the checkpoint {kept[0]}" if kept else "")
    with _exit_lock:
        log(step, f"error: {_escape(f'{outputs}: {_WRITE_FAILURES[number]} while writing{said}')}", level=logging.ERROR)
        _exit_now(1)


def _allocation_failure(err: RuntimeError) -> str | None:
    """What a torch allocation that failed asked for (``"a block of 1.1 TiB on cpu"``), or None for another error."""
    text = str(err)
    if type(err).__name__ != "OutOfMemoryError" and "can't allocate memory" not in text:
        return None
    size = re.search(r"allocate (\d+) bytes|Tried to allocate ([\d.]+ [KMGT]?i?B)", text)
    if size is None:
        return "an allocation failed"
    if size.group(1):
        return f"one allocation of {format_bytes(int(size.group(1)))} failed"
    return f"one allocation of {size.group(2)} failed"


def raise_as_bug(step: str) -> NoReturn:
    """The exception being handled is a bug: its traceback, then one line and exit code 3."""
    traceback.print_exc()
    _fail(step, "internal error (a bug: please report it with the traceback above)", BUG_EXIT_CODE)


def _names(names: list[str]) -> str:
    """The first three of ``names``, and how many more."""
    return ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")


def _escape(name: str) -> str:
    """``name`` with control characters (a newline in a file name) escaped, so that an error stays one line."""
    return re.sub(r"[\x00-\x1f\x7f]", lambda match: repr(match.group())[1:-1], name)


def _with_flag(err: OptionError, parser: argparse.ArgumentParser) -> str:
    """The error with the command-line flag of its parameter (``--max-time`` for ``max_time``) when the step has one."""
    for action in parser._actions:
        if action.dest == err.parameter and action.option_strings:
            long_flags = [
                flag for flag in action.option_strings if flag.startswith("--")
            ]  # --bernoulli, not --no-bernoulli
            return err.message_for((long_flags or action.option_strings)[0])
    return str(err)


def _fail(step: str, message: str, code: int) -> NoReturn:
    with _exit_lock:
        log(step, f"error: {_escape(message)}", level=logging.ERROR)
        sys.exit(code)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is so that every atomic output cleans up as on Ctrl-C."""


_exit_lock = threading.Lock()  # one final line, from the main thread or the watchdog, never both
STARTED = time.time()  # files written by this run are not older
STOP_SECONDS = 2.0  # a signalled run that has not unwound by then is ended by the watchdog


def _stop_on_signals(step: str, module: ModuleType, args: argparse.Namespace) -> None:
    """SIGTERM and SIGINT raise where the main thread is (Terminated, KeyboardInterrupt), so that every atomic output
    cleans up; a watchdog started by the first signal ends the process :data:`STOP_SECONDS` later if it has not
    (the exception was raised where Python discards it, in a weakref callback or a destructor, or a long call in C
    did not return): it removes the pending temporary outputs, stops the child processes and exits 143 or 130."""

    def handler(signum: int, frame: object) -> None:
        if not STOP_SIGNALS:
            STOP_SIGNALS.append(signum)
            threading.Thread(target=_watchdog, args=(step, module, args, signum), daemon=True).start()
        if committing():
            return  # outputs are being renamed into place: the rename finishes, then raise_if_stopped raises
        raise Terminated if signum == signal.SIGTERM else KeyboardInterrupt

    default_hook = sys.unraisablehook

    def unraisable(report: sys.UnraisableHookArgs) -> None:  # the signal's exception where Python cannot raise it
        # (and h5py's objects failing to close on a full disk: the write's own error says so in one line)
        if not isinstance(report.exc_value, KeyboardInterrupt) and _write_failure(report.exc_value) is None:
            default_hook(report)

    default_excepthook = sys.excepthook

    def excepthook(kind: type, value: BaseException, trace: object) -> None:  # h5py's objects printing their own
        if _write_failure(value) is None:  # failure to close on a full disk (Cython's unraisable, full traceback)
            default_excepthook(kind, value, trace)

    sys.unraisablehook = unraisable
    sys.excepthook = excepthook
    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)


def _watchdog(step: str, module: ModuleType, args: argparse.Namespace, signum: int) -> None:
    time.sleep(STOP_SECONDS)
    if not _exit_lock.acquire(blocking=False):
        return  # the main thread is exiting already
    remove_pending()
    message, code = _stopped_message(module, args, signum), 128 + signum
    for child in _child_processes():
        try:
            os.kill(child, signal.SIGTERM)
        except OSError:
            pass
    log(step, f"error: {_escape(message)}", level=logging.ERROR)
    _exit_now(code)


def _exit_now(code: int) -> NoReturn:
    """Exit at once, after the exit handlers (temporary folders' finalizers among them), without the interpreter's
    teardown, which takes a second with torch loaded."""
    atexit._run_exitfuncs()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _child_processes() -> list[int]:
    """The process ids of this process's children (Linux's /proc), to stop with it."""
    children = []
    for task in Path(f"/proc/{os.getpid()}/task").glob("*"):
        try:
            children += [int(pid) for pid in (task / "children").read_text().split()]
        except OSError:
            continue
    return children


def _written_and_kept(module: ModuleType, args: argparse.Namespace) -> tuple[list[str], list[Path]]:
    """The outputs this run renamed into place, and the checkpoints it wrote and keeps (a trainer's)."""
    kept = [
        path
        for path in getattr(module, "kept_when_stopped", lambda args: [])(args)
        if path.is_file() and path.stat().st_mtime >= STARTED
    ]
    kept_names = {os.path.abspath(path) for path in kept}
    written = list(dict.fromkeys(str(path) for path in COMMITTED if os.path.abspath(path) not in kept_names))
    return written, kept


def _stopped_message(module: ModuleType, args: argparse.Namespace, signum: int) -> str:
    """What a signal stopped: no output written, only the checkpoint kept to resume from, or (a signal after some
    outputs were complete) which outputs were written."""
    what = "terminated (SIGTERM)" if signum == signal.SIGTERM else "interrupted (SIGINT)"
    written, kept = _written_and_kept(module, args)
    if written:
        return f"{what} after writing {_names(written)}; no other output was written" + (
            f" except the checkpoint {kept[0]}" if kept else ""
        )
    if kept:
        return f"{what}; no output was written except the checkpoint {kept[0]}, kept so that --resume continues from it"
    return f"{what}; no output was written"


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
infer_demography_main = _entry_point("infer-demography")


def demo_main(argv: Sequence[str] | None = None) -> None:
    """Entry point of ``python -m genosynth.demo`` (``make demo``, genosynth/demo/__main__.py); the defaults are
    :func:`genosynth.demo.run_demo`'s."""
    from genosynth.demo import run_demo

    default = {name: parameter.default for name, parameter in inspect.signature(run_demo).parameters.items()}
    parser = argparse.ArgumentParser(
        prog="python -m genosynth.demo",
        description="Run genosynth end to end on simulated data.",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter,
    )
    parser.add_argument("--output", type=Path, default=Path("demo-output"), help="folder of every output")
    parser.add_argument(
        "--individuals",
        type=int,
        default=default["individuals"],
        help="diploid individuals per population (3 populations)",
    )
    parser.add_argument("--length", type=int, default=default["length"], help="simulated base pairs of chr22")
    parser.add_argument(
        "--epochs",
        type=int,
        default=default["epochs"],
        help="GAN epochs (the diffusion model and each window's RBM get half, the whole matrix's RBM a sixth)",
    )
    parser.add_argument("--seed", type=int, default=default["seed"], help="seed of the simulation and every step")
    args = parser.parse_args(argv)
    run_demo(args.output, individuals=args.individuals, length=args.length, epochs=args.epochs, seed=args.seed)
