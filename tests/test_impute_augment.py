"""impute-augment with the real Beagle 5 and minimac4 on simulated data: r² recomputed independently from the
imputed files, augmentation with the target's own haplotypes helps, independent random haplotypes do not,
the augmented panel's layout, and clear errors."""

from __future__ import annotations

import json
import subprocess

import numpy as np
import pytest
from conftest import read_text, report_contents, require_programs, run_genosynth
from genosynth.downstream.imputation.impute import MAF_EDGES, read_dosages, site_r2


@pytest.fixture(scope="module")
def split(simulated, tmp_path_factory: pytest.TempPathFactory) -> dict:
    """Panel (45 individuals) and target (15) of the simulated VCF; the target's own haplotypes; random ones."""
    require_programs("bcftools", "java", "tabix")
    workdir = tmp_path_factory.mktemp("impute")
    samples = subprocess.run(
        ["bcftools", "query", "-l", str(simulated["vcf_gz"])], capture_output=True, text=True, check=True
    ).stdout.split()
    paths = {}
    for name, chosen in (("target", samples[3::4]), ("panel", [s for i, s in enumerate(samples) if i % 4 != 3])):
        listing = workdir / f"{name}.txt"
        listing.write_text("\n".join(chosen) + "\n")
        paths[name] = workdir / f"{name}.vcf.gz"
        subprocess.run(
            [
                "bcftools",
                "view",
                "-S",
                str(listing),
                "-m2",
                "-M2",
                "-v",
                "snps",
                str(simulated["vcf_gz"]),
                "-Oz",
                "-o",
                str(paths[name]),
            ],
            check=True,
        )
    run_genosynth("vcf-to-matrix", paths["target"], "--keep-monomorphic", "-o", workdir / "own.h5")
    run_genosynth("vcf-to-matrix", paths["panel"], "--keep-monomorphic", "-o", workdir / "panel.h5")
    run_genosynth(
        "sample",
        "--baseline",
        "bernoulli",
        "--reference",
        workdir / "panel.h5",
        "-n",
        "30",
        "-o",
        workdir / "random.h5",
        "--seed",
        "2",
    )
    paths.update(own=workdir / "own.h5", random=workdir / "random.h5", dir=workdir)
    paths["own_run"] = workdir / "own_run"
    run_genosynth(
        "impute-augment",
        "--panel",
        paths["panel"],
        "--synthetic",
        paths["own"],
        "--target",
        paths["target"],
        "--private",
        paths["own"],
        "-o",
        paths["own_run"],
        "--seed",
        "1",
        "--memory",
        "1g",
    )
    return paths


def _json(directory):
    return json.loads((directory / "impute.json").read_text())


def test_own_haplotypes_raise_r2_and_outputs_are_whole(split):
    out = split["own_run"]
    result = _json(out)
    assert result["augmented"]["mean_r2"] > result["panel"]["mean_r2"] + 0.2
    assert result["augmented"]["pooled_r2"] > 0.9 and result["private"]["pooled_r2"] > 0.9
    assert result["scored_sites"] == result["common_sites"] - result["array_sites"]
    assert result["array_sites"] == -(-result["common_sites"] // 10)  # every 10th site, the first included
    assert [b["maf_low"] for b in result["panel"]["bins"]] == MAF_EDGES[:-1].tolist()
    assert sum(b["n_sites"] for b in result["panel"]["bins"]) == result["scored_sites"]
    for name in (
        "impute.tsv",
        "impute.png",
        "impute.pdf",
        "imputed_panel.log",
        "imputed_augmented.vcf.gz",
        "imputed_private.vcf.gz",
        "augmented_panel.vcf.gz.tbi",
    ):
        assert (out / name).stat().st_size > 0, name
    assert "beagle" in (out / "imputed_panel.log").read_text().lower()
    sources, links = report_contents(out / "report.html")
    assert len(sources) == 1 and not links
    assert result["provenance"]["seed"] == 1 and len(result["provenance"]["inputs"]) == 4
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".genosynth-output.json"]  # no work folder


