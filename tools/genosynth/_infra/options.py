"""Validators of option values shared by the API functions (msprime's ``_parse_*`` style): each returns the
parsed value or raises :class:`~genosynth._infra.errors.OptionError` naming the parameter; and :func:`option`, the
one place an option of an options dataclass is written (its default, bounds, choices and help), from which the
checks (:func:`check_options`), the command line and the tests of Galaxy's and Nextflow's parameters read."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterable
from typing import Any

from genosynth._infra.errors import OptionError


def parse_int(name: str, value: Any, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """``value`` as an int within [minimum, maximum].

    Example
    -------
    >>> parse_int("epochs", 5, minimum=1)
    5
    >>> parse_int("epochs", 0, minimum=1)
    Traceback (most recent call last):
    genosynth.OptionError: epochs must be >= 1
    """
    if isinstance(value, bool) or not hasattr(value, "__index__"):
        raise OptionError(name, f"must be an integer, got {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise OptionError(name, f"must be >= {minimum}")
    if maximum is not None and value > maximum:
        raise OptionError(name, f"must be <= {maximum}")
    return value


MAX_SEED = 2**31 - 1  # what every seeded engine takes: numpy, torch, msprime and Beagle (a Java int)


def parse_seed(name: str, value: Any) -> int:
    """``value`` as a seed in [0, MAX_SEED].

    Example
    -------
    >>> parse_seed("seed", -1)
    Traceback (most recent call last):
    genosynth.OptionError: seed must be >= 0
    """
    return parse_int(name, value, minimum=0, maximum=MAX_SEED)


def parse_float(
    name: str,
    value: Any,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    exclusive_minimum: float | None = None,
    below: float | None = None,
) -> float:
    """``value`` as a finite float: >= minimum, <= maximum, > exclusive_minimum, < below (each when given).

    Example
    -------
    >>> parse_float("lr", 0.01, exclusive_minimum=0)
    0.01
    >>> parse_float("early_stop_tolerance", 0.5, minimum=0, below=0.5)
    Traceback (most recent call last):
    genosynth.OptionError: early_stop_tolerance must be in [0, 0.5)
    """
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise OptionError(name, f"must be a number, got {value!r}") from None
    if number != number or number in (float("inf"), float("-inf")):
        raise OptionError(name, "must be a finite number")
    low_ok = (minimum is None or number >= minimum) and (exclusive_minimum is None or number > exclusive_minimum)
    high_ok = (maximum is None or number <= maximum) and (below is None or number < below)
    if low_ok and high_ok:
        return number
    low = (
        f"[{minimum:g}" if minimum is not None else f"({exclusive_minimum:g}" if exclusive_minimum is not None else None
    )
    high = f"{maximum:g}]" if maximum is not None else f"{below:g})" if below is not None else None
    if high is None:
        raise OptionError(name, f"must be {'>=' if minimum is not None else '>'} {low[1:]}")
    if low is None:
        raise OptionError(name, f"must be {'<=' if maximum is not None else '<'} {high[:-1]}")
    raise OptionError(name, f"must be in {low}, {high}")


def parse_choice(name: str, value: Any, choices: Iterable[str]) -> str:
    """``value`` when it is one of ``choices``.

    Example
    -------
    >>> parse_choice("hidden", "tanh", ("relu", "sigmoid"))
    Traceback (most recent call last):
    genosynth.OptionError: hidden 'tanh': expected one of relu, sigmoid
    """
    choices = tuple(choices)
    if value not in choices:
        raise OptionError(name, f"{value!r}: expected one of {', '.join(choices)}")
    return value


def parse_duration(name: str, value: str | float | int | None) -> float | None:
    """Seconds in ``90``, ``90s``, ``20m``, ``1h30m``, ``1h 30m 10s`` (or a number of seconds); None stays None.

    Example
    -------
    >>> parse_duration("max_time", "1h30m"), parse_duration("max_time", "20m"), parse_duration("max_time", 45)
    (5400.0, 1200.0, 45.0)
    """
    if value is None:
        return None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        total = float(value)
    else:
        match = re.fullmatch(DURATION_PATTERN, str(value))
        if not match or not any(match.groups()):
            raise OptionError(name, f"{value!r}: expected a duration such as 90s, 20m or 1h30m")
        hours, minutes, seconds = (float(g) if g else 0.0 for g in match.groups())
        total = hours * 3600 + minutes * 60 + seconds
    if not total > 0:
        raise OptionError(name, f"{value!r}: the budget must be positive")
    return total


# the durations parse_duration reads; the Galaxy wrappers validate --max-time with the same expression
DURATION_PATTERN = r"\s*(?:(\d+(?:\.\d+)?)h)?\s*(?:(\d+(?:\.\d+)?)m)?\s*(?:(\d+(?:\.\d+)?)s?)?\s*"


def parse_haplotype_count(n: Any, ploidy: Any) -> tuple[int, int]:
    """``n`` haplotypes to draw as samples of ``ploidy`` 1 or 2 (an even ``n`` for 2).

    Example
    -------
    >>> parse_haplotype_count(4, 2)
    (4, 2)
    """
    n = parse_int("n", n, minimum=1)
    if ploidy not in (1, 2):
        raise OptionError("ploidy", f"{ploidy!r}: expected 1 or 2")
    if ploidy == 2 and n % 2:
        raise OptionError("n", f"{n}: ploidy 2 pairs haplotypes, so n must be even")
    return n, int(ploidy)


def parse_memory(name: str, value: str) -> str:
    """A Java heap size such as ``2g`` or ``500m``.

    Example
    -------
    >>> parse_memory("memory", "2g")
    '2g'
    """
    if not re.fullmatch(r"[1-9]\d*[kKmMgG]", str(value)):
        raise OptionError(name, f"{value!r}: expected a size such as 2g or 500m")
    return str(value)


def option(
    default: Any = dataclasses.MISSING,
    *,
    help: str,
    kind: type | None = None,
    minimum: float | None = None,
    maximum: float | None = None,
    above: float | None = None,
    below: float | None = None,
    choices: tuple[str, ...] | None = None,
    repr: bool = True,
) -> Any:
    """A field of an options dataclass, with what the checks and the command line need: ``kind`` (int, float, str,
    bool or a path; default: the default's type), inclusive ``minimum``/``maximum``, exclusive ``above``/``below``,
    ``choices``, and ``help`` (the command line's help; a dataclass's docstring says the same for the API).

    Parameters
    ----------
    default
        The library's default, the one the command line, Galaxy and Nextflow take (no default: required).
    help
        One sentence for ``--help``.
    kind, minimum, maximum, above, below, choices
        What a value must be; :func:`check_options` holds an instance to them.
    repr
        Whether the dataclass's repr shows the field.

    Returns
    -------
    dataclasses.Field
        The field, its settings in ``field.metadata["option"]``.

    Examples
    --------
    >>> from dataclasses import dataclass, fields
    >>> @dataclass
    ... class Options:
    ...     every: int = option(50, help="epochs between checkpoints", minimum=1)
    ...     def __post_init__(self):
    ...         check_options(self)
    >>> fields(Options)[0].metadata["option"]["minimum"], Options().every
    (1, 50)
    >>> Options(every=0)
    Traceback (most recent call last):
    genosynth.OptionError: every must be >= 1
    """
    if kind is None:
        kind = str if choices else type(default) if default not in (dataclasses.MISSING, None) else None
    settings = {
        "help": help,
        "kind": kind,
        "minimum": minimum,
        "maximum": maximum,
        "above": above,
        "below": below,
        "choices": choices,
    }
    return dataclasses.field(default=default, repr=repr, metadata={"option": settings})


def options_of(cls: type) -> list[tuple[dataclasses.Field, dict[str, Any]]]:
    """The fields of the dataclass ``cls`` declared with :func:`option`, each with its settings, in order.

    Examples
    --------
    >>> from genosynth import TrainingOptions
    >>> [f.name for f, _ in options_of(TrainingOptions)][:3]
    ['epochs', 'max_time', 'batch_size']
    """
    return [(f, f.metadata["option"]) for f in dataclasses.fields(cls) if "option" in f.metadata]


def check_options(instance: Any) -> None:
    """Hold each :func:`option` field of the dataclass ``instance`` to its kind, bounds and choices (None passes),
    storing the parsed value; raises :class:`~genosynth._infra.errors.OptionError` naming the field.

    Examples
    --------
    >>> from genosynth import TrainingOptions
    >>> TrainingOptions(epochs=1, early_stop_tolerance=0.5)
    Traceback (most recent call last):
    genosynth.OptionError: early_stop_tolerance must be in [0, 0.5)
    """
    for field, settings in options_of(type(instance)):
        value = getattr(instance, field.name)
        if value is None:
            continue
        if settings["choices"]:
            parsed = parse_choice(field.name, value, settings["choices"])
        elif settings["kind"] is int:
            parsed = parse_int(field.name, value, minimum=settings["minimum"], maximum=settings["maximum"])
            if settings["above"] is not None or settings["below"] is not None:
                parse_float(field.name, value, exclusive_minimum=settings["above"], below=settings["below"])
        elif settings["kind"] is float:
            parsed = parse_float(
                field.name,
                value,
                minimum=settings["minimum"],
                maximum=settings["maximum"],
                exclusive_minimum=settings["above"],
                below=settings["below"],
            )
        else:
            continue
        object.__setattr__(instance, field.name, parsed)
