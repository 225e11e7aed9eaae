"""Beagle 5 run with a bounded heap: phasing and gap filling before conversion, and imputation from a reference
panel. Beagle and Java are found where Debian and conda (bioconda) install them."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from genosynth._infra.errors import InputError
from genosynth.io.detect import detect_format

DEBIAN_BEAGLE_JAR = Path("/usr/share/beagle/beagle.jar")


def find_beagle_jar() -> Path:
    """The Beagle 5 jar: the file ``$BEAGLE_JAR`` names when it is set; else the jar installed beside a ``beagle``
    program on ``PATH`` (``PREFIX/bin/beagle`` with ``PREFIX/share/beagle*/beagle*.jar``, as bioconda and Debian lay
    them out; the newest name first); else Debian's; an InputError naming what to install when there is none."""
    named = os.environ.get("BEAGLE_JAR")
    if named:
        if not Path(named).is_file():
            raise InputError(f"BEAGLE_JAR names {named}, which is not a file: point it at Beagle 5's jar")
        return Path(named)
    program = shutil.which("beagle")
    if program is not None:
        prefix = Path(os.path.realpath(program)).parent.parent
        jars = sorted(prefix.glob("share/beagle*/beagle*.jar"), reverse=True)
        if jars:
            return jars[0]
    if DEBIAN_BEAGLE_JAR.is_file():
        return DEBIAN_BEAGLE_JAR
    raise InputError(
        "Beagle 5 not found: install the Debian/Ubuntu package 'beagle' or bioconda's 'beagle', "
        "or set BEAGLE_JAR to its jar"
    )


def find_java() -> str:
    """The ``java`` program: on ``PATH``, else ``$JAVA_HOME/bin/java``; an InputError naming it when absent."""
    program = shutil.which("java")
    if program is None and os.environ.get("JAVA_HOME"):
        program = shutil.which("java", path=str(Path(os.environ["JAVA_HOME"]) / "bin"))
    if program is None:
        raise InputError(
            "java not found on PATH or in JAVA_HOME: Beagle needs a Java runtime (Debian/Ubuntu "
            "package 'default-jre-headless', or conda's 'openjdk')"
        )
    return program


def require_beagle(task: str) -> tuple[str, Path]:
    """``java`` and the Beagle jar, or an InputError naming what is missing for ``task``."""
    try:
        return find_java(), find_beagle_jar()
    except InputError as err:
        raise InputError(f"{task}: {err}") from None


def run_beagle(options: dict[str, object], *, memory: str, task: str, source: Path) -> Path:
    """Run Beagle with ``options`` (``key=value`` arguments; ``out`` is the output prefix) and return ``out``.vcf.gz.

    ``memory`` bounds the JVM heap (``-Xmx``), e.g. ``"2g"``; Beagle's log lands at ``out``.log. A failure is
    an InputError naming ``source``, the ``task`` and Beagle's own error line.
    """
    java, jar = require_beagle(task)
    command = [java, f"-Xmx{memory}", "-jar", str(jar)]
    command += [f"{key}={value}" for key, value in options.items()]
    output = Path(f"{options['out']}.vcf.gz")
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not output.is_file():
        lines = [line for line in (result.stderr + result.stdout).splitlines() if line.strip()]
        reason = next(
            (line for line in lines if "ERROR" in line.upper() or "Exception" in line),
            lines[-1] if lines else "no output",
        )
        raise InputError(f"{source}: Beagle {task} failed: {reason.strip()}")
    return output


def phase_with_beagle(vcf: Path, workdir: Path, *, region: str | None, seed: int, threads: int, memory: str) -> Path:
    """Run Beagle on ``vcf`` (optionally one ``region``) and return its phased, gap-free .vcf.gz in ``workdir``."""
    options: dict[str, object] = {
        "gt": beagle_readable(vcf, workdir),
        "out": workdir / "phased",
        "seed": seed,
        "nthreads": threads,
    }
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
