"""From a generator's expected alleles (per haplotype and site, in [0, 1]) to 0/1 alleles, shared by the GAN and
the PCA diffusion model: rounding a batch to its expected allele counts."""

from __future__ import annotations


def round_to_expected_counts(expected, *, block: int = 1024):
    """0/1 alleles (bool, n x sites) from expected alleles (n x sites, any real values): at each site the
    ``round(sum)`` haplotypes (clipped to 0..n) with the highest expected allele carry it, ties to the earlier
    haplotype. One haplotype alone is rounded at 0.5; many keep each site's expected count, so an allele too rare
    to pass 0.5 anywhere still lands on the haplotypes nearest its carriers. Sorted ``block`` sites at a time.

    Examples
    --------
    >>> import torch
    >>> round_to_expected_counts(torch.tensor([[0.3, 0.9], [0.2, 0.8], [0.1, 0.2]])).int().tolist()
    [[1, 1], [0, 1], [0, 0]]
    """
    import torch

    n = len(expected)
    counts = expected.sum(0, dtype=torch.float64).round().clamp(0, n).to(torch.int64)
    alleles = torch.zeros(expected.shape, dtype=torch.bool, device=expected.device)
    rank = torch.arange(n, device=expected.device).unsqueeze(1)
    for lo in range(0, expected.shape[1], block):
        order = torch.sort(expected[:, lo : lo + block], dim=0, descending=True, stable=True).indices
        alleles[:, lo : lo + block].scatter_(0, order, rank < counts[lo : lo + block])
    return alleles
