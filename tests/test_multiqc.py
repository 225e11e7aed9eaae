"""The pipeline's last report: evaluate and privacy-check run for real on the Galaxy test data (two chromosomes, one
of whose privacy gates fails), their outputs turned into MultiQC custom content by the pipeline's own Groovy
(fidelityMqc, privacyMqc in nextflow/functions.nf, as main.nf calls them), then the MULTIQC module's task rendered and
run with the MultiQC the images install, and its HTML report opened and read: every chromosome's and model's
figures, the general statistics and the gate's verdict are in it."""

from __future__ import annotations

import html.parser
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "nextflow" / "checks"))
import tasks  # noqa: E402

BIN = Path(sys.executable).parent


def _run(argv: list[str], cwd: Path) -> None:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    assert result.returncode in (0, 2), result.stderr[-2000:]  # privacy-check exits 2 when its gate fails


def _groovy(expression: str) -> object:
    result = subprocess.run(
        [
            "java",
            "-cp",
            str(tasks.JAR),
            "groovy.ui.GroovyMain",
            str(REPO / "nextflow/checks/call.groovy"),
            str(REPO / "nextflow/functions.nf"),
            expression,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip())


class _Text(html.parser.HTMLParser):
    """The report's visible text (scripts and styles left out) and its section ids."""

    def __init__(self) -> None:
        super().__init__()
        self.text: list[str] = []
        self.ids: set[str] = set()
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        self._skip += tag in ("script", "style")
        self.ids.update(value for name, value in attrs if name == "id" and value)

    def handle_endtag(self, tag):
        self._skip -= tag in ("script", "style")

    def handle_data(self, data):
        if not self._skip and data.strip():
            self.text.append(data.strip())


@pytest.fixture(scope="module")
def step_outputs(tmp_path_factory) -> dict[str, object]:
    """Real evaluate and privacy-check outputs for chromosomes 21 and 22 (the same test data twice; 22's gate set
    at -1, the least a privacy loss can be, so that it fails)."""
    if not tasks.JAR.is_file():
        pytest.fail(f"needs {tasks.JAR}: run 'make test', which fetches the pinned language server")
    work = tmp_path_factory.mktemp("steps")
    data = tasks.TEST_DATA
    _run(
        [
            str(BIN / "genosynth-evaluate"),
            "--real",
            str(data / "train.h5"),
            "--holdout",
            str(data / "holdout.h5"),
            "--synthetic",
            f"gan={data / 'ag.h5'}",
            "-o",
            "eval",
            "--seed",
            "1",
            "--triplets",
            "200",
            "--device",
            "cpu",
            "--threads",
            "1",
        ],
        work,
    )
    checks = {}
    for chrom, limit in (("21", "0.5"), ("22", "-1")):
        _run(
            [
                str(BIN / "genosynth-privacy-check"),
                "--train",
                str(data / "train.h5"),
                "--holdout",
                str(data / "holdout.h5"),
                "--synthetic",
                str(data / "ag.h5"),
                "-o",
                f"privacy{chrom}",
                "--seed",
                "1",
                "--threads",
                "1",
                "--max-privacy-loss",
                limit,
            ],
            work,
        )
        checks[chrom] = work / f"privacy{chrom}" / "privacy.json"
    return {"work": work, "metrics": work / "eval" / "metrics.tsv", "checks": checks}


def test_the_pipeline_ends_with_a_multiqc_report_of_every_chromosome_and_model(step_outputs, tmp_path):
    metrics, checks = step_outputs["metrics"], step_outputs["checks"]
    # main.nf: GENOSYNTH_EVALUATE.out.tsv.toList().flatMap { fidelityMqc(it) }, and privacyMqc likewise
    files = _groovy(
        f"fidelityMqc([[[id: '22'], new File('{metrics}')], [[id: '21'], new File('{metrics}')]]) + "
        f"privacyMqc([[[id: '22', model: 'gan'], new File('{checks['22']}')], "
        f"[[id: '21', model: 'gan'], new File('{checks['21']}')]])"
    )
    content = tmp_path / "content"
    content.mkdir()
    for name, text in files:
        (content / name).write_text(text)
    (content / "genosynth_software_mqc_versions.yml").write_text(
        _groovy("versionsYaml([['GENOSYNTH_EVALUATE', 'genosynth', '0.2.0']])")
    )
    assert sorted(p.name for p in content.iterdir()) == [
        "genosynth_fidelity_general_stats_mqc.tsv",
        "genosynth_fidelity_mqc.tsv",
        "genosynth_privacy_gate_mqc.html",
        "genosynth_privacy_general_stats_mqc.tsv",
        "genosynth_privacy_mqc.tsv",
        "genosynth_software_mqc_versions.yml",
    ]

    result = tasks.run_task(
        tasks.Task(
            "multiqc",
            files={
                "multiqc_files": sorted(content.iterdir()),
                "multiqc_config": REPO / "assets" / "multiqc_config.yml",
            },
            values={"title": "genosynth test run"},
        ),
        tmp_path / "task",
        tasks.local_runner,
    )
    assert re.fullmatch(r"\d+\.\d+(\.\d+)?", result.evals["versions_multiqc"])
    report = result.outputs["report"][0]
    page = _Text()
    page.feed(report.read_text())
    text = "\n".join(page.text)
    assert "genosynth test run" in text
    for section in ("genosynth_fidelity", "genosynth_privacy", "genosynth_privacy_gate", "general_stats_table"):
        assert any(section in i for i in page.ids), section
    # every chromosome's sets: the model's and the held-out real haplotypes', with their figures
    fidelity = dict(zip(*[line.split("\t") for line in metrics.read_text().splitlines()[:2]]))
    for row in ("21 gan", "22 gan", "21 holdout", "22 holdout"):
        assert row in text, row
    privacy = json.loads(checks["21"].read_text())
    assert f"{float(fidelity['af_r']):.3f}" in text and f"{privacy['mia_auc']:.3f}" in text  # as displayed
    # the verdict: 22 failed (its limit), 21 passed
    assert "Privacy gate failed for 1 of 2 artificial sets" in re.sub(r"\s+", " ", text)
    assert re.search(r"22 gan: privacy loss .* > -1", text), text[-2000:]
    data = report.parent / "multiqc_report_data"
    general = (data / "multiqc_general_stats.txt").read_text()
    assert "21 gan" in general and "passed" in general and "failed" in general
