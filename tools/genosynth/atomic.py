"""Atomic outputs: files and folders are written under a hidden temporary name beside the target and renamed
onto it only on success, so a failed or interrupted run leaves the previous complete output or none."""

from __future__ import annotations

import os
import shutil
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


@contextmanager
def atomic_outputs(*targets: str | Path) -> Iterator[list[Path]]:
    """Yield one temporary path per target; rename them all onto the targets when the block succeeds.

    On any exception (including KeyboardInterrupt and SystemExit) the temporary files are removed and
    no target is created or replaced.

    Example
    -------
    >>> with atomic_outputs("out.h5") as (tmp,):  # doctest: +SKIP
    ...     write(tmp)
    """
    temps = []
    try:
        for target in targets:
            target = Path(target)
            if target.is_dir():
                raise IsADirectoryError(f"{target}: is a directory, expected a file name")
            try:
                fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
            except OSError as err:  # name the output asked for, not the temporary one
                raise OSError(err.errno, err.strerror, str(target)) from None
            os.close(fd)
            os.chmod(name, 0o666 & ~_umask())
            temps.append(Path(name))
        yield temps
        for temp, target in zip(temps, targets):
            os.replace(temp, target)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


@contextmanager
def atomic_directory(target: str | Path) -> Iterator[Path]:
    """Yield an empty temporary folder beside ``target``; when the block succeeds it becomes ``target``
    (a previous ``target`` folder is replaced whole), otherwise it is removed and ``target`` is untouched.

    Example
    -------
    >>> with atomic_directory("evaluation") as folder:  # doctest: +SKIP
    ...     (folder / "metrics.json").write_text("{}")
    """
    target = Path(target)
    if target.exists() and not target.is_dir():
        raise FileExistsError(f"{target}: exists and is not a directory")
    parent = target.parent if str(target.parent) else Path(".")
    try:
        parent.mkdir(parents=True, exist_ok=True)
        temp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as err:
        raise OSError(err.errno, err.strerror, str(target)) from None
    os.chmod(temp, 0o777 & ~_umask())
    try:
        yield temp
        if target.is_dir():
            old = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            os.replace(target, old / target.name)
            os.replace(temp, target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(temp, target)
    finally:
        shutil.rmtree(temp, ignore_errors=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
