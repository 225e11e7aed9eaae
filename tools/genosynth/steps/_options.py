"""Command-line options built from the library's options dataclasses (:func:`genosynth._infra.options.option`): the
flag, type, bounds, choices, default and help of each come from the one place the library declares them."""

from __future__ import annotations

import argparse
from typing import Any

from genosynth._infra.options import options_of
from genosynth.steps._types import Bounded


def add_options(
    parser: argparse.ArgumentParser | Any, cls: type, *, defaults: dict[str, Any] | None = None
) -> list[str]:
    """Add an option to ``parser`` (or an argument group) for every :func:`~genosynth._infra.options.option` field
    of the dataclass ``cls``, ``--max-time`` for ``max_time``; ``defaults`` replaces the defaults of some (a
    function's own default, such as each trainer's epochs). Returns the fields' names, for :func:`option_values`.

    Examples
    --------
    >>> from genosynth import TrainingOptions
    >>> parser = argparse.ArgumentParser()
    >>> names = add_options(parser, TrainingOptions, defaults={"epochs": 10})
    >>> args = parser.parse_args(["--batch-size", "64"])
    >>> args.batch_size, args.epochs, args.checkpoint_every
    (64, 10, 50)
    >>> parser.parse_args(["--early-stop-tolerance", "0.5"])
    Traceback (most recent call last):
    SystemExit: 2
    """
    defaults = defaults or {}
    names = []
    for field, settings in options_of(cls):
        default = defaults.get(field.name, field.default)
        keywords: dict[str, Any] = {"help": settings["help"], "default": default}
        if settings["kind"] is bool:
            keywords["action"] = argparse.BooleanOptionalAction if default else "store_true"
        elif settings["choices"]:
            keywords["choices"] = settings["choices"]
        elif settings["kind"] in (int, float):
            bounds = {name: settings[name] for name in ("minimum", "maximum", "above", "below")}
            bounded = any(value is not None for value in bounds.values())
            keywords["type"] = Bounded(settings["kind"], **bounds) if bounded else settings["kind"]
        parser.add_argument("--" + field.name.replace("_", "-"), **keywords)
        names.append(field.name)
    return names


def option_values(args: argparse.Namespace, names: list[str]) -> dict[str, Any]:
    """The parsed values of the options ``names`` (from :func:`add_options`), as the dataclass's keywords."""
    return {name: getattr(args, name) for name in names}
