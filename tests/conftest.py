"""Shared fixtures: small simulated VCFs (stdpopsim OutOfAfrica_3G09) and the real 1000 Genomes 805-SNP data."""

from __future__ import annotations

import gzip
import os
import shutil
import subprocess
import sys
from pathlib import Path

import doctest_finder  # noqa: F401  (a public class's examples run in the module that defines it)
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto`` (make test's default): one worker per usable core, a CPU quota included (xdist counts the
    affinity, or psutil's physical cores); PYTEST_XDIST_AUTO_NUM_WORKERS still overrides."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None
    from genosynth._infra.devices import usable_cpus

    return usable_cpus()


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:
        has_cuda = False
    if not has_cuda:
        skip = pytest.mark.skip(reason="needs a CUDA device")
        for item in items:
            if "gpu" in item.keywords:
                item.add_marker(skip)


def run_genosynth(
    *args: object, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the real command line in a subprocess, as users and wrappers do (``env`` adds environment variables)."""
    result = subprocess.run(
        [sys.executable, "-m", "genosynth", *map(str, args)],
        capture_output=True,
        text=True,
        env=None if env is None else {**os.environ, **env},
    )
    if check and result.returncode != 0:
        raise AssertionError(f"genosynth {' '.join(map(str, args))} failed ({result.returncode}):\n{result.stderr}")
    return result


@pytest.fixture(scope="session")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A phased simulated VCF (3 populations x 20 individuals, 300 kb), bgzipped + indexed, with populations."""
    from genosynth.downstream.simulation import simulate_out_of_africa

    workdir = tmp_path_factory.mktemp("simulated")
    vcf, populations = simulate_out_of_africa(
        workdir / "sim.vcf", individuals_per_population=20, length=300_000, seed=11
    )
    gz = workdir / "sim.vcf.gz"
    with open(vcf, "rb") as src, open(gz, "wb") as dst:
        subprocess.run(["bgzip", "-c"], stdin=src, stdout=dst, check=True)
    subprocess.run(["tabix", "-p", "vcf", str(gz)], check=True)
    return {"vcf": vcf, "vcf_gz": gz, "populations": populations, "dir": workdir}


@pytest.fixture(scope="session")
def data_805() -> dict[str, Path]:
    """The real 1000 Genomes 805-SNP benchmark shipped in the package (genosynth/data/1000G_805), read in place."""
    from genosynth.datasets import data_805 as shipped

    data = shipped()
    return {
        "hapt": data.hapt,
        "legend": data.legend,
        "samples": data.samples,
        "paper_gan": data.paper_gan,
        "paper_rbm": data.paper_rbm,
    }


@pytest.fixture(scope="session")
def docs_site(tmp_path_factory) -> Path:
    """The documentation site built as `make docs` builds it (mkdocs build --strict), into a temporary folder."""
    site = tmp_path_factory.mktemp("site") / "site"
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    return site


def write_805_split(data: dict[str, Path], workdir: Path, sizes: dict[str, int], *, seed: int) -> dict[str, Path]:
    """Disjoint random sets of the real 1000G 805-SNP individuals (``sizes``: name -> individuals), each
    written as a matrix ``workdir/NAME.h5``."""
    import numpy as np
    from genosynth.io.hapt import read_hapt
    from genosynth.io.hdf5 import write_matrix

    matrix = read_hapt(data["hapt"], legend=data["legend"])
    order = np.random.default_rng(seed).permutation(len(matrix.samples))
    paths, start = {}, 0
    for name, size in sizes.items():
        paths[name] = workdir / f"{name}.h5"
        write_matrix(paths[name], matrix.select_samples(np.sort(order[start : start + size])))
        start += size
    return paths


def write_with_moved_site(path: Path, output: Path, index: int):
    """Copy the matrix at ``path`` to ``output`` with site ``index`` moved one base on; returns the new sites."""
    from genosynth.io.hdf5 import read_matrix, write_matrix

    matrix = read_matrix(path)
    sites = matrix.sites.take(slice(None))
    sites.pos = sites.pos.copy()
    sites.pos[index] += 1
    write_matrix(output, type(matrix)(matrix.haplotypes, sites, matrix.samples, matrix.ploidy, matrix.populations))
    return sites


def read_text(path: Path) -> str:
    """A text file's content, gunzipped when compressed."""
    with open(path, "rb") as handle:
        magic = handle.read(2)
    opener = gzip.open if magic == b"\x1f\x8b" else open
    with opener(path, "rt") as handle:
        return handle.read()


def report_contents(path: Path) -> tuple[list[str], list[str]]:
    """The image sources of an HTML report, and every tag that would load something from outside it."""
    from html.parser import HTMLParser

    class Collector(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.sources: list[str] = []
            self.links: list[str] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            named = dict(attrs)
            if tag == "img":
                self.sources.append(named["src"] or "")
            if tag in ("script", "link", "iframe") or (tag == "a" and "href" in named):
                self.links.append(tag)

    parser = Collector()
    parser.feed(path.read_text())
    return parser.sources, parser.links


def require_programs(*names: str) -> None:
    missing = [n for n in names if shutil.which(n) is None]
    if missing:
        pytest.fail(f"missing programs {missing}: run 'make test', which installs them")


@pytest.fixture(scope="session")
def small(data_805, tmp_path_factory):
    """200 real 1000G individuals (400 haplotypes) x the first 60 of the 805 sites."""
    from genosynth.io.hapt import read_hapt
    from genosynth.io.hdf5 import write_matrix

    matrix = read_hapt(data_805["hapt"], legend=data_805["legend"])
    index = np.sort(np.random.default_rng(2).choice(len(matrix.samples), 200, replace=False))
    small = matrix.select_samples(index).select_sites(np.arange(60))
    path = tmp_path_factory.mktemp("models") / "small.h5"
    write_matrix(path, small)
    return path


@pytest.fixture(scope="session")
def two_populations(tmp_path_factory):
    """Two populations with opposite allele frequencies at 30 sites: what a conditional model must keep apart."""
    from genosynth.io.hdf5 import write_matrix
    from genosynth.io.matrix import HaplotypeMatrix, Sites

    rng = np.random.default_rng(7)
    frequencies = {"AAA": np.linspace(0.05, 0.95, 30), "BBB": np.linspace(0.95, 0.05, 30)}
    haplotypes = np.concatenate([(rng.random((300, 30)) < f).astype(np.uint8) for f in frequencies.values()])
    sites = Sites(
        np.array(["1"] * 30), np.arange(1, 31) * 100, np.array(["."] * 30), np.array(["A"] * 30), np.array(["C"] * 30)
    )
    matrix = HaplotypeMatrix(
        haplotypes,
        sites,
        np.array([f"i{k}" for k in range(300)]),
        np.full(300, 2, dtype=np.int8),
        np.array(["AAA"] * 150 + ["BBB"] * 150),
    )
    path = tmp_path_factory.mktemp("structured") / "structured.h5"
    write_matrix(path, matrix)
    return path, frequencies
