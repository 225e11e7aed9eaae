"""Beagle 5 (Debian package ``beagle``) run with a bounded heap: phasing and gap filling before conversion,
and imputation from a reference panel."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from .errors import InputError
from .formats.detect import detect_format

BEAGLE_JARS = (Path("/usr/share/beagle/beagle.jar"),)


def find_beagle_jar() -> Path:
    """The Beagle 5 jar: ``$BEAGLE_JAR`` when set, else the Debian package's; an InputError when absent."""
    candidates = [Path(os.environ["BEAGLE_JAR"])] if os.environ.get("BEAGLE_JAR") else list(BEAGLE_JARS)
    for jar in candidates:
        if jar.is_file():
            return jar
    raise InputError("Beagle 5 not found: install the Debian/Ubuntu package 'beagle' or set BEAGLE_JAR to beagle.jar")


def require_beagle(task: str) -> Path:
    """The Beagle jar, after checking that java can run it; an InputError naming what is missing for ``task``."""
    if shutil.which("java") is None:
        raise InputError(f"{task} needs java (Debian/Ubuntu package 'default-jre-headless') for Beagle")
    return find_beagle_jar()


def run_beagle(options: dict[str, object], *, memory: str, task: str, source: Path) -> Path:
    """Run Beagle with ``options`` (``key=value`` arguments; ``out`` is the output prefix) and return ``out``.vcf.gz.

    ``memory`` bounds the JVM heap (``-Xmx``), e.g. ``"2g"``; Beagle's log lands at ``out``.log. A failure is
    an InputError naming ``source``, the ``task`` and Beagle's own error line.
    """
    command = ["java", f"-Xmx{memory}", "-jar", str(require_beagle(task))]
    command += [f"{key}={value}" for key, value in options.items()]
    output = Path(f"{options['out']}.vcf.gz")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not output.is_file():
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        reason = next((line for line in lines if "ERROR" in line.upper() or "Exception" in line),
                      lines[-1] if lines else "no output")
        raise InputError(f"{source}: Beagle {task} failed: {reason.strip()}")
    return output


def phase_with_beagle(vcf: Path, workdir: Path, *, region: str | None, seed: int, threads: int,
                      memory: str) -> Path:
    """Run Beagle on ``vcf`` (optionally one ``region``) and return its phased, gap-free .vcf.gz in ``workdir``."""
    options: dict[str, object] = {"gt": beagle_readable(vcf, workdir), "out": workdir / "phased", "seed": seed,
                                  "nthreads": threads}
    if region:
        options["chrom"] = region
    return run_beagle(options, memory=memory, task="phasing", source=vcf)


def beagle_readable(vcf: Path, workdir: Path) -> Path:
    """``vcf`` as Beagle can read it: Beagle tells gzip by the ``.gz`` suffix and reads no BCF, so a compressed
    file under another name (a Galaxy ``.dat``) is linked as ``.vcf.gz`` and a BCF is converted with bcftools."""
    detected = detect_format(vcf)
    if detected.format != "bcf":
        if not detected.compressed or vcf.name.endswith(".gz"):
            return vcf
        link = workdir / "input.vcf.gz"
        link.symlink_to(vcf.resolve())
        return link
    if shutil.which("bcftools") is None:
        raise InputError(f"{vcf}: Beagle reads no BCF; converting it needs bcftools (Debian/Ubuntu package 'bcftools')")
    converted = workdir / "input.vcf.gz"
    result = subprocess.run(["bcftools", "view", "-Oz", "-o", str(converted), str(vcf)], capture_output=True, text=True)
    if result.returncode != 0:
        raise InputError(f"{vcf}: bcftools could not convert the BCF for Beagle: {result.stderr.strip()[:200]}")
    return converted
