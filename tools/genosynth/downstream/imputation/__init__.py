"""Genotype imputation from a reference panel (Beagle 5 or minimac4) and the accuracy of panels augmented with artificial haplotypes."""
