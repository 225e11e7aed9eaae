"""The generative models: a registry of generator kinds (GAN presets, RBM), each with a typed configuration, and
the Bernoulli and Markov baselines that need no training."""
