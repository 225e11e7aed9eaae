"""Demographic model choice: which of several scenarios simulated with msprime fits a data set, by a CNN and by a
random forest on summary statistics (ABC-RF), for real and artificial haplotypes alike."""
