"""Tab-separated tables: the one writer every step's TSV output goes through (missing values are ``NA``, as R and
pandas read them), sample lists (one name a line) and sample -> population tables, validated against the data."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from genosynth._infra.atomic import atomic_outputs
from genosynth._infra.errors import InputError, OptionError

MISSING = "NA"


def format_cell(value: Any, spec: str = ".6g") -> str:
    """A value as tables show it: ``NA`` for None and NaN, floats with ``spec``, everything else as text.

    Example
    -------
    >>> format_cell(0.1234567), format_cell(None), format_cell(float("nan")), format_cell(3), format_cell("x")
    ('0.123457', 'NA', 'NA', '3', 'x')
    """
    if value is None:
        return MISSING
    if isinstance(value, (float, np.floating)):
        return MISSING if not math.isfinite(value) else format(float(value), spec)
    if isinstance(value, np.generic):
        return str(value.item())
    return str(value)


def write_tsv(path: Path, header: Sequence[str], rows: Iterable[Sequence[Any]], *, spec: str = ".6g") -> None:
    """Write a header line and one line per row, atomically.

    Example
    -------
    >>> write_tsv(Path("t.tsv"), ["site", "score"], [(1, 0.5), (2, None)])  # doctest: +SKIP
    """
    with atomic_outputs(path) as (temp,):
        with open(temp, "w") as out:
            out.write("\t".join(header) + "\n")
            for row in rows:
                out.write("\t".join(format_cell(value, spec) for value in row) + "\n")


def write_columns(path: Path, columns: dict[str, Sequence[Any]], *, spec: str = ".6g") -> None:
    """Write equal-length columns (name -> values) as a table."""
    write_tsv(path, list(columns), zip(*columns.values()), spec=spec)


def read_fields(path: str | Path) -> list[tuple[int, list[str]]]:
    """(line number, whitespace-separated fields) of every line of a text table that is neither blank nor a
    ``#`` comment; an unreadable file, or one that is not UTF-8 text, is an InputError naming it (:func:`read_lines`).

    Example
    -------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     table = Path(folder, "sites.txt")
    ...     _ = table.write_text("# CHROM POS\\n\\n22 16050075\\n22\\t16050115 x\\n")
    ...     read_fields(table)
    [(3, ['22', '16050075']), (4, ['22', '16050115', 'x'])]
    """
    rows = ((number, line.split()) for number, line in enumerate(read_lines(path), start=1))
    return [(number, fields) for number, fields in rows if fields and not fields[0].startswith("#")]


def read_lines(path: str | Path) -> list[str]:
    """The lines of a text file; an unreadable file, or one that is not UTF-8 text, is an InputError naming it
    (and the line)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise InputError(f"{path}: cannot read ({err.strerror})") from None
    try:
        return data.decode().splitlines()
    except UnicodeDecodeError as err:
        # the line as splitlines counts them (\r and other separators too): the text up to the bad byte
        line = len(data[: err.start + 1].decode(errors="replace").splitlines())
        raise InputError(f"{path}: line {line}: not UTF-8 text") from None


def read_sample_list(path: str | Path) -> list[str]:
    """Sample names, one per line (the first field); blank lines and lines starting with '#' are skipped."""
    names = [fields[0] for _, fields in read_fields(path)]
    if not names:
        raise InputError(f"{path}: lists no samples")
    duplicated = sorted(name for name, count in Counter(names).items() if count > 1)
    if duplicated:
        raise InputError(f"{path}: sample {duplicated[0]} is listed more than once")
    return names


def population_labels(
    samples: np.ndarray, populations: str | Path | Mapping[str, str], column: str | None = None
) -> np.ndarray:
    """The population of each sample from a mapping or a table file (see :func:`read_population_table`)."""
    if isinstance(populations, (str, Path)):
        return read_population_table(populations, samples=samples, column=column)
    missing = [s for s in samples.tolist() if s not in populations]
    if missing:
        raise OptionError("populations", f"lacks {len(missing)} sample(s): {', '.join(missing[:10])}")
    return np.array([populations[s] for s in samples.tolist()], dtype=str)


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
    rows = [
        (number, line)
        for number, line in enumerate(read_lines(path), start=1)
        if line.strip() and not line.startswith("##")
    ]
    if not rows:
        raise InputError(f"{path}: empty population table")
    known = set(samples.tolist())
    header_number, header = rows[0]
    first = header.lstrip("#").split("\t")
    has_header = column is not None or first[0] not in known
    index = 1
    if column is not None:
        if column not in first:
            raise InputError(f"{path}: line {header_number}: no column named {column!r} (columns: {', '.join(first)})")
        index = first.index(column)
    table: dict[str, str] = {}
    for number, line in rows[1:] if has_header else rows:
        fields = line.split("\t")
        if len(fields) <= index:
            raise InputError(f"{path}: line {number}: expected at least {index + 1} tab-separated columns")
        label = fields[index].strip()
        if table.get(fields[0], label) != label:
            raise InputError(
                f"{path}: line {number}: sample {fields[0]} is in population {table[fields[0]]} already; "
                f"a sample belongs to one population, here also {label}"
            )
        table[fields[0]] = label
    missing = [s for s in samples.tolist() if s not in table]
    if missing:
        shown = ", ".join(missing[:10]) + (f", ... ({len(missing) - 10} more)" if len(missing) > 10 else "")
        raise InputError(f"{path}: {len(missing)} sample(s) missing from the population table: {shown}")
    return np.array([table[s] for s in samples.tolist()], dtype=str)


def read_plink_map(path: str | Path) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """A PLINK .map genetic map (``CHROM ID cM POS`` per line) as chromosome -> (bp, cM) arrays; a ``chr``
    prefix is dropped from chromosome names, and positions and cM must increase along each chromosome."""
    table: dict[str, list[tuple[int, float]]] = {}
    for number, fields in read_fields(path):
        try:
            chrom, centimorgans, bp = fields[0], float(fields[2]), int(fields[3])
        except (IndexError, ValueError):
            raise InputError(f"{path}: line {number}: expected CHROM ID cM POS (PLINK .map)") from None
        entries = table.setdefault(chrom.removeprefix("chr"), [])
        if entries and (bp <= entries[-1][0] or centimorgans < entries[-1][1]):
            raise InputError(f"{path}: line {number}: positions and cM must increase along chromosome {chrom}")
        entries.append((bp, centimorgans))
    return {
        chrom: (np.array([e[0] for e in entries], dtype=np.int64), np.array([e[1] for e in entries]))
        for chrom, entries in table.items()
    }
