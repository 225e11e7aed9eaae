"""The denoisers of the diffusion generator (:mod:`genosynth.generate.models.diffusion`): a 1-D convolutional U-Net over
the site axis, and a residual MLP over principal components.

U-Net: the window's sites (after its context sites, which enter as known values), with the self-conditioning
estimate beside them, grouped ``patch`` sites to a position by a strided convolution, the positions padded to a
base sequence of at most ``BASE_LENGTH`` positions doubled ``levels`` times (as the convolutional GAN does it) and
split back into sites at the end; a learned location embedding of ``LOCATION_CHANNELS`` channels per site joins
the input and the output layer (convolutions alone cannot tell which site a position is, and every site has its
own allele frequency); residual blocks with group
normalisation, SiLU and the time (and population) embedding added per channel; stride-2 convolutions down,
nearest-neighbour upsampling and a convolution up, skip connections joined by concatenation; self-attention at
the coarsest level. Channels widen from the narrowest to the widest as the sequence shortens, so the parameters
grow with the sites only through the location embedding: linearly.
"""

from __future__ import annotations

import math
from typing import Any

from genosynth.generate.models.conv_gan import doublings

LOCATION_CHANNELS = 4
SITE_CHANNELS = 8  # channels per site between the patches' output and the last convolution
EMBEDDING = 128  # width of the time (and population) embedding
ATTENTION_HEADS = 4


def timestep_embedding(t, dim: int = EMBEDDING):
    """Sinusoidal features of times ``t`` in [0, 1] (n x dim), as transformers embed positions."""
    import torch

    half = dim // 2
    frequencies = torch.exp(-math.log(10_000) * torch.arange(half, device=t.device, dtype=torch.float32) / half)
    angles = 1000 * t.unsqueeze(1) * frequencies
    return torch.cat([torch.sin(angles), torch.cos(angles)], dim=1)


def _groups(channels: int) -> int:
    return math.gcd(8, channels)


