"""Output warping: the GP's targets from cross-validated losses.

Failed candidates take the worst finite loss, outliers are cut
(:func:`cut_losses`), and the losses are standardised and Yeo-Johnson
transformed (:func:`warp_losses`; HEBO's output warping, Cowen-Rivers et
al. 2022), so that a few huge losses (an exploding log loss, a diverging
model) do not flatten the differences between the others.
"""

import warnings

import numpy as np
from scipy.optimize import fminbound


def cut_losses(losses, clip=10.0):
    """The losses with failures filled and outliers cut; None if none is finite.

    Failures take the worst finite loss; losses beyond ``median + clip *
    (median - best)`` are cut there (None: not cut), so that a handful of
    huge losses cannot squeeze the rest together.  The median is the larger
    of those of all losses and of the distinct ones: when most candidates
    reach (nearly) the best score, as on an accuracy plateau, the median of
    all losses sits a hair above the best, and a cut there would flatten
    every worse loss to one value.
    """
    y = np.asarray(losses, dtype=float).copy()
    finite = np.isfinite(y)
    if not finite.any():
        return None
    y[~finite] = y[finite].max()
    median = max(np.median(y[finite]), np.median(np.unique(y[finite])))
    low = y.min()
    if clip is not None and median > low:  # with one distinct loss there is no scale
        y = np.minimum(y, median + clip * (median - low))
    return y


def warp_losses(losses, clip=10.0):
    """Standardised, outlier-robust targets for the GP (lower is better).

    :func:`cut_losses`, then standardised and Yeo-Johnson transformed
    (HEBO's output warping, Cowen-Rivers et al. 2022), so that a few huge
    losses do not flatten the rest.
    """
    y = cut_losses(losses, clip)
    if y is None:
        return np.zeros(len(losses))
    y = _standardise(y)
    if len(y) >= 5 and y.any():
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                warped = yeo_johnson(y)
            except (ValueError, FloatingPointError, OverflowError):
                warped = y
        if np.all(np.isfinite(warped)):
            y = _standardise(warped)
    return y


def yeo_johnson(y):
    """``y`` Yeo-Johnson transformed with the maximum-likelihood power.

    As ``scipy.stats.yeojohnson(y)[0]`` computes it since scipy 1.12 (the
    likelihood maximised by ``fminbound`` between the powers that cannot
    overflow), at a twentieth of the cost: scipy's per-call argument
    handling dominated a Gaussian process's proposal (16 ms of about 100
    in an asynchronous search, refitted at every finished candidate), and
    with scipy before 1.12, which searched the power from a bracket
    instead, the same losses gave another transform.
    """
    y = np.asarray(y, dtype=float)
    n = len(y)
    positive = y >= 0
    log1p_abs = np.log1p(np.abs(y))
    jacobian = np.sum(np.sign(y) * log1p_abs)
    eps = np.finfo(float).eps

    def transform(power):
        out = np.empty_like(y)
        if abs(power) < eps:
            out[positive] = log1p_abs[positive]
        else:
            out[positive] = np.expm1(power * log1p_abs[positive]) / power
        if abs(power - 2.0) > eps:
            out[~positive] = -np.expm1((2.0 - power) * log1p_abs[~positive]) / (2.0 - power)
        else:
            out[~positive] = -log1p_abs[~positive]
        return out

    def negative_log_likelihood(power):
        variance = transform(power).var()
        if not (np.isfinite(variance) and variance >= np.finfo(float).tiny):
            return np.inf
        return 0.5 * n * np.log(variance) - (power - 1.0) * jacobian

    # The powers whose transform of values up to 20 times the largest one
    # stays within half the floating-point exponent range (scipy's bounds).
    log1p_max = np.log1p(20.0 * np.max(np.abs(y)))
    log_eps = np.log(eps)
    low = (np.log(np.finfo(float).tiny) - log_eps) / 2.0 / log1p_max
    high = (np.log(np.finfo(float).max) + log_eps) / 2.0 / log1p_max
    if np.all(y < 0):
        low, high = 2.0 - high, 2.0 - low
    elif np.any(y < 0):
        low, high = max(2.0 - high, low), min(2.0 - low, high)
    power = fminbound(negative_log_likelihood, low, high, xtol=1.48e-8)
    return transform(power)


def _standardise(y):
    """Zero mean and unit variance; all zeros if the values do not really differ."""
    spread = y.std()
    if not spread > 1e-12 * max(1.0, np.abs(y).max()):
        return np.zeros_like(y)
    return (y - y.mean()) / spread
