"""The haplotype matrix file: exact round trips, validation on read, and site-range reads that touch only the range."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from genosynth._infra.errors import InputError, OptionError
from genosynth.io.hdf5 import read_matrix, write_matrix
from genosynth.io.matrix import HaplotypeMatrix, Sites
from genosynth.io.regions import Region
from hypothesis import given, settings
from hypothesis import strategies as st


def _matrix(ploidy: list[int], n_sites: int, seed: int = 0, chroms: tuple[str, ...] = ("1",)) -> HaplotypeMatrix:
    rng = np.random.default_rng(seed)
    per_chrom = -(-n_sites // len(chroms))
    chrom = np.array([c for c in chroms for _ in range(per_chrom)][:n_sites])
    pos = np.concatenate(
        [np.sort(rng.choice(np.arange(1, 10**6), size=(chrom == c).sum(), replace=False)) for c in chroms]
    )
    sites = Sites(
        chrom,
        pos.astype(np.int64),
        np.array([f"rs{i}" for i in range(n_sites)]),
        rng.choice(list("AC"), n_sites),
        rng.choice(list("GT"), n_sites),
    )
    return HaplotypeMatrix(
        haplotypes=rng.integers(0, 2, size=(sum(ploidy), n_sites), dtype=np.uint8),
        sites=sites,
        samples=np.array([f"s{i}" for i in range(len(ploidy))]),
        ploidy=np.array(ploidy, dtype=np.int8),
        populations=np.array([["YRI", "CEU", ""][i % 3] for i in range(len(ploidy))]),
        provenance=[{"step": "test", "seed": seed}],
        label="AG",
    )


def assert_same(a: HaplotypeMatrix, b: HaplotypeMatrix) -> None:
    np.testing.assert_array_equal(a.haplotypes, b.haplotypes)
    for name in ("chrom", "pos", "id", "ref", "alt"):
        np.testing.assert_array_equal(getattr(a.sites, name), getattr(b.sites, name))
    np.testing.assert_array_equal(a.samples, b.samples)
    np.testing.assert_array_equal(a.ploidy, b.ploidy)
    np.testing.assert_array_equal(a.populations, b.populations)


@settings(max_examples=25, deadline=None)
@given(
    ploidy=st.lists(st.sampled_from([1, 2]), min_size=1, max_size=12),
    n_sites=st.integers(1, 60),
    seed=st.integers(0, 1000),
)
def test_round_trip_is_exact_for_any_ploidy_mix(tmp_path_factory, ploidy, n_sites, seed):
    matrix = _matrix(ploidy, n_sites, seed, chroms=("1", "2"))
    path = tmp_path_factory.mktemp("rt") / "m.h5"
    write_matrix(path, matrix)
    back = read_matrix(path)
    assert_same(matrix, back)
    assert back.provenance == matrix.provenance and back.label == "AG"
    np.testing.assert_array_equal(back.haplotype_index, np.concatenate([np.arange(p) for p in ploidy]))


def test_file_is_readable_as_scikit_allel_layout(tmp_path):
    import allel

    matrix = _matrix([2, 2, 1], 30)
    write_matrix(tmp_path / "m.h5", matrix)
    with h5py.File(tmp_path / "m.h5") as handle:
        gt = allel.GenotypeArray(handle["calldata/GT"][:])
        pos = handle["variants/POS"][:]
    assert gt.shape == (30, 3, 2)
    np.testing.assert_array_equal(pos, matrix.sites.pos)
    np.testing.assert_array_equal(gt[:, 0, 1], matrix.haplotypes[1])
    assert (gt[:, 2, 1] == -1).all()  # the haploid sample's unused slot


def test_region_read_touches_only_the_region(tmp_path):
    matrix = _matrix([2] * 4, 5000)
    path = tmp_path / "m.h5"
    write_matrix(path, matrix)
    with h5py.File(path, "r+") as handle:  # corrupt a site far outside the region
        handle["calldata/GT"][4990, 0, 0] = 7
    lo, hi = int(matrix.sites.pos[100]), int(matrix.sites.pos[199])
    part = read_matrix(path, region=f"1:{lo}-{hi}")
    assert part.n_sites == 100
    np.testing.assert_array_equal(part.haplotypes, matrix.haplotypes[:, 100:200])
    with pytest.raises(InputError, match=r"m\.h5: site 1:\d+: allele value 7 is not 0 or 1"):
        read_matrix(path)


def test_region_parsing():
    assert Region.parse("chr2") == Region("chr2", 1, None) and str(Region.parse("chr2")) == "chr2"
    assert Region.parse("2:1,000-2,000") == Region("2", 1000, 2000)
    assert Region.parse("X:5-") == Region("X", 5, None) and str(Region.parse("X:5-")) == "X:5-"
    with pytest.raises(OptionError, match="region '2:9-3': START must be >= 1 and END >= START") as err:
        Region.parse("2:9-3")
    assert err.value.parameter == "region" and isinstance(err.value, ValueError)
    with pytest.raises(OptionError, match="expected CHR, CHR:START-END"):
        Region.parse("2:x-3", parameter="window")
    mask = Region("2", 10, 20).contains(np.array(["1", "2", "2", "2"]), np.array([15, 9, 10, 20]))
    assert mask.tolist() == [False, False, True, True]


@pytest.mark.parametrize(
    "corrupt, message",
    [
        (lambda p: p.write_bytes(b"not hdf5 at all"), "not an HDF5 file"),
        (lambda p: h5py.File(p, "w").close(), "HDF5 without format"),
        (
            lambda p: _edit(p, lambda h: h["variants/POS"].__setitem__(slice(0, 2), [500, 400])),
            "positions are not sorted",
        ),
        (lambda p: _edit(p, lambda h: h["calldata/GT"].__setitem__((0, 0, 0), 2)), "allele value 2 is not 0 or 1"),
        (lambda p: _edit(p, lambda h: h.__delitem__("variants/REF")), "missing"),
        (lambda p: p.write_bytes(p.read_bytes()[:3000]), "truncated"),
    ],
)
def test_invalid_files_give_one_precise_error(tmp_path, corrupt, message):
    path = tmp_path / "m.h5"
    write_matrix(path, _matrix([2, 2], 20))
    corrupt(path)
    with pytest.raises(InputError, match=message) as err:
        read_matrix(path)
    assert str(err.value).startswith(str(path)) and "\n" not in str(err.value)


def _edit(path, change):
    with h5py.File(path, "r+") as handle:
        change(handle)


def test_constructor_rejects_inconsistent_metadata():
    matrix = _matrix([2, 1], 5)
    with pytest.raises(InputError, match="ploidy adds up to 4"):
        HaplotypeMatrix(
            matrix.haplotypes, matrix.sites, matrix.samples, np.array([2, 2], dtype=np.int8), matrix.populations
        )
    with pytest.raises(InputError, match="appears more than once"):
        HaplotypeMatrix(matrix.haplotypes, matrix.sites, np.array(["a", "a"]), matrix.ploidy, matrix.populations)
