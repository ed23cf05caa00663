"""The Gaussian process's ablations: choices the benchmarks measured and the library does not make.

Each is a subclass of the library's ``GaussianProcess`` or ``GPOptimizer``
that overrides one of its hooks (``correlation`` with ``kernel_slope``,
``_length_log_prior``, ``noise_prior``, ``_warp``, ``observation_noise``); ``benchmarks/defaults.py`` and
``benchmarks/methods.py`` run them beside the defaults.  What each measured
is in ``benchmarks/README.md`` and the documentation's design notes.
"""

import numpy as np
from scipy.stats import norm, rankdata

from sk_hpo._bayes import GPOptimizer
from sk_hpo._gp import GaussianProcess
from sk_hpo._warping import _standardise, cut_losses, warp_losses

# HEBO 0.3.6's prior on the noise variance of standardised scores (its
# default model's): log-normal, mean log(0.01), standard deviation 0.5, a
# noise variance between about 0.004 and 0.03 of the scores'.
HEBO_NOISE_PRIOR = (np.log(1e-2), 0.5)
_SQRT3 = np.sqrt(3.0)


class DimensionScaledPriorGP(GaussianProcess):
    """The length-scale prior before the peaked one: the dimension-scaled
    log-normal of Hvarfner, Hellsten and Nardi (2024), ``log l ~ N(sqrt(2) +
    log(D) / 2, 3)``, median 10 in six dimensions."""

    def _length_log_prior(self, log_lengths):
        t = log_lengths
        mean, sd = np.sqrt(2.0) + 0.5 * np.log(len(t)), np.sqrt(3.0)
        return 0.5 * np.sum((t - mean) ** 2) / sd**2, (t - mean) / sd**2


class Matern32GP(GaussianProcess):
    """HEBO's kernel, Matérn-3/2, rougher than the library's 5/2."""

    # d corr / d x_j = -3 exp(-sqrt3 r) (x_j - x'_j) / l_j**2: a = exp(-sqrt3 r).
    kernel_slope = 3.0

    def correlation(self, r):
        e = np.exp(-_SQRT3 * r)
        return (1.0 + _SQRT3 * r) * e, e


class HEBONoisePriorGP(GaussianProcess):
    """HEBO's tight prior on the noise variance."""

    noise_prior = HEBO_NOISE_PRIOR


class HEBOGP(Matern32GP, HEBONoisePriorGP):
    """HEBO's kernel and noise prior together."""


GP_VARIANTS = {
    "dimension-scaled": DimensionScaledPriorGP,
    "matern32": Matern32GP,
    "hebo-noise-prior": HEBONoisePriorGP,
    "hebo-gp": HEBOGP,
}


def with_gp(optimizer, gp_class=None, length_peak=None):
    """``optimizer`` with its GP replaced by a ``gp_class`` (its length-scale
    peaks kept) and, if given, the peak set on every column, the one-hot
    columns of categories included."""
    if gp_class is not None:
        gp = gp_class()
        gp.length_peak = optimizer.gp.length_peak
        optimizer.gp = gp
    if length_peak is not None:
        optimizer.gp.length_peak = length_peak
    return optimizer


class LatentAcquisition(GPOptimizer):
    """The acquisitions on the latent value alone, without the learned noise
    (before 2026-12-06)."""

    observation_noise = False


class CopulaWarping(GPOptimizer):
    """The losses' ranks mapped to normal quantiles instead of the power warping."""

    def _warp(self, losses):
        y = cut_losses(losses, self.clip)
        if y is None:
            return np.zeros(len(losses))
        return _standardise(norm.ppf((rankdata(y) - 0.5) / len(y)))


class LogWarping(GPOptimizer):
    """The logarithm of each loss's gap to the best before the power warping."""

    def _warp(self, losses):
        y = cut_losses(losses, self.clip)
        if y is None:
            return np.zeros(len(losses))
        spread = np.median(y) - y.min()
        if spread > 0:
            y = np.log(y - y.min() + 0.1 * spread)
        return warp_losses(y, clip=None)
