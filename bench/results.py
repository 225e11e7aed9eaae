"""A benchmark's result file for the documentation: the table it measured, the command that made it and the machine,
as JSON under docs/benchmarks/ (the docs site renders it; nothing on the benchmark pages is typed by hand)."""

from __future__ import annotations

import json
import os
import platform
import shlex
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def machine() -> str:
    """The CPU model, usable cores and how busy they were, Python and PyTorch versions, in one line."""
    model = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    from genosynth._infra.devices import usable_cpus

    try:
        import torch

        torch_version = torch.__version__
    except ImportError:
        torch_version = "absent"
    load = os.getloadavg()[0]
    return (
        f"{model}, {usable_cpus()} usable cores (load average {load:.1f} when it "
        f"finished), no GPU used, Python {platform.python_version()}, PyTorch {torch_version}"
    )


def write_result(
    path: Path, *, title: str, columns: Sequence[str], rows: Sequence[Sequence[Any]], notes: str = ""
) -> None:
    """Write ``rows`` under ``columns`` with the command line of this process and :func:`machine` to ``path``."""
    command = shlex.join([Path(sys.argv[0]).as_posix()] + sys.argv[1:])
    record = {
        "title": title,
        "command": f"python {command}",
        "machine": machine(),
        "columns": list(columns),
        "rows": [list(r) for r in rows],
        "notes": notes,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    temp.write_text(json.dumps(record, indent=2) + "\n")
    temp.replace(path)
