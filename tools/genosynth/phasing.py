"""Phasing and filling of missing calls with Beagle 5 (Debian package ``beagle``) before conversion."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .errors import InputError

BEAGLE_JARS = (Path("/usr/share/beagle/beagle.jar"),)


def find_beagle_jar() -> Path:
    """The Beagle 5 jar: ``$BEAGLE_JAR`` when set, else the Debian package's; an InputError when absent."""
    candidates = [Path(os.environ["BEAGLE_JAR"])] if os.environ.get("BEAGLE_JAR") else list(BEAGLE_JARS)
    for jar in candidates:
        if jar.is_file():
            return jar
    raise InputError("Beagle 5 not found: install the Debian/Ubuntu package 'beagle' or set BEAGLE_JAR to beagle.jar")


def phase_with_beagle(vcf: Path, workdir: Path, *, region: str | None, seed: int, threads: int,
                      memory: str) -> Path:
    """Run Beagle on ``vcf`` (optionally one ``region``) and return its phased, gap-free .vcf.gz in ``workdir``.

    ``memory`` bounds the JVM heap (``-Xmx``), e.g. ``"2g"``; Beagle's log lands beside the output.
    """
    if shutil.which("java") is None:
        raise InputError("--phase needs java (Debian/Ubuntu package 'default-jre-headless') for Beagle")
    jar = find_beagle_jar()
    prefix = workdir / "phased"
    command = ["java", f"-Xmx{memory}", "-jar", str(jar), f"gt={vcf}", f"out={prefix}",
               f"seed={seed}", f"nthreads={threads}"]
    if region:
        command.append(f"chrom={region}")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not Path(f"{prefix}.vcf.gz").is_file():
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        reason = next((line for line in lines if "ERROR" in line.upper() or "Exception" in line),
                      lines[-1] if lines else "no output")
        raise InputError(f"{vcf}: Beagle phasing failed: {reason.strip()}")
    return Path(f"{prefix}.vcf.gz")
