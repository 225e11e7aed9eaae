"""vcf-to-matrix and export on real files: simulated VCFs, the real 1000 Genomes .hapt data, Beagle phasing."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import numpy as np
import pytest
from conftest import read_text, require_programs, run_genosynth
from genosynth.io.hdf5 import read_matrix
from hypothesis import given, settings
from hypothesis import strategies as st


def _genotype_lines(vcf_text: str) -> list[str]:
    """CHROM POS REF ALT and the genotype columns of every data line."""
    rows = []
    for line in vcf_text.splitlines():
        if line.startswith("#"):
            continue
        f = line.split("\t")
        rows.append("\t".join([f[0], f[1], f[3], f[4], *f[9:]]))
    return rows


def _header_samples(vcf_text: str) -> list[str]:
    line = next(x for x in vcf_text.splitlines() if x.startswith("#CHROM"))
    return line.split("\t")[9:]


def test_matches_scikit_allel_on_simulated_vcf(simulated, tmp_path):
    import allel

    run_genosynth("vcf-to-matrix", simulated["vcf_gz"], "-o", tmp_path / "m.h5")
    matrix = read_matrix(tmp_path / "m.h5")
    data = allel.read_vcf(
        str(simulated["vcf"]),
        fields=["samples", "variants/POS", "variants/REF", "variants/ALT", "variants/numalt", "calldata/GT"],
        alt_number=2,
    )
    snp = (data["variants/numalt"] == 1) & np.array([len(r) == 1 for r in data["variants/REF"]])
    gt = allel.GenotypeArray(data["calldata/GT"][snp])
    haplotypes = gt.to_haplotypes()
    polymorphic = (haplotypes.sum(axis=1) > 0) & (haplotypes.sum(axis=1) < haplotypes.shape[1])
    np.testing.assert_array_equal(matrix.sites.pos, data["variants/POS"][snp][polymorphic])
    np.testing.assert_array_equal(matrix.haplotypes, np.asarray(haplotypes[polymorphic]).T.astype(np.uint8))
    np.testing.assert_array_equal(matrix.samples, data["samples"])
    record = matrix.provenance[-1]
    assert record["step"] == "vcf-to-matrix" and record["inputs"][0]["sha256"]
    assert record["summary"]["records_dropped"].get("multiallelic", 0) == int((data["variants/numalt"] > 1).sum())


def test_vcf_round_trip_reproduces_sites_samples_and_genotypes(simulated, tmp_path):
    require_programs("bgzip", "tabix")
    run_genosynth("vcf-to-matrix", simulated["vcf_gz"], "-o", tmp_path / "a.h5", "--keep-monomorphic")
    run_genosynth("export", tmp_path / "a.h5", "-o", tmp_path / "a.vcf.gz")
    assert (tmp_path / "a.vcf.gz.tbi").is_file()
    original, exported = read_text(simulated["vcf"]), read_text(tmp_path / "a.vcf.gz")
    biallelic_snps = [
        r
        for r in _genotype_lines(original)
        if re.fullmatch(r"[ACGT]", r.split("\t")[2]) and re.fullmatch(r"[ACGT]", r.split("\t")[3])
    ]
    assert _genotype_lines(exported) == biallelic_snps
    assert _header_samples(exported) == _header_samples(original)
    run_genosynth("vcf-to-matrix", tmp_path / "a.vcf.gz", "-o", tmp_path / "b.h5", "--keep-monomorphic")
    a, b = read_matrix(tmp_path / "a.h5"), read_matrix(tmp_path / "b.h5")
    np.testing.assert_array_equal(a.haplotypes, b.haplotypes)
    np.testing.assert_array_equal(a.sites.pos, b.sites.pos)
    np.testing.assert_array_equal(a.sites.alt, b.sites.alt)
    assert [r["step"] for r in b.provenance] == ["vcf-to-matrix", "export", "vcf-to-matrix"]


def test_1000g_hapt_round_trip_is_exact(data_805, tmp_path):
    run_genosynth(
        "vcf-to-matrix",
        data_805["hapt"],
        "--legend",
        data_805["legend"],
        "-o",
        tmp_path / "a.h5",
        "--keep-monomorphic",
        "--populations",
        data_805["samples"],
        "--population-column",
        "Population code",
    )
    a = read_matrix(tmp_path / "a.h5")
    assert a.haplotypes.shape == (5008, 805) and a.label == "Real"
    assert dict(zip(a.samples, a.populations))["HG00096"] == "GBR"
    # rs1426654 (15:48426484 A/G): allele G is near fixed in EAS, rare in EUR (data README)
    column = int(np.flatnonzero(a.sites.pos == 48426484)[0])
    eur = np.isin(a.haplotype_population, ["GBR", "CEU", "FIN", "IBS", "TSI"])
    assert a.haplotypes[eur, column].mean() < 0.01
    run_genosynth("export", tmp_path / "a.h5", "-o", tmp_path / "a.vcf.gz")
    run_genosynth("vcf-to-matrix", tmp_path / "a.vcf.gz", "-o", tmp_path / "b.h5", "--keep-monomorphic")
    run_genosynth("export", tmp_path / "b.h5", "-o", tmp_path / "b.hapt.gz")
    assert read_text(tmp_path / "b.hapt.gz") == read_text(data_805["hapt"])
    assert read_text(tmp_path / "b.legend") == read_text(data_805["legend"])
    b = read_matrix(tmp_path / "b.h5")
    np.testing.assert_array_equal(b.populations, a.populations)  # labels survive VCF via ##SAMPLE lines


def test_paper_artificial_genomes_are_haploid_rows(data_805, tmp_path):
    run_genosynth(
        "vcf-to-matrix",
        data_805["paper_gan"],
        "--legend",
        data_805["legend"],
        "-o",
        tmp_path / "ag.h5",
        "--keep-monomorphic",
    )
    ag = read_matrix(tmp_path / "ag.h5")
    assert ag.label == "AG" and ag.n_haplotypes == 5000 and (ag.ploidy == 1).all() and ag.samples[0] == "AG0"
    run_genosynth("export", tmp_path / "ag.h5", "-o", tmp_path / "ag.vcf")
    first = next(line for line in read_text(tmp_path / "ag.vcf").splitlines() if not line.startswith("#"))
    assert all(g in ("0", "1") for g in first.split("\t")[9:])  # haploid samples stay haploid


def test_holdout_splits_by_individual_and_stratifies(simulated, tmp_path):
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "train.h5",
        "--populations",
        simulated["populations"],
        "--holdout",
        "0.25",
        "--holdout-output",
        tmp_path / "holdout.h5",
        "--seed",
        5,
    )
    train, holdout = read_matrix(tmp_path / "train.h5"), read_matrix(tmp_path / "holdout.h5")
    assert not set(train.samples) & set(holdout.samples)
    assert len(train.samples) + len(holdout.samples) == 60
    for population in ("YRI", "CEU", "CHB"):
        assert (holdout.populations == population).sum() == 5 and (train.populations == population).sum() == 15
    np.testing.assert_array_equal(train.sites.pos, holdout.sites.pos)
    assert train.provenance[-1]["role"] == "train" and holdout.provenance[-1]["role"] == "holdout"
    assert train.provenance[-1]["seed"] == 5
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "again.h5",
        "--populations",
        simulated["populations"],
        "--holdout",
        "0.25",
        "--holdout-output",
        tmp_path / "again_h.h5",
        "--seed",
        5,
    )
    np.testing.assert_array_equal(read_matrix(tmp_path / "again.h5").samples, train.samples)


def test_region_and_sample_subsetting(simulated, tmp_path):
    full = tmp_path / "full.h5"
    run_genosynth("vcf-to-matrix", simulated["vcf_gz"], "-o", full, "--keep-monomorphic")
    (tmp_path / "keep.txt").write_text("# wanted\nCHB_3\tEast Asian\n\n  YRI_0\n")  # first fields; no comments
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        tmp_path / "part.h5",
        "--keep-monomorphic",
        "--region",
        "22:15100001-15200000",
        "--samples",
        tmp_path / "keep.txt",
    )
    part, whole = read_matrix(tmp_path / "part.h5"), read_matrix(full)
    assert part.samples.tolist() == ["YRI_0", "CHB_3"]  # file order
    inside = (whole.sites.pos >= 15100001) & (whole.sites.pos <= 15200000)
    np.testing.assert_array_equal(part.sites.pos, whole.sites.pos[inside])
    rows = np.concatenate([np.flatnonzero(whole.haplotype_sample == s) for s in ["YRI_0", "CHB_3"]])
    np.testing.assert_array_equal(part.haplotypes, whole.haplotypes[rows][:, inside])


def test_min_maf_and_dropped_records_are_counted(tmp_path):
    vcf = tmp_path / "mixed.vcf"
    vcf.write_text(
        _vcf(
            [
                "1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|0",  # kept, MAF 0.25
                "1\t20\t.\tA\tG,T\t.\t.\t.\tGT\t0|1\t2|0",  # multiallelic
                "1\t30\t.\tAT\tA\t.\t.\t.\tGT\t0|1\t1|0",  # indel
                "1\t40\t.\tA\t<DEL>\t.\t.\t.\tGT\t0|1\t1|0",  # symbolic
                "1\t50\t.\tC\tT\t.\t.\t.\tGT\t0|0\t0|0",  # monomorphic
                "1\t60\t.\tC\tT\t.\t.\t.\tGT\t1|1\t0|1",
            ]
        )
    )  # kept, MAF 0.25
    run_genosynth("vcf-to-matrix", vcf, "-o", tmp_path / "m.h5")
    m = read_matrix(tmp_path / "m.h5")
    assert m.sites.pos.tolist() == [10, 60]
    assert m.provenance[-1]["summary"]["records_dropped"] == {
        "indel_or_mnp": 1,
        "monomorphic": 1,
        "multiallelic": 1,
        "symbolic_allele": 1,
    }
    result = run_genosynth("vcf-to-matrix", vcf, "-o", tmp_path / "none.h5", "--min-maf", "0.3", check=False)
    assert result.returncode == 1 and "no sites left after filtering" in result.stderr
    assert not (tmp_path / "none.h5").exists()


def test_haploid_calls_are_one_haplotype_each(tmp_path):
    vcf = tmp_path / "x.vcf"
    vcf.write_text(_vcf(["X\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1", "X\t20\t.\tC\tT\t.\t.\t.\tGT\t1|1\t0"]))
    run_genosynth("vcf-to-matrix", vcf, "-o", tmp_path / "m.h5")
    m = read_matrix(tmp_path / "m.h5")
    assert m.ploidy.tolist() == [2, 1] and m.haplotypes.tolist() == [[0, 1], [1, 1], [1, 0]]
    run_genosynth("export", tmp_path / "m.h5", "-o", tmp_path / "back.vcf")
    assert _genotype_lines(read_text(tmp_path / "back.vcf")) == ["X\t10\tA\tG\t0|1\t1", "X\t20\tC\tT\t1|1\t0"]


def test_vcf_writer_records_contig_lengths_that_htslib_reads_back(tmp_path):
    from genosynth.io.matrix import Sites
    from genosynth.io.vcf import VcfSource, VcfWriter

    require_programs("bgzip", "tabix")
    path = tmp_path / "w.vcf.gz"
    sites = Sites(
        chrom=np.array(["1", "2"]),
        pos=np.array([5, 7]),
        id=np.array([".", "."]),
        ref=np.array(["A", "C"]),
        alt=np.array(["G", "T"]),
    )
    with VcfWriter(
        path,
        samples=np.array(["s"]),
        ploidy=np.array([2], np.int8),
        populations=np.array([""]),
        label="AG",
        provenance=[],
        contigs=["1", "2"],
        contig_lengths={"1": 1000},
        bgzip=True,
    ) as writer:
        writer.append(sites, np.array([[0, 1], [1, 1]], np.uint8))
    assert VcfSource(path).contig_lengths() == {"1": 1000, "2": None}


def test_phase_with_beagle_phases_and_fills_missing_calls(simulated, tmp_path):
    require_programs("java")
    lines = read_text(simulated["vcf"]).splitlines()
    data = [i for i, line in enumerate(lines) if not line.startswith("#")][:400]
    out = lines[: data[0]]
    for k, i in enumerate(data):
        fields = lines[i].split("\t")
        genotypes = [g.replace("|", "/") for g in fields[9:]]
        if k == 50:
            genotypes[3] = "./."
        out.append("\t".join(fields[:9] + genotypes))
    unphased = tmp_path / "unphased.vcf"
    unphased.write_text("\n".join(out) + "\n")
    refused = run_genosynth("vcf-to-matrix", unphased, "-o", tmp_path / "m.h5", check=False)
    assert refused.returncode == 1 and "unphased genotype for sample" in refused.stderr
    run_genosynth("vcf-to-matrix", unphased, "-o", tmp_path / "m.h5", "--phase", "--seed", "3", "--beagle-memory", "1g")
    run_genosynth("vcf-to-matrix", simulated["vcf"], "-o", tmp_path / "truth.h5", "--keep-monomorphic")
    phased, truth = read_matrix(tmp_path / "m.h5"), read_matrix(tmp_path / "truth.h5")
    common = np.isin(truth.sites.pos, phased.sites.pos)
    truth_rows = truth.haplotypes[:, common]
    assert phased.samples.tolist() == truth.samples.tolist()
    # genotypes (allele sums per individual) must equal the input's wherever the input had a call
    assert phased.n_sites == int(common.sum())
    dosage = phased.haplotypes[0::2] + phased.haplotypes[1::2]
    expected = truth_rows[0::2] + truth_rows[1::2]
    mismatch = dosage != expected
    assert mismatch.sum() <= 1  # only the one missing call may be imputed differently


@pytest.mark.parametrize("kind", ["bgzip_without_suffix", "bcf"])
def test_phase_reads_what_beagle_cannot(simulated, tmp_path, kind):
    """Beagle tells gzip by the name and reads no BCF: a Galaxy-style .dat bgzipped VCF and a BCF still phase."""
    require_programs("java", "bcftools")
    source = tmp_path / "input.dat"
    if kind == "bgzip_without_suffix":
        shutil.copyfile(simulated["vcf_gz"], source)
    else:
        subprocess.run(["bcftools", "view", "-Ob", "-o", str(source), str(simulated["vcf_gz"])], check=True)
    run_genosynth("vcf-to-matrix", source, "-o", tmp_path / "m.h5", "--phase", "--seed", "1", "--beagle-memory", "1g")
    assert read_matrix(tmp_path / "m.h5").n_sites > 100


def _vcf(rows: list[str], samples: tuple[str, ...] = ("s1", "s2"), header: bool = True) -> str:
    head = [
        "##fileformat=VCFv4.2",
        "##contig=<ID=1>",
        "##contig=<ID=X>",
        '##FORMAT=<ID=GT,Number=1,Type=String,Description="Genotype">',
    ]
    if header:
        head.append("\t".join(["#CHROM", "POS", "ID", "REF", "ALT", "QUAL", "FILTER", "INFO", "FORMAT", *samples]))
    return "\n".join(head + rows) + "\n"


GOOD = ["1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\t0|0", "1\t20\t.\tC\tT\t.\t.\t.\tGT\t1|1\t0|1"]


def _bad_inputs(tmp_path):
    """(name, argv after 'vcf-to-matrix', expected message) for every bad input the issue lists."""
    import subprocess

    cases = []
    good = tmp_path / "good.vcf"
    good.write_text(_vcf(GOOD))
    truncated = tmp_path / "truncated.vcf.gz"
    big = _vcf([f"1\t{10 + i}\t.\tA\tG\t.\t.\t.\tGT\t0|1\t1|0" for i in range(20000)])
    compressed = subprocess.run(["bgzip", "-c"], input=big.encode(), capture_output=True, check=True).stdout
    truncated.write_bytes(compressed[: len(compressed) // 2])
    files = {
        "no_header.vcf": _vcf(GOOD, header=False),
        "unsorted.vcf": _vcf(GOOD[::-1]),
        "unphased.vcf": _vcf(["1\t10\t.\tA\tG\t.\t.\t.\tGT\t0/1\t0|0"]),
        "missing.vcf": _vcf(["1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|1\t.|."]),
        "monomorphic.vcf": _vcf(["1\t10\t.\tA\tG\t.\t.\t.\tGT\t0|0\t0|0"]),
        "pops.tsv": "s1\tYRI\n",
        "want.txt": "s1\nnobody\n",
        "bad.legend": "id position a0 a1\n1:10_A_G 10 A G\n",
        "short.hapt": "Real s1_A 0 1\n",
        "short_row.tsv": "## from IGSR\n\ns1\tYRI\ns2\n",
        "reversed.bed": "track name=windows\n1\t0\t15\n1\t30\t20\n",
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    (tmp_path / "binary.txt").write_bytes(b"s1\n\xff\xfe\n")
    (tmp_path / "binary.bed").write_bytes(b"1\t0\t15\n1\t15\t30\n\x89PNG\n")
    (tmp_path / "old_mac.txt").write_bytes(b"s1\rs2\r\xe9\r")  # Latin-1 text with CR line ends
    p = tmp_path
    cases += [
        ("unreadable", [p / "absent.vcf"], r"absent\.vcf: no such file"),
        ("truncated", [truncated], r"truncated\.vcf\.gz: .*(truncated|corrupt)"),
        ("no #CHROM", [p / "no_header.vcf"], r"no_header\.vcf: missing the '#CHROM' header line"),
        ("unsorted", [p / "unsorted.vcf"], r"unsorted\.vcf: site 1:10: positions are not sorted"),
        ("unphased", [p / "unphased.vcf"], r"unphased\.vcf: record 1:10: unphased genotype for sample s1"),
        ("missing call", [p / "missing.vcf"], r"missing\.vcf: record 1:10: missing genotype call for sample s2"),
        (
            "samples not found",
            [good, "--samples", p / "want.txt"],
            r"good\.vcf: 1 requested sample\(s\) not in the file: nobody",
        ),
        (
            "population missing",
            [good, "--populations", p / "pops.tsv"],
            r"pops\.tsv: 1 sample\(s\) missing from the population table: s2",
        ),
        (
            "population row",
            [good, "--populations", p / "short_row.tsv"],
            r"short_row\.tsv: line 4: expected at least 2 tab-separated columns",
        ),
        ("sample list not text", [good, "--samples", p / "binary.txt"], r"binary\.txt: line 2: not UTF-8 text"),
        ("CR lines not text", [good, "--samples", p / "old_mac.txt"], r"old_mac\.txt: line 3: not UTF-8 text"),
        (
            "bad window",
            [good, "--window-starts", p / "reversed.bed", "--windows-output", p / "out" / "w.bed"],
            r"reversed\.bed: line 3: expected CHROM<TAB>START<TAB>END with 0 <= START < END",
        ),
        (
            "windows not text",
            [good, "--window-starts", p / "binary.bed", "--windows-output", p / "out" / "w.bed"],
            r"binary\.bed: line 3: not UTF-8 text",
        ),
        ("empty after filtering", [p / "monomorphic.vcf"], r"monomorphic\.vcf: no sites left after filtering"),
        ("region without index", [good, "--region", "1:1-100"], r"good\.vcf: reading a region needs an index"),
        (
            "hapt value count",
            [p / "short.hapt", "--legend", p / "bad.legend"],
            r"short\.hapt: line 1: 2 values, but legend .* lists 1 sites",
        ),
        ("usage", [good, "--min-maf", "0.7"], r"--min-maf must be in \[0, 0\.5\]"),
        ("missing -o", [good], r"the following arguments are required: -o/--output"),
    ]
    return cases


@pytest.mark.parametrize("index", range(18))
def test_bad_input_exits_1_with_one_line_and_no_output(tmp_path, index):
    require_programs("bgzip")
    name, argv, pattern = _bad_inputs(tmp_path)[index]
    out = tmp_path / "out" / "m.h5"
    out.parent.mkdir()
    args = ["vcf-to-matrix", *argv] + (["-o", out] if name != "missing -o" else [])
    result = run_genosynth(*args, check=False)
    assert result.returncode == 1, (name, result.stderr)
    lines = [line for line in result.stderr.splitlines() if "error" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert re.search(pattern, lines[0]), (name, lines[0])
    assert list(out.parent.iterdir()) == [], f"{name}: left {list(out.parent.iterdir())}"


def test_an_output_that_cannot_be_written_is_one_line(simulated, tmp_path):
    run_genosynth("vcf-to-matrix", simulated["vcf_gz"], "-o", tmp_path / "m.h5")
    result = run_genosynth("export", tmp_path / "m.h5", "-o", tmp_path / "missing" / "m.vcf", check=False)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.strip() == (
        f"genosynth export: error: {tmp_path / 'missing' / 'm.vcf'}: the folder "
        f"{tmp_path / 'missing'} does not exist (--output)"
    )


def test_export_rejects_unknown_suffix_and_non_matrix(tmp_path):
    (tmp_path / "x.h5").write_text("plain text")
    result = run_genosynth("export", tmp_path / "x.h5", "-o", tmp_path / "y.vcf", check=False)
    assert result.returncode == 1 and "x.h5: not a genosynth haplotype matrix" in result.stderr
    result = run_genosynth("export", tmp_path / "x.h5", "-o", tmp_path / "y.csv", check=False)
    assert result.returncode == 1 and "unknown output type" in result.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["x.h5"]


def test_every_step_has_its_own_executable_with_defaults_in_help():
    import subprocess
    import sys
    from pathlib import Path

    bin_dir = Path(sys.executable).parent
    for step in ("vcf-to-matrix", "export"):
        exe = bin_dir / f"genosynth-{step}"
        assert exe.is_file(), f"genosynth-{step} not installed"
        help_text = subprocess.run([exe, "-h"], capture_output=True, text=True, check=True).stdout
        assert "--output" in help_text
    help_text = subprocess.run([bin_dir / "genosynth-vcf-to-matrix", "-h"], capture_output=True, text=True).stdout
    assert "(default: 0.0)" in help_text and "(default: 2g)" in help_text


@pytest.mark.parametrize(
    "signal_name, code, message", [("SIGTERM", 143, "terminated (SIGTERM)"), ("SIGINT", 130, "interrupted")]
)
def test_interrupted_write_leaves_no_file(simulated, tmp_path, signal_name, code, message):
    import signal
    import subprocess
    import sys
    import time

    out = tmp_path / "m.h5"
    # SIGINT at its default, as a terminal's Ctrl-C finds it: a process started with SIGINT ignored (a background
    # job of a non-interactive shell) keeps ignoring it, as it should
    process = subprocess.Popen(
        [sys.executable, "-m", "genosynth", "vcf-to-matrix", str(simulated["vcf"]), "-o", str(out), "--phase"],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert "phasing" in process.stderr.readline()  # Beagle has started: interrupt it mid-run
    time.sleep(0.3)
    process.send_signal(getattr(signal, signal_name))
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == code and message in stderr
    assert list(tmp_path.iterdir()) == [], stderr


def test_provenance_is_schema_versioned_json_with_checksums_and_no_private_paths(simulated, tmp_path):
    import hashlib

    import h5py

    out = tmp_path / "private" / "folder" / "m.h5"
    out.parent.mkdir(parents=True)
    run_genosynth(
        "vcf-to-matrix",
        simulated["vcf_gz"],
        "-o",
        out,
        "--seed",
        "9",
        "--min-maf",
        "0.05",
        "--populations",
        simulated["populations"],
    )
    with h5py.File(out) as handle:  # the stored attribute itself, as other HDF5 tools see it
        stored = handle.attrs["provenance"]
    record = json.loads(stored)[-1]
    assert record["schema_version"] == 2 and record["step"] == "vcf-to-matrix" and record["seed"] == 9
    assert record["software"]["name"] == "genosynth" and record["parameters"]["min_maf"] == 0.05
    assert record["inputs"][0] == {
        "name": "sim.vcf.gz",
        "sha256": hashlib.sha256(simulated["vcf_gz"].read_bytes()).hexdigest(),
    }
    assert record["inputs"][1]["name"] == simulated["populations"].name
    assert record["command"][:2] == ["genosynth", "vcf-to-matrix"] and "m.h5" in record["command"]
    assert str(tmp_path) not in stored and "/private/" not in stored  # shared files carry no private paths


def test_parallel_reading_of_a_bcf_by_position_range_equals_sequential_text_reading(simulated, tmp_path, monkeypatch):
    from genosynth.cli import main
    from genosynth.io import convert

    require_programs("bcftools")
    bcf = tmp_path / "sim.bcf"
    subprocess.run(["bcftools", "view", "-Ob", "-o", str(bcf), str(simulated["vcf_gz"])], check=True)
    subprocess.run(["bcftools", "index", str(bcf)], check=True)
    monkeypatch.setattr(convert, "_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(convert, "_PIECE_BYTES", 16 << 10)  # many pieces, more than in flight at once
    outputs = {}
    for name, source, threads in (("text", simulated["vcf_gz"], 1), ("bcf", bcf, 2)):
        out = tmp_path / f"{name}.h5"
        with pytest.raises(SystemExit) as exit_info:
            main(
                [
                    "vcf-to-matrix",
                    str(source),
                    "-o",
                    str(out),
                    "--threads",
                    str(threads),
                    "--populations",
                    str(simulated["populations"]),
                    "--holdout",
                    "0.2",
                    "--holdout-output",
                    str(tmp_path / f"h{name}.h5"),
                    "--seed",
                    "2",
                ]
            )
        assert exit_info.value.code == 0
        outputs[name] = read_matrix(out), read_matrix(tmp_path / f"h{name}.h5")
    assert len(convert._parallel_regions(convert.VcfSource(bcf), threads=2, region=None)) > 3
    for one, two in zip(outputs["text"], outputs["bcf"]):
        np.testing.assert_array_equal(one.haplotypes, two.haplotypes)
        np.testing.assert_array_equal(one.sites.pos, two.sites.pos)
        np.testing.assert_array_equal(one.samples, two.samples)
        for key in ("sites_written", "records_dropped"):
            assert one.provenance[-1]["summary"][key] == two.provenance[-1]["summary"][key]


def test_sample_list_with_a_repeated_name_is_refused(tmp_path):
    (tmp_path / "good.vcf").write_text(_vcf(GOOD))
    (tmp_path / "want.txt").write_text("s1\ns2\ns1\n")
    result = run_genosynth(
        "vcf-to-matrix", tmp_path / "good.vcf", "--samples", tmp_path / "want.txt", "-o", tmp_path / "m.h5", check=False
    )
    assert result.returncode == 1 and "want.txt: sample s1 is listed more than once" in result.stderr
    assert not (tmp_path / "m.h5").exists()


def _read_source(path, **options):
    """Everything VcfSource yields for ``path``: (positions, rows, dropped counts), or its one error line."""
    from genosynth._infra.errors import InputError
    from genosynth.io.vcf import VcfSource

    try:
        source = VcfSource(path, **options)
        chunks = list(source.chunks())
    except InputError as err:
        return str(err).replace(str(path), "FILE")
    positions = [int(p) for sites, _ in chunks for p in sites.pos]
    rows = np.concatenate([rows for _, rows in chunks]) if chunks else np.empty((0, int(source.ploidy.sum())))
    return positions, rows.tolist(), dict(source.dropped), source.ploidy.tolist()


_CALL_KINDS = ["phased"] * 6 + ["unphased", "missing", "haploid", "diploid", "other_format", "index_over_9"]
_ALLELE_KINDS = [("C", "T")] * 5 + [("A", "G,T"), ("AT", "A"), ("A", "<DEL>"), ("A", "*")]


@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_text_reading_equals_htslib_on_the_same_records_as_bcf(tmp_path_factory, data):
    """Property: the numpy text decoder (block templates + field-by-field fallback) and cyvcf2 reading the same
    records converted to BCF by bcftools give the same sites, haplotypes, drop counts and the same error line,
    whole file or a region, all samples or a subset, with blocks cut smaller than one line."""
    import genosynth.io.vcf_text as vcf_text

    require_programs("bgzip", "tabix", "bcftools")
    tmp = tmp_path_factory.mktemp("vcftext")
    n_samples = data.draw(st.integers(1, 5))
    ploidy = data.draw(st.lists(st.sampled_from([1, 2]), min_size=n_samples, max_size=n_samples))
    rows, pos = [], 0
    for _ in range(data.draw(st.integers(1, 25))):
        pos += data.draw(st.integers(1, 30))
        ref, alt = data.draw(st.sampled_from(_ALLELE_KINDS))
        kinds = data.draw(st.lists(st.sampled_from(_CALL_KINDS), min_size=n_samples, max_size=n_samples))
        calls = []
        for p, kind in zip(ploidy, kinds):
            a, b = data.draw(st.sampled_from("01")), data.draw(st.sampled_from("01"))
            call = {
                "phased": f"{a}|{b}" if p == 2 else a,
                "unphased": f"{a}/{b}" if p == 2 else a,
                "missing": ".|." if p == 2 else ".",
                "haploid": a,
                "diploid": f"{a}|{b}",
                "other_format": f"{a}|{b}" if p == 2 else a,
                "index_over_9": f"1{a}|{b}" if p == 2 else f"1{a}",
            }[kind]
            calls.append(call)
        extra = any(k == "other_format" for k in kinds)
        fields = ["1", str(pos), ".", ref, alt, ".", "PASS", ".", "GT:DS" if extra else "GT"]
        rows.append("\t".join(fields + [c + (":0.5" if extra else "") for c in calls]))
    names = tuple(f"s{i}" for i in range(n_samples))
    text = _vcf(rows, samples=names).replace("##contig=<ID=1>", "##contig=<ID=1,length=100000>")
    text = text.replace("##FORMAT=<ID=GT", '##FORMAT=<ID=DS,Number=1,Type=Float,Description="Dosage">\n##FORMAT=<ID=GT')
    plain = tmp / "in.vcf"
    plain.write_text(text)
    gz, bcf = tmp / "in.vcf.gz", tmp / "in.bcf"
    subprocess.run(["bgzip", "-k", str(plain)], check=True)
    subprocess.run(["tabix", "-p", "vcf", str(gz)], check=True)
    subprocess.run(
        ["bcftools", "view", "--no-version", "-Ob", "-o", str(bcf), str(gz)], check=True, capture_output=True
    )
    subprocess.run(["bcftools", "index", str(bcf)], check=True)
    options = {}
    if data.draw(st.booleans()):
        options["samples"] = sorted(data.draw(st.sets(st.sampled_from(names), min_size=1)))
    if data.draw(st.booleans()):
        lo = data.draw(st.integers(1, pos))
        options["region"] = f"1:{lo}-{data.draw(st.integers(lo, pos + 5))}"
        options["allow_empty"] = True
    block = data.draw(st.sampled_from([7, 64, 1 << 24]))
    expected = _read_source(bcf, **options)
    original = vcf_text.BLOCK_BYTES
    try:
        vcf_text.BLOCK_BYTES = block
        for path in [gz] if "region" in options else [plain, gz]:
            assert _read_source(path, **options) == expected, (path.name, options, text)
    finally:
        vcf_text.BLOCK_BYTES = original
