"""Every path a step reads or writes, resolved and checked before any work starts: no output is an input or another
output of the same command (symbolic and hard links count as the same file), a folder output replaces only an
empty folder or one genosynth wrote, a file output names a file in an existing folder, and every input is a
regular file.

A step's paths come from its argparse declaration: options typed :data:`~genosynth.steps._types.INPUT` (or plain
``Path``) are inputs, :data:`~genosynth.steps._types.OUTPUT_FILE` and ``OUTPUT_FOLDER`` outputs; a step module adds
paths the options do not name with ``extra_inputs(args)`` (evaluate's NAME=FILE sets) and ``derived_outputs(args)``
(files written beside an output: a checkpoint, a history, an index, a legend).
"""

from __future__ import annotations

import argparse
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from genosynth._infra.atomic import check_folder_target
from genosynth._infra.errors import InputError, OptionError
from genosynth.io.detect import detect_format
from genosynth.steps._types import CACHE_FILE, INPUT, OUTPUT_FILE, OUTPUT_FOLDER


@dataclass
class StepPaths:
    """The paths of one command: (what names it, path) pairs."""

    inputs: list[tuple[str, Path]] = field(default_factory=list)
    files: list[tuple[str, Path]] = field(default_factory=list)
    folders: list[tuple[str, Path]] = field(default_factory=list)


def step_paths(module: ModuleType, parser: argparse.ArgumentParser, args: argparse.Namespace) -> StepPaths:
    """The inputs and outputs the parsed ``args`` name, with the step's extra inputs and derived outputs."""
    paths = StepPaths()
    for action in parser._actions:
        values = getattr(args, action.dest, None)
        if values is None or action.type not in (Path, INPUT, OUTPUT_FILE, OUTPUT_FOLDER, CACHE_FILE):
            continue
        name = _flag(action)
        for value in values if isinstance(values, list) else [values]:
            if action.type is OUTPUT_FILE or (action.type is CACHE_FILE and not os.path.lexists(value)):
                paths.files.append((name, value))
            elif action.type is OUTPUT_FOLDER:
                paths.folders.append((name, value))
            else:
                paths.inputs.append((name, value))
    paths.inputs += getattr(module, "extra_inputs", lambda args: [])(args)
    paths.inputs += [(f"{name}'s index", index) for name, path in list(paths.inputs) for index in _indexes(path)]
    paths.files += getattr(module, "derived_outputs", lambda args: [])(args)
    return paths


def check_paths(paths: StepPaths, *, step: str | None = None) -> None:
    """Raise an :class:`~genosynth._infra.errors.InputError` naming the first path that could lose data or fail late
    (``step``: the command, whose folder outputs replace only folders that same step wrote)."""
    for name, path in paths.inputs:
        _check_input(name, path)
    for name, path in paths.files:
        _check_output_file(name, path)
    for name, path in paths.folders:
        _check_output_folder(name, path, step)
    seen: dict[object, tuple[str, str, Path]] = {}
    for name, path in paths.inputs:
        seen.setdefault(_identity(path), ("input", name, path))
    for name, path in paths.files + paths.folders:
        key = _identity(path)
        if key in seen:
            kind, other_name, other = seen[key]
            raise InputError(
                f"{path}: {name} is the same file as the {kind} {other_name} ({other}); an output never "
                f"replaces an input or another output: give {name} another name"
            )
        seen[key] = ("output", name, path)
    for folder_name, folder in paths.folders:
        real = os.path.realpath(folder)
        for name, path in paths.inputs + paths.files + [f for f in paths.folders if f[1] is not folder]:
            if _inside(os.path.realpath(path), real):
                raise InputError(
                    f"{folder}: {folder_name} would replace the folder holding {name} ({path}); "
                    f"give {folder_name} a folder of its own"
                )


def refuse_legend_without_hapt(legend: Path | None, inputs: list[Path]) -> None:
    """Refuse ``--legend`` when none of ``inputs`` (the ones it would apply to) is a .hapt file."""
    if legend is not None and not any(detect_format(path).format == "hapt" for path in inputs):
        raise OptionError(
            "legend",
            f"applies to a .hapt input; {', '.join(path.name for path in inputs)} "
            f"{'is not one' if len(inputs) == 1 else 'are not .hapt files'}",
        )


def figures_beside(table: Path) -> list[Path]:
    """The PNG and PDF plot written beside the table ``table`` (``reports.html.save_figure_beside``)."""
    stem = table.name[: -len(".tsv")] if table.name.endswith(".tsv") else table.name
    return [table.with_name(f"{stem}.png"), table.with_name(f"{stem}.pdf")]


