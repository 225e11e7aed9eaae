"""Assessing artificial haplotypes against real ones: fidelity, privacy and the distances both rest on."""
