"""One source for every option's default: the library (the options dataclasses and the API functions' keyword
defaults). The command line builds its training options from TrainingOptions and otherwise takes the library's
default or None (falling through to it); Galaxy's forms and the pipeline's parameters offer the library's default
unless listed below with the reason. One test reads them all and names each drift: parameter, file, both values."""

from __future__ import annotations

import argparse
import dataclasses
import inspect
import json
from pathlib import Path

import genosynth
from genosynth.cli import STEPS, step_parser
from genosynth.generate.models.mosaic import MosaicSettings
from genosynth.generate.trained import Model
from test_galaxy_wrappers import GALAXY_DEFAULTS, _galaxy_params, _number, _wrapper

REPO = Path(__file__).resolve().parents[1]


def keyword_defaults(function) -> dict:
    return {
        name: parameter.default
        for name, parameter in inspect.signature(function).parameters.items()
        if parameter.default is not inspect.Parameter.empty
    }


def field_defaults(cls) -> dict:
    return {f.name: f.default for f in dataclasses.fields(cls) if f.default is not dataclasses.MISSING}


def training(trainer) -> list[tuple[str, str, dict]]:
    return [
        (f"{trainer.__module__}.{trainer.__name__}", "", keyword_defaults(trainer)),
        ("genosynth.TrainingOptions", "", field_defaults(genosynth.TrainingOptions)),
    ]


def diffusion_channels() -> dict:
    finest, coarsest = keyword_defaults(genosynth.train_diffusion)["channels"]
    return {"channels": finest, "max_channels": coarsest}


# each step's library sources, in order: (where, the prefix of the command line's name, {name: default})
SOURCES = {
    "train-gan": training(genosynth.train_gan),
    "train-rbm": training(genosynth.train_rbm),
    "train-diffusion": [
        ("train_diffusion(channels=...)", "", diffusion_channels()),
        *training(genosynth.train_diffusion),
    ],
    "sample": [
        ("Model.sample", "", keyword_defaults(Model.sample)),
        ("sample_baseline", "", keyword_defaults(genosynth.sample_baseline)),
        ("MosaicSettings", "", field_defaults(MosaicSettings)),
    ],
    "evaluate": [("evaluate", "", keyword_defaults(genosynth.evaluate))],
    "privacy-check": [("check_privacy", "", keyword_defaults(genosynth.check_privacy))],
    "selection-scan": [
        ("selection_scan", "", keyword_defaults(genosynth.selection_scan)),
        ("CnnScanOptions", "cnn_", field_defaults(genosynth.CnnScanOptions)),
        ("SweepSettings", "cnn_", field_defaults(genosynth.SweepSettings)),
        ("SweepSettings", "", field_defaults(genosynth.SweepSettings)),
    ],
    "impute-augment": [("impute_augment", "", keyword_defaults(genosynth.impute_augment))],
    "infer-demography": [("infer_demography", "", keyword_defaults(genosynth.infer_demography))],
}

# pipeline parameters -> the step option they set; and those whose default is deliberately not the library's
NEXTFLOW = {
    "holdout": ("vcf-to-matrix", "holdout"),
    "context_sites": ("train-gan", "context_sites"),
    "seed": ("train-gan", "seed"),
    "max_privacy_loss": ("train-gan", "max_privacy_loss"),
    "max_exact_copies": ("privacy-check", "max_exact_copies"),
    "max_mia_auc": ("privacy-check", "max_mia_auc"),
}
NEXTFLOW_DEFAULTS = {
    "holdout": "the pipeline judges privacy, so it holds out 20% of the individuals (vcf-to-matrix holds out none)",
    "context_sites": "the pipeline chains windows, so each is conditioned on 100 sites before it (a window alone: 0)",
}


def library_default(step: str, dest: str):
    """(where, default) of the command line's ``dest`` in the step's library sources, or None."""
    for where, prefix, defaults in SOURCES.get(step, []):
        if dest.startswith(prefix) and dest[len(prefix) :] in defaults:
            return where, defaults[dest[len(prefix) :]]
    return None


def parsed(action: argparse.Action, value, library):
    """A command-line default as the step parses it: a string through the option's type, or a comma-separated
    list where the library takes a tuple."""
    if isinstance(value, str) and isinstance(library, tuple):
        return tuple(float(item) for item in value.split(","))
    return action.type(value) if isinstance(value, str) and callable(action.type) else value


