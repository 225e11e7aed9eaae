"""One version, in tools/genosynth/VERSION: the package, pyproject's metadata, the images (make containers passes it
as a build argument) and the pipeline's manifest read the file; every other mention (Galaxy's version token and
workflow, the citation, the changelogs, image tags in the docs) is checked here, each drift named by file and line."""

from __future__ import annotations

import re
import subprocess
import tomllib
from pathlib import Path

import genosynth

REPO = Path(__file__).resolve().parents[1]
VERSION_FILE = REPO / "tools" / "genosynth" / "VERSION"
V = r"(\d+\.\d+\.\d+(?:[.-]?(?:a|b|rc|dev|post)\d+)?)"

# the mentions of the version, as patterns whose first group is it; each pattern must find at least one mention in
# the files it names, so that a reworded file cannot drop out of the check unnoticed
MENTIONS = {
    r'<token name="@TOOL_VERSION@">' + V + "<": ["galaxy_wrappers/macros.xml"],
    r"^version: " + V + "$": ["CITATION.cff"],
    r'^release: "' + V + '"$': ["galaxy_wrappers/workflows/generate_and_check.gxwf.yml"],
    r"tool_version: " + V + r"\+galaxy\d+": ["galaxy_wrappers/workflows/generate_and_check.gxwf.yml"],
    r"/" + V + r"\+galaxy\d+`": ["docs/galaxy-gpu-routing.md"],
    r"genosynth/[\w<>-]+:" + V + r"(?:-cpu|-cu\d+)?\b": [
        "README.md",
        "docs/containers.md",
        "docs/galaxy.md",
    ],
    r"\(`-r " + V + r"`\)": ["docs/usage.md"],
}
# changelogs: the newest entry (the first heading) is the version
CHANGELOGS = {"docs/changelog.md": r"^## " + V + "$", "galaxy_wrappers/workflows/CHANGELOG.md": r"^## \[" + V + r"\]"}


def version() -> str:
    return VERSION_FILE.read_text().strip()


def tracked_text_files() -> list[Path]:
    names = subprocess.run(["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True).stdout
    files = []
    for name in names.splitlines():
        path = REPO / name
        if name.startswith(("tests/", "docs/benchmarks/")) or "test-data/" in name or not path.is_file():
            continue  # tests' sample data and measured results record the version they ran with
        try:
            files.append((name, path.read_text()))
        except UnicodeDecodeError:
            continue
    return files


def test_the_package_and_its_build_read_the_version_file():
    assert re.fullmatch(V, version()), f"{VERSION_FILE}: {version()!r} is not a version"
    assert genosynth.__version__ == version()
    pyproject = tomllib.loads((REPO / "pyproject.toml").read_text())
    assert pyproject["tool"]["setuptools"]["dynamic"]["version"] == {"file": "tools/genosynth/VERSION"}
    assert "VERSION" in pyproject["tool"]["setuptools"]["package-data"]["genosynth"]
    config = (REPO / "nextflow.config").read_text()
    assert 'version         = new File("${projectDir}/tools/genosynth/VERSION").text.trim() as String' in config
    assert "VERSION := $(shell cat tools/genosynth/VERSION)" in (REPO / "Makefile").read_text()
    assert "VERSION=${VERSION:-$(cat tools/genosynth/VERSION)}" in (REPO / "containers" / "build.sh").read_text()
    for dockerfile in sorted((REPO / "containers").glob("*/Dockerfile")):
        text = dockerfile.read_text()
        assert re.search(r"^ARG VERSION$", text, re.M), f"{dockerfile.relative_to(REPO)}: no bare ARG VERSION"


def test_every_mention_of_the_version_is_the_version_file():
    """Every mention that a pattern above finds is the file's version, and no other line of a tracked file (tests
    and measured results aside) spells the version out: bumping tools/genosynth/VERSION and this test's names of
    what drifted are the whole release checklist."""
    current = version()
    files = dict(tracked_text_files())
    drift, unchecked, missing = [], [], []
    checked_lines = set()
    for pattern, names in MENTIONS.items():
        for name in names:
            found = 0
            for number, line in enumerate(files[name].splitlines(), 1):
                for match in re.finditer(pattern, line):
                    found += 1
                    checked_lines.add((name, number))
                    if match.group(1) != current:
                        drift.append(f"{name}:{number}: {match.group(1)} (VERSION is {current}): {line.strip()}")
            if not found:
                missing.append(f"{name}: no mention matching {pattern}")
    for name, pattern in CHANGELOGS.items():
        lines = files[name].splitlines()
        number, heading = next((n, line) for n, line in enumerate(lines, 1) if line.startswith("## "))
        checked_lines.add((name, number))
        match = re.match(pattern, heading)
        if not match or match.group(1) != current:
            drift.append(f"{name}:{number}: newest entry {heading!r}, VERSION is {current}")
    for name, text in files.items():
        for number, line in enumerate(text.splitlines(), 1):
            if current in line and (name, number) not in checked_lines and name != "tools/genosynth/VERSION":
                unchecked.append(f"{name}:{number}: {line.strip()}")
    problems = []
    if drift:
        problems += ["mentions of another version than tools/genosynth/VERSION's:", *drift]
    if missing:
        problems += ["patterns that no longer find their mention:", *missing]
    if unchecked:
        problems += [
            "the version spelled out where nothing checks it (read tools/genosynth/VERSION, or add a pattern to "
            "tests/test_version.py):",
            *unchecked,
        ]
    assert not problems, "\n".join(problems)
