"""Simulated phased data for demos, tests and benchmarks: stdpopsim's OutOfAfrica_3G09 model.

Three populations (YRI, CEU, CHB) on a stretch of chr22 with a flat recombination map, so nothing is
downloaded; written as a phased VCF with a sample -> population table beside it.

Example
-------
>>> from genosynth.simulation import simulate_out_of_africa
>>> vcf, pops = simulate_out_of_africa("sim.vcf", individuals_per_population=20,
...                                    length=200_000, seed=1)  # doctest: +SKIP
"""

from __future__ import annotations

import gzip
from pathlib import Path

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
    import stdpopsim

    species = stdpopsim.get_species("HomSap")
    model = species.get_demographic_model("OutOfAfrica_3G09")
    start = 15_000_000
    contig = species.get_contig("chr22", left=start, right=start + length, mutation_rate=model.mutation_rate)
    engine = stdpopsim.get_engine("msprime")
    samples = {pop: individuals_per_population for pop in POPULATIONS}
    ts = engine.simulate(model, contig, samples, seed=seed)
    ts = ts.keep_intervals([[start, start + length]], simplify=False).trim()

    names, labels, counts = [], [], dict.fromkeys(POPULATIONS, 0)
    for individual in ts.individuals():
        population = ts.population(ts.node(individual.nodes[0]).population).metadata["name"]
        names.append(f"{population}_{counts[population]}")
        labels.append(population)
        counts[population] += 1

    vcf_path = Path(vcf_path)
    opener = gzip.open if vcf_path.suffix == ".gz" else open
    with opener(vcf_path, "wt") as out:
        ts.write_vcf(
            out,
            contig_id=contig_id,
            individual_names=names,
            position_transform=lambda x: [int(p) + start + 1 for p in x],
        )
    populations_path = vcf_path.with_name(vcf_path.name.split(".")[0] + ".populations.tsv")
    with open(populations_path, "w") as out:
        out.write("sample\tpopulation\n")
        for name, label in zip(names, labels):
            out.write(f"{name}\t{label}\n")
    return vcf_path, populations_path