def same(a, b) -> bool:
    if isinstance(a, list | tuple) and isinstance(b, list | tuple):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b))
    if isinstance(a, int | float) and isinstance(b, int | float) and not isinstance(a, bool):
        return float(a) == float(b)
    return a == b


def test_every_default_is_the_librarys():
    problems = []
    for step in STEPS:
        parser = step_parser(step)
        actions = {flag: a for a in parser._actions for flag in a.option_strings}
        module = f"tools/genosynth/steps/{step.replace('-', '_')}.py"
        for action in parser._actions:
            source = library_default(step, action.dest) if action.option_strings else None
            if source is None or action.default in (None, argparse.SUPPRESS):
                continue  # an option the library does not have, or None falling through to the library's default
            where, default = source
            if not same(parsed(action, action.default, default), default):
                problems.append(
                    f"{step} {action.option_strings[-1]}: {module} default {action.default!r}, {where} {default!r}"
                )
        if not _wrapper(step).is_file():
            continue
        for flag, param in _galaxy_params(step).items():
            source = library_default(step, actions[flag].dest)
            if source is None or (step, flag) in GALAXY_DEFAULTS or param.get("type") not in ("integer", "float"):
                continue
            where, default = source
            value = _number(param.get("value"))
            if value is None:  # an empty, optional field: the library's default
                continue
            if isinstance(default, int | float) and not isinstance(default, bool) and value != float(default):
                problems.append(
                    f"{step} {flag}: galaxy_wrappers/{_wrapper(step).name} (or macros.xml) value "
                    f"{param.get('value')!r}, {where} {default!r}"
                )
    schema = json.loads((REPO / "nextflow_schema.json").read_text())
    pipeline = {name: spec for group in schema["$defs"].values() for name, spec in group["properties"].items()}
    for name, (step, dest) in NEXTFLOW.items():
        source = library_default(step, dest)
        if source is None:  # vcf-to-matrix has no library function with keyword defaults: its command line's
            source = (f"genosynth {step}", next(a.default for a in step_parser(step)._actions if a.dest == dest))
        where, default = source
        if name not in NEXTFLOW_DEFAULTS and not same(pipeline[name].get("default"), default):
            problems.append(
                f"--{name}: nextflow_schema.json default {pipeline[name].get('default')!r}, {where} {default!r}"
            )
    problems += trainer_drift()
    assert not problems, "defaults that drifted from the library's:\n" + "\n".join(problems)


def trainer_drift() -> list[str]:
    """The trainers' keyword defaults against their kind's configuration (None in either falls through)."""
    from genosynth.generate.models.diffusion import DiffusionConfig
    from genosynth.generate.models.gan import GanConfig
    from genosynth.generate.models.rbm import RbmConfig

    problems = []
    for trainer, configs in (
        (genosynth.train_gan, [GanConfig.for_preset]),
        (genosynth.train_rbm, [RbmConfig.for_sites, RbmConfig]),
        (genosynth.train_diffusion, [DiffusionConfig.for_sites, DiffusionConfig]),
    ):
        ours = keyword_defaults(trainer)
        for config in configs:
            theirs = field_defaults(config) if isinstance(config, type) else keyword_defaults(config)
            for name in sorted(set(ours) & set(theirs)):
                if None not in (ours[name], theirs[name]) and not same(ours[name], theirs[name]):
                    problems.append(
                        f"{trainer.__name__}({name}={ours[name]!r}), {config.__qualname__} {theirs[name]!r}"
                    )
    return problems


def test_the_check_names_a_drift():
    """Break one source: a Galaxy value, a command-line default and a pipeline default each differ in a copy."""
    action = next(a for a in step_parser("train-rbm")._actions if a.dest == "k")
    assert library_default("train-rbm", "k") == ("genosynth.generate.training.train_rbm", 10)
    assert not same(parsed(action, "11", 10), 10) and same(parsed(action, "10", 10), 10)
    assert same(parsed(action, "0,100", (0.0, 100.0)), (0, 100)) and not same((0.0,), (0.0, 1.0))
    assert library_default("train-gan", "batch_size")[1] == genosynth.TrainingOptions.batch_size == 32
    assert library_default("selection-scan", "cnn_window_sites")[0] == "CnnScanOptions"