def _check_input(name: str, path: Path) -> None:
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return  # the step says so where it reads it, after its own checks of the options
    except OSError as err:
        raise InputError(f"{path}: {err.strerror} ({name})") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{path}: is a folder; {name} needs a file")
    if not stat.S_ISREG(mode):
        raise InputError(
            f"{path}: is not a regular file (a pipe or a device); {name} needs a regular file, "
            "which genosynth may read more than once"
        )
    if not os.access(path, os.R_OK):
        raise InputError(f"{path}: permission denied ({name})")


def _indexes(path: Path) -> list[Path]:
    """The index files beside a bgzipped VCF or a BCF input (``.tbi``, ``.csi``) that exist: inputs too."""
    if not str(path).endswith((".vcf.gz", ".vcf.bgz", ".bcf")):
        return []
    return [Path(f"{path}{suffix}") for suffix in (".tbi", ".csi") if os.path.lexists(f"{path}{suffix}")]


SYSTEM_FOLDERS = ("/dev", "/proc", "/sys")  # files there are devices, pipes or the process's own streams


def _check_not_system(name: str, path: Path) -> None:
    """Refuse an output named ``-`` or one that is, or resolves through a link to, a path under /dev, /proc or
    /sys (``/dev/stdout``, ``/proc/self/fd/1``): replacing it would replace the link, not write to the stream."""
    if str(path) == "-":
        raise InputError(
            f"{path}: {name} names standard output; genosynth writes only to a file it can replace "
            "whole: give a file name"
        )
    current, hops = os.path.abspath(path), 0
    while hops < 40:
        for candidate in (current, os.path.realpath(os.path.dirname(current))):
            if any(_inside(candidate, folder) for folder in SYSTEM_FOLDERS):
                raise InputError(
                    f"{path}: {name} is (or links to) {candidate}, a device, stream or system file; "
                    "give a regular file name"
                )
        if not os.path.islink(current):
            return
        current = os.path.normpath(os.path.join(os.path.dirname(current), os.readlink(current)))
        hops += 1


def _check_output_file(name: str, path: Path) -> None:
    _check_not_system(name, path)
    if str(path).endswith(os.sep) or path.name in ("", ".", ".."):
        raise InputError(f"{path}: {name} names a folder; expected a file name")
    if os.path.lexists(path):
        if os.path.isdir(path):
            raise InputError(f"{path}: is a folder; {name} needs a file name")
        if os.path.exists(path) and not stat.S_ISREG(os.stat(path).st_mode):
            raise InputError(f"{path}: is not a regular file (a pipe or a device); {name} replaces only a file")
    _check_parent(name, path)


def _check_output_folder(name: str, path: Path, step: str | None) -> None:
    _check_not_system(name, path)
    try:
        check_folder_target(path, step=step)
    except InputError as err:
        raise InputError(f"{err} ({name})") from None
    parent = Path(os.path.realpath(path)).parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise InputError(f"{path}: {parent} is not a folder ({name})")
    _check_length(name, Path(os.path.realpath(path)), parent)


def _check_parent(name: str, path: Path) -> None:
    parent = path.parent
    if not parent.is_dir():
        raise InputError(f"{path}: the folder {parent} does not exist ({name})")
    _check_length(name, path, parent)


def _check_length(name: str, path: Path, parent: Path) -> None:
    longest = os.pathconf(parent, "PC_NAME_MAX") - len(".XXXXXXXX.tmp.tbi")  # the temporary name's additions
    if len(os.fsencode(path.name)) > longest:
        raise InputError(
            f"{path}: the name is too long ({len(os.fsencode(path.name))} bytes; at most {longest} here) ({name})"
        )
    if not os.access(parent, os.W_OK | os.X_OK):
        raise InputError(f"{path}: permission denied: cannot write in {parent} ({name})")


def _identity(path: Path) -> object:
    """The file ``path`` is: (device, inode) when it exists, so that links count as the same file; else its real path."""
    try:
        info = os.stat(path)
        return (info.st_dev, info.st_ino)
    except OSError:
        return os.path.realpath(path)


def _inside(path: str, folder: str) -> bool:
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _flag(action: argparse.Action) -> str:
    if not action.option_strings:
        return action.metavar if isinstance(action.metavar, str) else action.dest.upper()
    long = [flag for flag in action.option_strings if flag.startswith("--")]
    return (long or action.option_strings)[0]
