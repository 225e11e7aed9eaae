"""Atomic outputs: write under a hidden temporary name beside the target, rename only on success."""

from __future__ import annotations

import os
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
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or ".")
            os.close(fd)
            os.chmod(name, 0o666 & ~_umask())
            temps.append(Path(name))
        yield temps
        for temp, target in zip(temps, targets):
            os.replace(temp, target)
    finally:
        for temp in temps:
            temp.unlink(missing_ok=True)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask
