"""Atomic outputs: files and folders are written under a hidden temporary name beside the target and renamed
onto it only on success, so a failed or interrupted run leaves the previous complete output or none. A folder
written here holds a small manifest (:data:`MANIFEST`: the step that wrote it and the files it wrote) so that a
later run of the same step replaces only a folder genosynth wrote, and only when it holds nothing else.
Every temporary path is registered in :data:`PENDING` until it is renamed or removed, so that a signal arriving
where Python cannot raise (:func:`remove_pending`) still leaves nothing behind."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from genosynth._infra.errors import InputError

MANIFEST = ".genosynth-output.json"
PENDING: set[Path] = set()  # temporary files and folders not yet renamed onto their targets
STOP_SIGNALS: list[int] = []  # the signals asking this process to stop (the command line's handler appends)


def raise_if_stopped() -> None:
    """Raise KeyboardInterrupt when a signal asked this process to stop: called before an output is renamed onto
    its final name, and by long loops, so that a signal whose exception Python discarded (raised in a weakref
    callback or a destructor) still stops the run."""
    if STOP_SIGNALS:
        raise KeyboardInterrupt


@contextmanager
def atomic_outputs(*targets: str | Path) -> Iterator[list[Path]]:
    """Yield one temporary path per target; rename them all onto the targets when the block succeeds (inside an
    :func:`atomic_group`, when the group succeeds).

    On any exception (including KeyboardInterrupt and SystemExit) the temporary files are removed and
    no target is created or replaced.

    Example
    -------
    >>> with atomic_outputs("out.h5") as (tmp,):  # doctest: +SKIP
    ...     write(tmp)
    """
    temps: list[Path] = []
    handed = False
    try:
        for target in targets:
            target = Path(target)
            if target.is_dir() or not target.name:
                raise InputError(f"{target}: is a folder; expected a file name")
            with _signals_wait():  # a signal between creating and registering the file would leave it
                try:
                    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
                except OSError as err:  # name the output asked for, not the temporary one
                    raise OSError(err.errno, err.strerror, str(target)) from None
                os.close(fd)
                temps.append(Path(name))
                PENDING.add(temps[-1])
        yield temps
        raise_if_stopped()
        for temp in temps:
            os.chmod(temp, 0o666 & ~_umask())  # writers that replace the file (safetensors) leave it 0600
        _finish([(temp, Path(target)) for temp, target in zip(temps, targets)])
        handed = True
    finally:
        if not handed:
            for temp in temps:
                temp.unlink(missing_ok=True)
                PENDING.discard(temp)


@contextmanager
def atomic_group() -> Iterator[None]:
    """Outputs written in this block (:func:`atomic_outputs`, :func:`atomic_directory`) are renamed onto their
    targets together when the block succeeds, and none of them when it fails: a model with its history and plots.

    Example
    -------
    >>> with atomic_group():  # doctest: +SKIP
    ...     model.save("m.safetensors"); model.write_history("m.training.tsv")
    """
    deferred: list[tuple[Path, Path]] = []
    _GROUPS.append(deferred)
    try:
        yield
        raise_if_stopped()
        _GROUPS.pop()
        pairs, deferred[:] = list(deferred), []
        _finish(pairs)
    finally:
        if _GROUPS and _GROUPS[-1] is deferred:
            _GROUPS.pop()
        for temp, _ in deferred:
            _remove(temp)


@contextmanager
def atomic_directory(target: str | Path, *, step: str | None = None) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; when the block succeeds it becomes ``target`` with
    :data:`MANIFEST` added, naming ``step`` and the files written (a previous ``target`` folder is replaced whole,
    only when :func:`check_folder_target` allows it), otherwise it is removed and ``target`` is untouched, and
    so are the missing folders above it that were created for it.

    Example
    -------
    >>> with atomic_directory("evaluation") as folder:  # doctest: +SKIP
    ...     (folder / "metrics.json").write_text("{}")
    """
    target = Path(target)
    check_folder_target(target, step=step)
    parent = target.parent if str(target.parent) else Path(".")
    created = [folder for folder in (parent, *parent.parents) if not folder.exists()]
    handed = False
    try:
        with _signals_wait():  # a signal between creating and registering the folder would leave it
            try:
                parent.mkdir(parents=True, exist_ok=True)
                temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
            except OSError as err:
                raise OSError(err.errno, err.strerror, str(target)) from None
            PENDING.add(temp)
        os.chmod(temp, 0o777 & ~_umask())
        yield temp
        with open(temp / MANIFEST, "w") as manifest:
            manifest.write(json.dumps({"written_by": "genosynth", "step": step, "files": _files_in(temp)}) + "\n")
        os.chmod(temp / MANIFEST, 0o666 & ~_umask())
        check_folder_target(target, step=step)
        raise_if_stopped()
        _finish([(temp, target)])
        handed = True
    finally:
        if not handed:
            if "temp" in locals():
                _remove(temp)
            for folder in created:  # nearest first; only the ones still empty
                try:
                    folder.rmdir()
                except OSError:
                    break


