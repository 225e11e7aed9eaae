"""The ``--device`` and ``--threads`` options of every step that computes with torch: :func:`compute_device` hands
them on when the step starts computing (a step that does not, a baseline sample, never imports torch)."""

from __future__ import annotations

import argparse

from genosynth._infra.devices import DEVICE_CHOICES, prepare_cpu_math, set_cpu_threads
from genosynth.steps._types import THREADS


def add_compute_arguments(parser: argparse.ArgumentParser, *, device_help: str) -> None:
    """``--device`` (helped by ``device_help``) and ``--threads`` (stored as ``cpu_threads``)."""
    parser.add_argument("--device", choices=DEVICE_CHOICES, default="auto", help=device_help)
    parser.add_argument(
        "--threads",
        dest="cpu_threads",
        type=THREADS,
        help="CPU threads of torch's maths (Nextflow passes task.cpus, Galaxy GALAXY_SLOTS); default: "
        "torch's own, lowered to the cores this process may use, a container's CPU quota "
        "included",
    )


def compute_device(args: argparse.Namespace) -> str:
    """``--device``, once torch's CPU maths is prepared (:func:`genosynth._infra.devices.prepare_cpu_math`) and runs
    on ``--threads`` threads (:func:`genosynth._infra.devices.set_cpu_threads`): a step calls it as it hands the
    device to the library."""
    prepare_cpu_math()
    set_cpu_threads(args.cpu_threads)
    return args.device
