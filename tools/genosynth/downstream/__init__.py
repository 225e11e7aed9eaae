"""Downstream uses of haplotypes, real or artificial: selection scans (statistics and the CNN), imputation, and the simulations both train on."""
