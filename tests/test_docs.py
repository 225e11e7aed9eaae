"""The documentation as readers meet it: every tutorial's commands run as written in a fresh shell, the site builds
with --strict (step pages generated from the parsers, API pages from the docstrings), and the README, the docs and
the project files say nothing dated, no work-item numbers and no paths beside the checkout."""

from __future__ import annotations

import hashlib
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO

TUTORIALS = {
    "replication-805": ["evaluation/report.html", "evaluation/metrics.json", "privacy/report.html", "rbm.training.png"],
    "own-vcf": ["windows.bed", "chromosome_ag.vcf.gz.tbi", "evaluation/report.html", "privacy/gate.txt"],
    "privacy-audit": ["audit_theirs/report.html", "audit_leaked/gate.txt"],
    "selection-cnn": ["scan/cnn.tsv", "scan/report.html", "ceu_cnn.safetensors"],
}
# the Markdown files a user reads, and the project files whose text users and packagers see
USER_TEXTS = [
    "README.md",
    "CITATION.cff",
    "mkdocs.yml",
    *[p.relative_to(REPO).as_posix() for p in (REPO / "docs").rglob("*.md")],
]


def shell_blocks(markdown: str) -> list[str]:
    """The ```sh blocks of a page, in order."""
    return re.findall(r"^```sh\n(.*?)^```", markdown, flags=re.S | re.M)


@pytest.mark.slow
@pytest.mark.parametrize("name", list(TUTORIALS))
def test_tutorial_runs_as_written(name, tmp_path):
    """Every shell block of the tutorial, in order, in one fresh bash with -euo pipefail, from an empty folder with
    the installed genosynth first on PATH: the commands readers copy are the commands that ran."""
    script = "\n".join(shell_blocks((REPO / "docs" / "tutorials" / f"{name}.md").read_text()))
    assert script.count("genosynth ") >= 2
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    missing = [f for f in TUTORIALS[name] if not (tmp_path / f).is_file()]
    assert not missing, missing
    if name == "privacy-audit":  # the copying "generator" fails the gate, the Markov baseline passes it
        assert (tmp_path / "audit_leaked" / "gate.txt").read_text().startswith("failed: exact copies")
        assert "exit 2" in result.stdout


def test_every_tutorial_is_in_the_navigation_and_tested():
    navigation = (REPO / "mkdocs.yml").read_text()
    pages = sorted(p.stem for p in (REPO / "docs" / "tutorials").glob("*.md"))
    assert pages == sorted(TUTORIALS)
    assert all(f"tutorials/{page}.md" in navigation for page in pages)


def test_site_builds_strict_with_a_generated_page_per_step(docs_site):
    """mkdocs build --strict passed (the fixture); every step has a page listing every option of its own parser
    beside its Galaxy tool and Nextflow process; the API page documents the public names."""
    from genosynth.cli import STEPS, step_parser

    for step in STEPS:
        page = (docs_site / "reference" / step / "index.html").read_text()
        for action in step_parser(step)._actions:
            for option in action.option_strings:
                if option not in ("-h", "--help", "--version"):
                    assert f"<code>{option}</code>" in page, (step, option)
        assert f"genosynth_{step.replace('-', '_')}" in page
    api = (docs_site / "api" / "index.html").read_text()
    import genosynth

    missing = [name for name in genosynth.__all__ if f'id="genosynth.{name}"' not in api]
    assert not missing, missing


def test_benchmark_tables_come_from_result_files(docs_site):
    """Every table result file bench/ wrote (bench/results.py) is on the benchmarks page, rendered from the file
    with the command and the machine that measured it; no marker is left unrendered."""
    import json

    source = (REPO / "docs" / "benchmarks" / "index.md").read_text()
    page = (docs_site / "benchmarks" / "index.html").read_text()
    results = [p for p in (REPO / "docs" / "benchmarks").glob("*.json") if "columns" in json.loads(p.read_text())]
    assert len(results) >= 2 and "bench-table" not in page
    for path in results:
        result = json.loads(path.read_text())
        assert f"<!-- bench-table: {path.name} -->" in source, path.name
        assert result["rows"][0][0] in page and result["machine"] in page and result["command"] in page, path.name


@pytest.mark.parametrize("path", USER_TEXTS)
def test_user_texts_hold_no_work_items_dates_or_sibling_paths(path):
    text = (REPO / path).read_text()
    # our work items ("issue 18", "#18"); an upstream project's reference (owner/repo#123) is a citation, not one
    assert not re.search(r"\b[Ii]ssues? #?\d+|(?<![\w/.-])#\d{1,4}\b", text), path
    assert "../shared" not in text and "shared/data" not in text, path
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b", text), path


def test_readme_is_short_and_its_links_resolve():
    text = (REPO / "README.md").read_text()
    assert len(text.splitlines()) <= 250
    targets = re.findall(r"\]\(([^)\s#]+)(?:#[^)]*)?\)", text)
    local = [t for t in targets if not t.startswith(("http://", "https://"))]
    assert len(local) >= 15
    missing = [t for t in local if not (REPO / t).exists()]
    assert not missing, missing
    assert "make demo" in text and "make test" in text


def test_citation_licence_and_version_have_one_source():
    import tomllib

    import genosynth

    citation = yaml.safe_load((REPO / "CITATION.cff").read_text())
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    assert str(citation["version"]) == genosynth.__version__
    assert citation["license"] == project["license"] == "MIT"
    assert "MIT License" in (REPO / "LICENSE").read_text()
    assert citation["preferred-citation"]["doi"] == "10.1371/journal.pgen.1009303"


def test_bundled_data_match_their_checksums():
    from genosynth.datasets import data_805

    data = data_805()
    listed = dict(reversed(line.split()) for line in (data.folder / "SHA256SUMS").read_text().splitlines())
    assert sorted(listed) == sorted(
        p.name for p in (data.hapt, data.legend, data.samples, data.paper_gan, data.paper_rbm)
    )
    for name, digest in listed.items():
        assert hashlib.sha256((data.folder / name).read_bytes()).hexdigest() == digest, name
        assert digest in (data.folder / "README.md").read_text()
