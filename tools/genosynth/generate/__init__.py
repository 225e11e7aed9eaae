"""Generating artificial haplotypes: the generator kinds (models), their training loop and monitoring, trained models and chains of windows."""