def _residual_block(in_channels: int, out_channels: int) -> Any:
    """conv(act(norm(conv(act(norm(h))) + embedding))) + h, a 1x1 convolution matching the channels."""
    import torch.nn as nn

    class ResidualBlock(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm1 = nn.GroupNorm(_groups(in_channels), in_channels)
            self.conv1 = nn.Conv1d(in_channels, out_channels, 3, padding=1)
            self.embedding = nn.Linear(EMBEDDING, out_channels)
            self.norm2 = nn.GroupNorm(_groups(out_channels), out_channels)
            self.conv2 = nn.Conv1d(out_channels, out_channels, 3, padding=1)
            self.skip = nn.Conv1d(in_channels, out_channels, 1) if in_channels != out_channels else nn.Identity()

        def forward(self, h, embedding):
            y = self.conv1(nn.functional.silu(self.norm1(h))) + self.embedding(embedding).unsqueeze(2)
            y = self.conv2(nn.functional.silu(self.norm2(y)))
            return self.skip(h) + y

    return ResidualBlock()


def _attention(channels: int) -> Any:
    """Multi-head self-attention over the positions, with a residual connection."""
    import torch.nn as nn

    class Attention(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.norm = nn.GroupNorm(_groups(channels), channels)
            self.qkv = nn.Conv1d(channels, 3 * channels, 1)
            self.out = nn.Conv1d(channels, channels, 1)

        def forward(self, h):
            n, c, length = h.shape
            q, k, v = self.qkv(self.norm(h)).view(n, 3, ATTENTION_HEADS, c // ATTENTION_HEADS, length).unbind(1)
            y = nn.functional.scaled_dot_product_attention(q.transpose(2, 3), k.transpose(2, 3), v.transpose(2, 3))
            return h + self.out(y.transpose(2, 3).reshape(n, c, length))

    return Attention()


def build_unet(*, n_sites: int, context_sites: int, n_classes: int, channels: tuple[int, ...], patch: int) -> Any:
    """The U-Net: (noisy window n x n_sites, times n, condition n x (n_classes + context_sites) or None, the
    previous estimate of the clean window n x n_sites) -> the predicted v (n x n_sites)."""
    import torch
    import torch.nn as nn

    narrowest, widest = channels
    total = context_sites + n_sites
    levels, base = doublings(math.ceil(total / patch))
    padded = base * 2**levels * patch
    widths = [min(widest, narrowest * 2**i) for i in range(levels + 1)]
    widths[-1] -= widths[-1] % ATTENTION_HEADS

    class UNet(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.location = nn.Parameter(torch.randn(1, LOCATION_CHANNELS, padded))
            self.time = nn.Sequential(nn.Linear(EMBEDDING, EMBEDDING), nn.SiLU(), nn.Linear(EMBEDDING, EMBEDDING))
            self.label = nn.Linear(n_classes, EMBEDDING, bias=False) if n_classes else None
            self.patches = nn.Conv1d(3 + LOCATION_CHANNELS, widths[0], patch, stride=patch)
            self.down = nn.ModuleList([_residual_block(w, w) for w in widths])
            self.downsample = nn.ModuleList(
                [nn.Conv1d(a, b, 4, stride=2, padding=1) for a, b in zip(widths, widths[1:])]
            )
            self.middle = nn.ModuleList(
                [_residual_block(widths[-1], widths[-1]), _residual_block(widths[-1], widths[-1])]
            )
            self.attention = _attention(widths[-1])
            self.upsample = nn.ModuleList([nn.Conv1d(b, a, 3, padding=1) for a, b in zip(widths, widths[1:])])
            self.up = nn.ModuleList([_residual_block(2 * w, w) for w in widths])
            self.out_norm = nn.GroupNorm(_groups(widths[0]), widths[0])
            self.unpatch = nn.Conv1d(widths[0], patch * SITE_CHANNELS, 1)
            self.out = nn.Conv1d(SITE_CHANNELS + LOCATION_CHANNELS, 1, 3, padding=1)
            nn.init.zeros_(self.out.weight)
            nn.init.zeros_(self.out.bias)

        def forward(self, x, t, condition, estimate):
            n = len(x)
            noisy = nn.functional.pad(x, (context_sites, padded - total))
            estimate = nn.functional.pad(estimate, (context_sites, padded - total))
            known = torch.zeros_like(noisy)
            if context_sites:
                known[:, :context_sites] = 2 * condition[:, n_classes:] - 1
            location = self.location.expand(n, -1, -1)
            channels = [noisy.unsqueeze(1), known.unsqueeze(1), estimate.unsqueeze(1), location]
            h = self.patches(torch.cat(channels, dim=1))
            embedding = self.time(timestep_embedding(t))
            if n_classes:
                embedding = embedding + self.label(condition[:, :n_classes])
            skips = []
            for level in range(levels + 1):
                h = self.down[level](h, embedding)
                skips.append(h)
                if level < levels:
                    h = self.downsample[level](h)
            h = self.attention(self.middle[0](h, embedding))
            h = self.middle[1](h, embedding)
            for level in reversed(range(levels + 1)):
                if level < levels:
                    h = self.upsample[level](nn.functional.interpolate(h, scale_factor=2, mode="nearest"))
                h = self.up[level](torch.cat([h, skips[level]], dim=1), embedding)
            sites = self.unpatch(nn.functional.silu(self.out_norm(h)))  # n x (SITE_CHANNELS patch) x positions
            sites = sites.view(n, SITE_CHANNELS, patch, -1).transpose(2, 3).reshape(n, SITE_CHANNELS, padded)
            h = self.out(torch.cat([nn.functional.silu(sites), location], dim=1))
            return h[:, 0, context_sites:total]

    return UNet()


def build_mlp_denoiser(*, size: int, width: int, n_condition: int) -> Any:
    """The residual MLP: (noisy components n x size, times n, condition n x n_condition or None, the previous
    estimate of the clean components n x size) -> v (n x size)."""
    import torch
    import torch.nn as nn

    class MlpDenoiser(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.time = nn.Sequential(nn.Linear(EMBEDDING, EMBEDDING), nn.SiLU(), nn.Linear(EMBEDDING, width))
            self.first = nn.Linear(2 * size + n_condition, width)
            self.blocks = nn.ModuleList(
                [nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, width)) for _ in range(4)]
            )
            self.out = nn.Sequential(nn.LayerNorm(width), nn.SiLU(), nn.Linear(width, size))

        def forward(self, x, t, condition, estimate):
            inputs = torch.cat([x, estimate] if condition is None else [x, estimate, condition], dim=1)
            h = self.first(inputs) + self.time(timestep_embedding(t))
            for block in self.blocks:
                h = h + block(h)
            return self.out(h)

    return MlpDenoiser()
