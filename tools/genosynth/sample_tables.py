"""Sample lists (one name a line) and sample -> population tables (TSV), validated against the data."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np

from .errors import InputError


def read_sample_list(path: str | Path) -> list[str]:
    """Sample names, one per line; blank lines and lines starting with '#' are skipped."""
    path = Path(path)
    try:
        names = [line.split()[0] for line in path.read_text().splitlines() if line.strip() and not line.startswith("#")]
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from None
    if not names:
        raise InputError(f"{path}: lists no samples")
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise InputError(f"{path}: sample {duplicated[0]} is listed more than once")
    return names


def read_population_table(path: str | Path, *, samples: np.ndarray, column: str | None = None) -> np.ndarray:
    """Population of each of ``samples`` from a tab-separated table whose first column is the sample name.

    The first line is a header when ``column`` is given or when its first field is not one of ``samples``.
    ``column`` names the population column (default: the second). Every sample must be in the table.

    Example
    -------
    >>> read_population_table("igsr_samples.tsv", samples=np.array(["HG00096"]),
    ...                       column="Superpopulation code")  # doctest: +SKIP
    array(['EUR'], dtype='<U3')
    """
    path = Path(path)
    try:
        lines = [line.rstrip("\r\n") for line in path.read_text().splitlines() if line.strip() and not line.startswith("##")]
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from None
    if not lines:
        raise InputError(f"{path}: empty population table")
    known = set(samples.tolist())
    first = lines[0].lstrip("#").split("\t")
    has_header = column is not None or first[0] not in known
    index = 1
    if column is not None:
        if column not in first:
            raise InputError(f"{path}: line 1: no column named {column!r} (columns: {', '.join(first)})")
        index = first.index(column)
    table: dict[str, str] = {}
    for number, line in enumerate(lines[1:] if has_header else lines, start=2 if has_header else 1):
        fields = line.split("\t")
        if len(fields) <= index:
            raise InputError(f"{path}: line {number}: expected at least {index + 1} tab-separated columns")
        table[fields[0]] = fields[index].strip()
    missing = [s for s in samples.tolist() if s not in table]
    if missing:
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing) - 10} more)" if len(missing) > 10 else "")
        raise InputError(f"{path}: {len(missing)} sample(s) missing from the population table: {shown}")
    return np.array([table[s] for s in samples.tolist()], dtype=str)
