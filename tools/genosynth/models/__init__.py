"""The generative models: the GAN presets, the RBM, and the Bernoulli and Markov baselines."""