def test_r2_matches_an_independent_computation(split):
    """Per-site and per-bin r² from the imputed VCF and the target VCF, read with bcftools, not genosynth."""
    out = split["own_run"]
    result = _json(out)

    def table(path, fmt):
        text = subprocess.run(
            ["bcftools", "query", "-f", fmt, str(path)], capture_output=True, text=True, check=True
        ).stdout
        return {tuple(line.split("\t")[:2]): line.split("\t")[2:] for line in text.splitlines()}

    truth = table(split["target"], "%CHROM\t%POS[\t%GT]\n")
    imputed = table(out / "imputed_panel.vcf.gz", "%CHROM\t%POS[\t%DS]\n")
    array = set(list(truth)[::10])
    scored = [k for k in truth if k not in array and k in imputed]
    assert len(scored) == result["scored_sites"]
    t = np.array([[g.count("1") for g in truth[k]] for k in scored], dtype=float)
    d = np.array([[float(x) for x in imputed[k]] for k in scored])
    per_site = []
    for a, b in zip(t, d):
        per_site.append(np.corrcoef(a, b)[0, 1] ** 2 if a.std() > 0 and b.std() > 0 else np.nan)
    assert result["panel"]["mean_r2"] == pytest.approx(np.nanmean(per_site), rel=1e-6)
    np.testing.assert_allclose(site_r2(t, d), per_site, rtol=1e-9, atol=1e-12, equal_nan=True)
    panel = table(split["panel"], "%CHROM\t%POS[\t%GT]\n")
    p = np.array([np.mean([int(a) for g in panel[k] for a in g.replace("/", "|").split("|")]) for k in scored])
    maf = np.minimum(p, 1 - p)
    index = np.clip(np.searchsorted(MAF_EDGES, maf, side="right") - 1, 0, 9)
    for b, entry in enumerate(result["panel"]["bins"]):
        rows = index == b
        assert entry["n_sites"] == rows.sum()
        if rows.sum() and t[rows].std() > 0:
            expected = np.corrcoef(t[rows].ravel(), d[rows].ravel())[0, 1] ** 2
            assert entry["r2"] == pytest.approx(expected, rel=1e-6)


def test_independent_random_haplotypes_do_not_raise_r2(split):
    out = split["dir"] / "random_run"
    run_genosynth(
        "impute-augment",
        "--panel",
        split["panel"],
        "--synthetic",
        split["random"],
        "--target",
        split["target"],
        "-o",
        out,
        "--seed",
        "1",
        "--memory",
        "1g",
        "--ploidy",
        "2",
    )
    result = _json(out)
    assert result["augmented"]["pooled_r2"] <= result["panel"]["pooled_r2"] + 0.02
    assert result["augmented"]["mean_r2"] <= result["panel"]["mean_r2"] + 0.02
    header = [line for line in read_text(out / "augmented_panel.vcf.gz").splitlines() if line.startswith("#CHROM")][0]
    samples = header.split("\t")[9:]
    assert samples[-15:] == [f"AG_{i}" for i in range(15)] and len(samples) == 45 + 15
    record = [line for line in read_text(out / "augmented_panel.vcf.gz").splitlines() if not line.startswith("#")][0]
    assert all("|" in g for g in record.split("\t")[9:])  # --ploidy 2: phased diploid pairs


def test_minimac4_engine_and_haploid_augmentation(split):
    require_programs("minimac4")
    out = split["dir"] / "minimac4_run"
    run_genosynth(
        "impute-augment",
        "--panel",
        split["panel"],
        "--synthetic",
        split["own"],
        "--target",
        split["target"],
        "-o",
        out,
        "--engine",
        "minimac4",
        "--keep-every",
        "5",
    )
    result = _json(out)
    assert result["engine"] == "minimac4" and result["augmented"]["pooled_r2"] > 0.95
    assert result["panel"]["mean_engine_r2"] is not None  # minimac4's R2
    record = [line for line in read_text(out / "augmented_panel.vcf.gz").splitlines() if not line.startswith("#")][0]
    assert record.split("\t")[-1] in ("0", "1")  # haploid artificial samples
    dosages = read_dosages(out / "imputed_augmented.vcf.gz", field="DS")
    assert dosages.values.shape[1] == 15 and np.isfinite(dosages.values).all()


def test_errors_exit_1_with_one_line(split, tmp_path):
    renamed = tmp_path / "renamed.vcf.gz"
    chromosomes = tmp_path / "chromosomes.txt"
    chromosomes.write_text("22\t7\n")
    subprocess.run(
        ["bcftools", "annotate", "--rename-chrs", str(chromosomes), str(split["target"]), "-Oz", "-o", str(renamed)],
        check=True,
    )
    unphased = tmp_path / "unphased.vcf"
    unphased.write_text(read_text(split["target"]).replace("|", "/"))
    cases = [
        (["--target", renamed], {}, "no chromosome is in every input (the target has 7; the panel set has 22"),
        (["--target", unphased, "--engine", "minimac4"], {}, "is unphased; minimac4 needs a phased target"),
        (["--target", split["target"]], {"BEAGLE_JAR": str(tmp_path / "none.jar")}, "BEAGLE_JAR names"),
        (["--target", split["target"], "--keep-every", "1"], {}, "--keep-every must be >= 2"),
    ]
    for extra, env, message in cases:
        out = tmp_path / "out"
        result = run_genosynth(
            "impute-augment",
            "--panel",
            split["panel"],
            "--synthetic",
            split["own"],
            *extra,
            "-o",
            out,
            check=False,
            env=env,
        )
        assert result.returncode == 1, result.stderr
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1, result.stderr
        assert not (out / "impute.json").exists() and not (out / "augmented_panel.vcf.gz").exists()


