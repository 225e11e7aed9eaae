"""Provenance records carried by every output: tool version, step, parameters, seed, input checksums.

Records are made by the API (so a notebook's outputs carry them too) and are safe to share: inputs are named
by file name and SHA-256 without their folders, parameters that are paths keep only their names, and the
command line (recorded only when genosynth runs as a command) has its paths cut to file names.
"""

from __future__ import annotations

import contextvars
import datetime
import hashlib
import platform
import re
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from genosynth._infra.options import MAX_SEED, parse_seed
from genosynth._infra.version import __version__

SCHEMA_VERSION = 2
_COMMAND: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar("genosynth_command", default=None)
_DIRECTORIES = re.compile(r"(?:[^\s=,:/]*/)+")


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def describe_file(path: str | Path) -> dict[str, str]:
    """An input as provenance names it: the file's name (no folders) and its SHA-256."""
    return {"name": Path(path).name, "sha256": file_sha256(path)}


def make_record(
    step: str,
    *,
    parameters: dict[str, Any],
    seed: int | None,
    inputs: Iterable[dict[str, Any]],
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One provenance record for one run of one step (``inputs`` from :func:`describe_file` or a matrix's
    ``describe()``).

    Example
    -------
    >>> rec = make_record("vcf-to-matrix", parameters={"min_maf": 0.0, "input": Path("/home/me/x.vcf")},
    ...                   seed=1, inputs=[])
    >>> rec["schema_version"], rec["software"]["name"], rec["step"], rec["seed"], rec["parameters"]["input"]
    (2, 'genosynth', 'vcf-to-matrix', 1, 'x.vcf')
    """
    import numpy

    return {
        "schema_version": SCHEMA_VERSION,
        "software": {"name": "genosynth", "version": __version__},
        "step": step,
        "command": _COMMAND.get(),
        "parameters": {key: shareable(value) for key, value in parameters.items()},
        "seed": seed,
        "inputs": list(inputs),
        "summary": summary or {},
        "timestamp": datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "platform": platform.platform(),
        },
    }


@contextmanager
def command_line(argv: Sequence[str]) -> Iterator[None]:
    """Within the block, records carry ``argv`` (with folders cut from every path) as their command."""
    token = _COMMAND.set([_without_directories(str(word)) for word in argv])
    try:
        yield
    finally:
        _COMMAND.reset(token)


def shareable(value: Any) -> Any:
    """A parameter value as a record keeps it: JSON types, paths by file name only.

    Example
    -------
    >>> shareable([Path("/data/a.h5"), "gan=/data/b.vcf.gz", 3])
    ['a.h5', 'gan=b.vcf.gz', 3]
    """
    if isinstance(value, Path):
        return value.name
    if isinstance(value, str):
        return _without_directories(value)
    if isinstance(value, (list, tuple)):
        return [shareable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): shareable(v) for k, v in value.items()}
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    if value is None or isinstance(value, (bool, int, float)):
        return value
    return str(value)


def resolve_seed(seed: int | None) -> int:
    """The seed to use and record: the given one (checked: an integer in [0, 2**31 - 1]), or a fresh random one
    when None."""
    import secrets

    return parse_seed("seed", seed) if seed is not None else secrets.randbelow(MAX_SEED)


def _without_directories(text: str) -> str:
    return _DIRECTORIES.sub("", text)
