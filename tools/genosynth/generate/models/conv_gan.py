"""The networks of the convolutional WGAN-GP (``train-gan --preset conv-wgan-gp``) for windows of 1,000 to 65,536
sites, after Yelmen et al. 2023 (PLOS Comp Biol 19(5): e1011144): residual 1-D convolution blocks in generator
and critic, a trainable location-specific channel joining every block (what site a position is, which plain
convolutions cannot tell), per-block noise in the generator, instance normalisation in the critic (which the
gradient penalty needs per sample) and a sigmoid output. The generator's logits end in a per-site bias started
at the training allele log-odds (not in the paper; without it CPU-sized runs did not learn allele frequencies).

Their network is built for one length (65,535 sites, doubling a latent sequence 16 times); this one fits any
window length: the generator starts from a sequence of at most ``BASE_LENGTH`` positions and doubles it
(nearest-neighbour upsampling and a convolution) until it covers the window, then crops; the critic halves
the sequence with stride-2 convolutions down to at most ``BASE_LENGTH`` positions and ends in a linear layer. Channels narrow from ``widest`` as the
generator's sequence lengthens and widen to ``widest`` as the critic's shortens, so the convolution weights
stay the same whatever the window, and the parameters grow with the sites only through the location channels:
linearly.

Conditioning, as in the dense presets: the generator's latent vector is joined by the population one-hot and the
context sites' alleles; the critic reads the context sites in front of the window as one sequence (so it judges
the junction) and the population as constant channels.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

BASE_LENGTH = 64
NEGATIVE_SLOPE = 0.2


def doublings(n_positions: int) -> tuple[int, int]:
    """(levels, base length): the fewest doublings of a base sequence of at most BASE_LENGTH positions that cover
    ``n_positions``, and that base length.

    Example
    -------
    >>> doublings(805), doublings(65536), doublings(10)
    ((4, 51), (10, 64), (0, 10))
    """
    levels = max(0, math.ceil(math.log2(n_positions / BASE_LENGTH))) if n_positions > BASE_LENGTH else 0
    return levels, math.ceil(n_positions / 2**levels)


def build_generator(
    *,
    n_sites: int,
    latent_size: int,
    n_condition: int,
    widest: int,
    narrowest: int,
    frequencies: np.ndarray | None = None,
):
    """The generator: (latent and condition, noise generator) -> allele logits (n, n_sites).

    The logits end in a per-site bias, started at the log-odds of ``frequencies`` (the training allele
    frequencies) where given, so that training starts from the right allele frequencies and the convolutions
    learn how sites depend on each other, as an RBM's visible biases start.
    """
    import numpy as np
    import torch
    import torch.nn as nn

    levels, base = doublings(n_sites)
    lengths = [base * 2**i for i in range(levels + 1)]
    channels = [max(narrowest, widest // 2**i) for i in range(levels + 1)]

    class Generator(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.start = nn.Linear(latent_size + n_condition, channels[0] * base)
            self.location = nn.ParameterList([nn.Parameter(torch.randn(1, 1, length)) for length in lengths])
            self.blocks = nn.ModuleList([_residual_block(c, extra=2, norm=False) for c in channels])
            self.upsample = nn.ModuleList([nn.Conv1d(a, b, 3, padding=1) for a, b in zip(channels, channels[1:])])
            self.out = nn.Conv1d(channels[-1] + 1, 1, 3, padding=1)
            p = np.clip(np.asarray(frequencies, dtype=np.float64), 1e-3, 1 - 1e-3) if frequencies is not None else 0.5
            self.site_bias = nn.Parameter(
                torch.from_numpy(np.broadcast_to(np.log(p / (1 - p)), (n_sites,)).astype(np.float32))
            )

        def forward(self, z, rng):
            n = len(z)
            h = nn.functional.leaky_relu(self.start(z), NEGATIVE_SLOPE).view(n, channels[0], base)
            for level, block in enumerate(self.blocks):
                noise = torch.randn(n, 1, h.shape[2], generator=rng, device=h.device)
                h = block(h, self.location[level].expand(n, -1, -1), noise)
                if level < levels:
                    h = nn.functional.interpolate(h, scale_factor=2, mode="nearest")
                    h = nn.functional.leaky_relu(self.upsample[level](h), NEGATIVE_SLOPE)
            h = self.out(torch.cat([h, self.location[-1].expand(n, -1, -1)], dim=1))
            return h[:, 0, :n_sites] + self.site_bias

    return Generator()


def build_critic(*, n_sites: int, n_classes: int, context_sites: int, widest: int, narrowest: int):
    """The critic: (haplotypes n x n_sites, condition n x (n_classes + context_sites) or None) -> scores (n,)."""
    import torch
    import torch.nn as nn

    total = context_sites + n_sites
    levels, base = doublings(total)
    padded = base * 2**levels
    channels = [min(widest, narrowest * 2**i) for i in range(levels + 1)]

    class Critic(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.first = nn.Conv1d(1 + n_classes + 1, channels[0], 3, padding=1)
            self.location = nn.ParameterList(
                [nn.Parameter(torch.randn(1, 1, padded // 2**i)) for i in range(levels + 1)]
            )
            self.blocks = nn.ModuleList([_residual_block(c, extra=1, norm=True) for c in channels])
            self.downsample = nn.ModuleList(
                [nn.Conv1d(a, b, 4, stride=2, padding=1) for a, b in zip(channels, channels[1:])]
            )
            self.head = nn.Linear(channels[-1] * base, 1)

        def forward(self, x, condition):
            n = len(x)
            parts = [x]
            labels = None
            if condition is not None:
                labels, context = condition[:, :n_classes], condition[:, n_classes:]
                parts = [context, x]
            sequence = nn.functional.pad(torch.cat(parts, dim=1), (0, padded - total)).unsqueeze(1)
            inputs = [sequence, self.location[0].expand(n, -1, -1)]
            if n_classes:
                inputs.append(labels.unsqueeze(2).expand(-1, -1, padded))
            h = nn.functional.leaky_relu(self.first(torch.cat(inputs, dim=1)), NEGATIVE_SLOPE)
            for level, block in enumerate(self.blocks):
                h = block(h, self.location[level].expand(n, -1, -1))
                if level < levels:
                    h = nn.functional.leaky_relu(self.downsample[level](h), NEGATIVE_SLOPE)
            return self.head(h.flatten(1)).squeeze(1)

    return Critic()


def _residual_block(channels: int, *, extra: int, norm: bool) -> Any:
    """h + conv(act(conv(act([h, extra channels])))), the extra channels (location, noise) joining its input."""
    import torch
    import torch.nn as nn

    class ResidualBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.conv1 = nn.Conv1d(channels + extra, channels, 3, padding=1)
            self.conv2 = nn.Conv1d(channels, channels, 3, padding=1)
            self.norm1 = nn.InstanceNorm1d(channels, affine=True) if norm else nn.Identity()
            self.norm2 = nn.InstanceNorm1d(channels, affine=True) if norm else nn.Identity()

        def forward(self, h, *extras):
            y = nn.functional.leaky_relu(self.norm1(self.conv1(torch.cat([h, *extras], dim=1))), NEGATIVE_SLOPE)
            y = self.norm2(self.conv2(y))
            return nn.functional.leaky_relu(h + y, NEGATIVE_SLOPE)

    return ResidualBlock()
