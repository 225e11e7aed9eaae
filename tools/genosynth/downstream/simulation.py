"""Simulated phased data for demos, tests and benchmarks: stdpopsim's OutOfAfrica_3G09 model, and a selective sweep.

Out of Africa: three populations (YRI, CEU, CHB) on a stretch of chr22 with a flat recombination map, so
nothing is downloaded. Sweep: three populations A, B, C of which A carries a hard sweep (msprime). Both are
written as a phased VCF with a sample -> population table beside it.

Example
-------
>>> from genosynth.downstream.simulation import simulate_out_of_africa
>>> vcf, pops = simulate_out_of_africa("sim.vcf", individuals_per_population=20,
...                                    length=200_000, seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import tskit

POPULATIONS = ("YRI", "CEU", "CHB")


def simulate_out_of_africa(
    vcf_path: str | Path,
    *,
    individuals_per_population: int = 50,
    length: int = 1_000_000,
    seed: int = 1,
    contig_id: str = "22",
) -> tuple[Path, Path]:
    """Simulate diploid individuals of YRI, CEU and CHB and write them as a phased VCF.

    Parameters
    ----------
    vcf_path
        Output VCF; a name ending in ``.gz`` is gzip-compressed.
    individuals_per_population
        Diploid individuals drawn from each of the three populations.
    length
        Simulated stretch of chr22, in base pairs (from position 15 Mb, flat map).
    seed
        Seed of both the ancestry and the mutation simulation.
    contig_id
        CHROM written to the VCF.

    Returns
    -------
    (vcf_path, populations_path)
        The VCF and a two-column TSV (``sample``, ``population``) with a header line.
    """
    start = 15_000_000
    ts = out_of_africa_tree_sequence(
        individuals_per_population=individuals_per_population, start=start, length=length, seed=seed
    )
    return _write_vcf_and_populations(ts, vcf_path, contig_id=contig_id, offset=start)


def out_of_africa_tree_sequence(
    *, individuals_per_population: int, start: int, length: int, seed: int
) -> tskit.TreeSequence:
    """The tskit tree sequence of :func:`simulate_out_of_africa`: chr22 from ``start`` for ``length`` bp (flat
    map), trimmed so that positions count from ``start``; its individuals are YRI, CEU and CHB in turn."""
    import stdpopsim

    species = stdpopsim.get_species("HomSap")
    model = species.get_demographic_model("OutOfAfrica_3G09")
    contig = species.get_contig("chr22", left=start, right=start + length, mutation_rate=model.mutation_rate)
    engine = stdpopsim.get_engine("msprime")
    samples = {pop: individuals_per_population for pop in POPULATIONS}
    ts = engine.simulate(model, contig, samples, seed=seed)
    return ts.keep_intervals([[start, start + length]], simplify=False).trim()


def simulate_sweep(
    vcf_path: str | Path,
    *,
    individuals_per_population: int = 30,
    length: int = 2_000_000,
    selection: float = 0.05,
    seed: int = 1,
    contig_id: str = "1",
) -> tuple[Path, Path]:
    """Three populations A, B, C where A has just finished a hard selective sweep at the middle of the region.

    msprime models sweeps in one population only, so the simulation runs in two stages: the sweep
    (``SweepGenicSelection``, s = ``selection``, N = 10,000, 1/2N to 0.99) and the standard coalescent in A
    alone up to 1500 generations ago, then the ancestry of those lineages together with B and C (whose
    lineages join at that time) under a tree of splits: A and B 4000, AB and C 8000 generations ago.

    Returns
    -------
    (vcf_path, populations_path)
        As :func:`simulate_out_of_africa`; the sweep site is position ``length // 2 + 1``.
    """
    import msprime
    import tskit

    size, recent = 10_000, 1500
    sweep = msprime.SweepGenicSelection(
        position=length // 2, start_frequency=1 / (2 * size), end_frequency=0.99, s=selection, dt=1e-6
    )
    swept = msprime.sim_ancestry(
        samples=individuals_per_population,
        population_size=size,
        sequence_length=length,
        recombination_rate=1e-8,
        model=[sweep, msprime.StandardCoalescent()],
        end_time=recent,
        random_seed=seed,
    )
    demography = msprime.Demography()
    for name in ("A", "B", "C", "AB", "ABC"):
        demography.add_population(name=name, initial_size=size)
    demography.add_population_split(time=4000, derived=["A", "B"], ancestral="AB")
    demography.add_population_split(time=8000, derived=["AB", "C"], ancestral="ABC")
    tables = swept.dump_tables()
    tables.populations.clear()
    tables.populations.metadata_schema = tskit.MetadataSchema.permissive_json()
    for population in demography.populations:
        tables.populations.add_row(metadata={"name": population.name})
    for population in (1, 2):
        for _ in range(individuals_per_population):
            individual = tables.individuals.add_row()
            for _ in range(2):
                tables.nodes.add_row(flags=tskit.NODE_IS_SAMPLE, time=0, population=population, individual=individual)
    ts = msprime.sim_ancestry(
        initial_state=tables, demography=demography, recombination_rate=1e-8, random_seed=seed + 1
    )
    ts = msprime.sim_mutations(ts, rate=1.25e-8, random_seed=seed + 2)
    return _write_vcf_and_populations(ts, vcf_path, contig_id=contig_id, offset=0)


def _write_vcf_and_populations(ts: object, vcf_path: str | Path, *, contig_id: str, offset: int) -> tuple[Path, Path]:
    """Write ``ts``'s individuals as a phased VCF (named POP_i, positions + offset + 1) and the population TSV."""
    names, labels, counts = [], [], {}
    for individual in ts.individuals():
        population = ts.population(ts.node(individual.nodes[0]).population).metadata["name"]
        names.append(f"{population}_{counts.get(population, 0)}")
        labels.append(population)
        counts[population] = counts.get(population, 0) + 1

    vcf_path = Path(vcf_path)
    opener = gzip.open if vcf_path.suffix == ".gz" else open
    with opener(vcf_path, "wt") as out:
        ts.write_vcf(
            out,
            contig_id=contig_id,
            individual_names=names,
            position_transform=lambda x: [int(p) + offset + 1 for p in x],
        )
    populations_path = vcf_path.with_name(vcf_path.name.split(".")[0] + ".populations.tsv")
    with open(populations_path, "w") as out:
        out.write("sample\tpopulation\n")
        for name, label in zip(names, labels):
            out.write(f"{name}\t{label}\n")
    return vcf_path, populations_path
