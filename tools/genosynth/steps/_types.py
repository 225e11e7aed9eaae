"""argparse types of the bounded numeric options: they parse, check the bound with the library's own validators
(so a bad value is a one-line usage error before any work starts), and keep the bounds for the tests that hold the
Galaxy wrappers to them."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from genosynth._infra.errors import OptionError
from genosynth._infra.options import parse_float, parse_int

MAX_INTEGER = 2**63 - 1  # the largest int64


class Bounded:
    """A number of ``kind`` (int or float) within the given bounds; ``below`` and ``above`` are exclusive.

    Example
    -------
    >>> Bounded(int, minimum=1)("3"), Bounded(float, above=0, below=1).bounds()
    (3, (0, 1))
    """

    def __init__(
        self,
        kind: type,
        *,
        minimum: float | None = None,
        maximum: float | None = None,
        above: float | None = None,
        below: float | None = None,
    ) -> None:
        self.kind = kind
        self.__name__ = kind.__name__  # argparse names the type in its messages
        self.minimum, self.maximum, self.above, self.below = minimum, maximum, above, below

    def bounds(self) -> tuple[float | None, float | None]:
        """(lowest, highest) bound, each inclusive or exclusive."""
        return (
            self.minimum if self.minimum is not None else self.above,
            self.maximum if self.maximum is not None else self.below,
        )

    def __call__(self, text: str) -> int | float:
        try:
            value = self.kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not {'an integer' if self.kind is int else 'a number'}"
            ) from None
        if self.kind is int and abs(value) > MAX_INTEGER:  # past what numpy and torch can hold, whatever the bounds
            raise argparse.ArgumentTypeError(f"{text}: must be at most {MAX_INTEGER} in size")
        try:
            if self.kind is int:
                return parse_int("value", value, minimum=self.minimum, maximum=self.maximum)
            return parse_float(
                "value",
                value,
                minimum=self.minimum,
                maximum=self.maximum,
                exclusive_minimum=self.above,
                below=self.below,
            )
        except OptionError as err:
            raise argparse.ArgumentTypeError(err.problem) from None


def at_least(minimum: int) -> Bounded:
    """An integer >= ``minimum``."""
    return Bounded(int, minimum=minimum)


MAX_THREADS = 1024  # more threads or processes than any machine's cores; past it the libraries crash (OpenMP)
THREADS = Bounded(int, minimum=1, maximum=MAX_THREADS)
POSITIVE = Bounded(float, above=0)
FRACTION = Bounded(float, above=0, below=1)


class _PathType:
    """An argparse type for a path, named by its role (input, output file, output folder) so that the command
    line can resolve and check every path of a step before any work (:mod:`genosynth.steps._paths`)."""

    def __init__(self, role: str) -> None:
        self.role = role
        self.__name__ = "path"

    def __call__(self, text: str) -> Path:
        if not text.strip():
            raise argparse.ArgumentTypeError("an empty name is not a path")
        if self.role == "output file" and (text.endswith(os.sep) or Path(text).name in ("", ".", "..")):
            raise argparse.ArgumentTypeError(f"{text!r} names a folder; expected a file name")
        return Path(text)

    def __repr__(self) -> str:
        return f"<{self.role}>"


INPUT = _PathType("input")
OUTPUT_FILE = _PathType("output file")
OUTPUT_FOLDER = _PathType("output folder")
CACHE_FILE = _PathType("cache")  # read when it exists, else written (selection-scan --training-data)
SEED = Bounded(int, minimum=0, maximum=2**32 - 1)
