"""Provenance records carried by every output: tool version, command, parameters, seed, input checksums."""

from __future__ import annotations

import datetime
import hashlib
import platform
import sys
from pathlib import Path
from typing import Any, Iterable

from . import __version__


def file_sha256(path: str | Path) -> str:
    """Hex SHA-256 of a file's bytes, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_record(
    step: str,
    *,
    parameters: dict[str, Any],
    seed: int | None,
    inputs: Iterable[str | Path],
    summary: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """One provenance record for one run of one step.

    Example
    -------
    >>> rec = make_record("vcf-to-matrix", parameters={"min_maf": 0.0}, seed=1, inputs=[])
    >>> rec["software"]["name"], rec["step"], rec["seed"]
    ('genosynth', 'vcf-to-matrix', 1)
    """
    import numpy

    return {
        "software": {"name": "genosynth", "version": __version__},
        "step": step,
        "command": sys.argv,
        "parameters": {key: _jsonable(value) for key, value in parameters.items()},
        "seed": seed,
        "inputs": [{"path": str(path), "sha256": file_sha256(path)} for path in inputs],
        "summary": summary or {},
        "timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "environment": {
            "python": platform.python_version(),
            "numpy": numpy.__version__,
            "platform": platform.platform(),
        },
    }


def parameters_of(args: Any) -> dict[str, Any]:
    """A step's parsed command-line options (an argparse Namespace), without the CLI's own bookkeeping."""
    return {key: value for key, value in vars(args).items() if key != "step"}


def _jsonable(value: Any) -> Any:
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def resolve_seed(seed: int | None) -> int:
    """The seed to use and record: the given one, or a fresh random one when None."""
    import secrets

    return int(seed) if seed is not None else secrets.randbelow(2**31 - 1)
