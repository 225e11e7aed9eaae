"""genosynth: artificial human genomes from generative neural networks (Yelmen et al. 2021)."""

__version__ = "0.1.0"
