"""The ``--device`` and ``--threads`` options of every step that computes with torch (the command line hands
``--threads`` to :func:`genosynth._infra.devices.defer_cpu_threads`, applied when the step first resolves its device)."""

from __future__ import annotations

import argparse

from genosynth._infra.devices import DEVICE_CHOICES
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