def test_array_sites_file_and_bad_memory(split, tmp_path):
    lines = [line.split("\t")[:2] for line in read_text(split["target"]).splitlines() if not line.startswith("#")]
    array = tmp_path / "array.tsv"
    array.write_text("#CHROM\tPOS\n" + "".join(f"{c}\t{p}\n" for c, p in lines[::7]))
    out = tmp_path / "array_run"
    run_genosynth(
        "impute-augment",
        "--panel",
        split["panel"],
        "--synthetic",
        split["own"],
        "--target",
        split["target"],
        "--array-sites",
        array,
        "-o",
        out,
        "--seed",
        "1",
        "--memory",
        "1g",
    )
    result = json.loads((out / "impute.json").read_text())
    assert result["array_sites"] == len(lines[::7]) and result["scored_sites"] == result["common_sites"] - len(
        lines[::7]
    )
    bad = run_genosynth(
        "impute-augment",
        "--panel",
        split["panel"],
        "--synthetic",
        split["own"],
        "--target",
        split["target"],
        "--memory",
        "lots",
        "-o",
        tmp_path / "bad",
        check=False,
    )
    assert bad.returncode == 1 and "--memory 'lots': expected a size such as 2g or 500m" in bad.stderr


def _conda_like_prefix(tmp_path):
    """A conda/bioconda-style environment: PREFIX/bin/beagle (a wrapper) and PREFIX/share/beagle-5.4-0/beagle.jar
    (a copy of the Debian jar), PREFIX/bin/java linked to the real one."""
    import os
    import shutil

    from genosynth.io.beagle import DEBIAN_BEAGLE_JAR

    prefix = tmp_path / "env"
    (prefix / "bin").mkdir(parents=True)
    (prefix / "share" / "beagle-5.4-0").mkdir(parents=True)
    shutil.copy(DEBIAN_BEAGLE_JAR, prefix / "share" / "beagle-5.4-0" / "beagle.jar")
    wrapper = prefix / "bin" / "beagle"
    wrapper.write_text('#!/bin/sh\nexec java -jar "$(dirname "$0")/../share/beagle-5.4-0/beagle.jar" "$@"\n')
    wrapper.chmod(0o755)
    os.symlink(os.path.realpath(shutil.which("java")), prefix / "bin" / "java")
    return prefix


def test_beagle_and_java_are_found_where_conda_installs_them(split, tmp_path):
    """A fresh Python whose PATH holds only a conda-like prefix (no Debian jar named, no BEAGLE_JAR) finds Beagle's
    jar beside the `beagle` wrapper and java on PATH, and the jar runs; without java, one line names it."""
    import os
    import subprocess
    import sys

    prefix = _conda_like_prefix(tmp_path)
    code = (
        "from genosynth.versions import software_version; from genosynth.io.beagle import require_beagle; "
        "java, jar = require_beagle('test'); print(java); print(jar); print(software_version('beagle'))"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("BEAGLE_JAR", "JAVA_HOME")}
    found = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "PATH": str(prefix / "bin")},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.splitlines()
    assert found[0] == str(prefix / "bin" / "java")
    assert found[1] == str(prefix / "share" / "beagle-5.4-0" / "beagle.jar")
    assert found[2].startswith("5.")  # the banner's version: the conda jar ran
    (prefix / "bin" / "java").unlink()
    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "genosynth",
            "impute-augment",
            "--panel",
            str(split["panel"]),
            "--synthetic",
            str(split["own"]),
            "--target",
            str(split["target"]),
            "-o",
            str(tmp_path / "out"),
        ],
        env={**env, "PATH": str(prefix / "bin")},
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 1 and len(missing.stderr.strip().splitlines()) == 1
    assert "java not found" in missing.stderr and "Traceback" not in missing.stderr
    assert not (tmp_path / "out").exists()
    broken = subprocess.run(
        [sys.executable, "-c", code],
        env={**env, "BEAGLE_JAR": str(tmp_path / "none.jar")},
        capture_output=True,
        text=True,
    )
    assert broken.returncode != 0 and "BEAGLE_JAR names" in broken.stderr