COMMITTED: list[Path] = []  # the outputs this process has renamed onto their targets (what a stopped run says)
_GROUPS: list[list[tuple[Path, Path]]] = []  # the open atomic groups' (temporary, target) pairs, innermost last
_COMMITTING = [0]  # temporaries created or renames under way: a signal waits (the command line's handler asks)


def committing() -> bool:
    """Whether temporary outputs are being created or renamed onto their targets now: a signal is honoured
    after, not during."""
    return _COMMITTING[0] > 0


def _finish(pairs: list[tuple[Path, Path]]) -> None:
    """Rename each temporary onto its target, or hand them to the innermost open group. A target inside a
    temporary folder (a report's figure) is renamed at once: its folder is the output."""
    inner = [(temp, target) for temp, target in pairs if _inside_pending(target)]
    outer = [pair for pair in pairs if pair not in inner]
    for temp, target in inner:
        os.replace(temp, target)
        PENDING.discard(temp)
    if outer and _GROUPS:
        _GROUPS[-1].extend(outer)
        return
    if not outer:
        return
    with _signals_wait():
        for temp, target in outer:
            if temp.is_dir() and target.is_dir():  # the old folder goes aside, then away, before any signal
                old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=target.parent))
                PENDING.add(old)
                os.replace(target, old / target.name)
                os.replace(temp, target)
                _remove(old)
            else:
                os.replace(temp, target)
            PENDING.discard(temp)
            COMMITTED.append(target)


@contextmanager
def _signals_wait() -> Iterator[None]:
    """A signal arriving in this block is honoured when it ends (:func:`raise_if_stopped`), not inside it."""
    _COMMITTING[0] += 1
    try:
        yield
    finally:
        _COMMITTING[0] -= 1
    if not _COMMITTING[0]:
        raise_if_stopped()


def _inside_pending(target: Path) -> bool:
    where = os.path.abspath(target)
    return any(where.startswith(os.path.abspath(folder) + os.sep) for folder in PENDING)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        path.unlink(missing_ok=True)
    PENDING.discard(path)


def check_folder_target(target: Path, *, step: str | None = None) -> None:
    """Refuse (:class:`~genosynth._infra.errors.InputError`) a folder output ``target`` that exists and is not a folder, is
    the current folder or one above it, is a folder neither empty nor written by genosynth, was written by another
    step than ``step``, or holds files its manifest does not list (a user's notes added to it)."""
    if os.path.lexists(target) and not target.is_dir():
        raise InputError(f"{target}: exists and is not a folder")
    if target.is_dir():
        if Path(os.path.realpath(target)) in (Path.cwd(), *Path.cwd().parents):
            raise InputError(f"{target}: would replace the current folder; give a new folder")
        entries = os.listdir(target)
        if entries and MANIFEST not in entries:
            raise InputError(
                f"{target}: is a folder genosynth did not write ({len(entries)} entries and no "
                f"{MANIFEST}); give a new or empty folder"
            )
        if entries:
            _check_manifest(target, step)


def _check_manifest(target: Path, step: str | None) -> None:
    """Refuse replacing the genosynth folder ``target`` when another step wrote it or it holds unlisted files.
    A manifest without a file list (an older genosynth's) is trusted as before."""
    try:
        with open(target / MANIFEST) as manifest:
            written = json.load(manifest)
    except (OSError, ValueError) as err:
        raise InputError(
            f"{target / MANIFEST}: unreadable manifest ({getattr(err, 'strerror', None) or err}); "
            "give a new or empty folder"
        ) from None
    if not isinstance(written, dict):
        raise InputError(f"{target / MANIFEST}: not a genosynth manifest; give a new or empty folder")
    if step is not None and written.get("step") not in (None, step):
        raise InputError(
            f"{target}: was written by genosynth {written['step']}; replacing it would lose those "
            f"results: give {step} a folder of its own"
        )
    if isinstance(written.get("files"), list):
        unlisted = sorted(set(_files_in(target)) - set(written["files"]))
        if unlisted:
            raise InputError(
                f"{target}: holds {len(unlisted)} file(s) genosynth did not write ({unlisted[0]!r}"
                f"{', ...' if len(unlisted) > 1 else ''}); replacing the folder would delete them: move "
                "them out or give a new folder"
            )


def _files_in(folder: Path) -> list[str]:
    """Every file (and link) under ``folder`` but the manifest, as sorted paths relative to it."""
    found = []
    for root, dirs, files in os.walk(folder):
        found += [os.path.relpath(os.path.join(root, name), folder) for name in files]
        found += [
            os.path.relpath(os.path.join(root, name), folder)
            for name in dirs
            if os.path.islink(os.path.join(root, name))
        ]
    return sorted(name for name in found if name != MANIFEST)


def remove_pending() -> None:
    """Remove every temporary output still pending (a run stopped by a signal)."""
    for path in list(PENDING):
        _remove(path)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
