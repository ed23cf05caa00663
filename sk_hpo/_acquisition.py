"""Acquisition functions for minimisation, with gradients.

Each function takes the posterior mean and standard deviation at some
points and returns the value to maximise, and its derivatives with respect
to the mean and the standard deviation (the caller chains them with the
gradients of the posterior).

Expected improvement is computed as its logarithm, in a form that stays
finite and informative far from the incumbent (Ament et al. 2023,
"Unexpected Improvements to Expected Improvement for Bayesian
Optimization"): plain EI underflows to 0 there, leaving the optimiser of the
acquisition with flat ground.
"""

import numpy as np
from scipy.special import erfcx, log_ndtr, ndtr

from ._state import register

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_LOG_INV_SQRT_2PI = np.log(_INV_SQRT_2PI)
_SQRT_HALF_PI = np.sqrt(np.pi / 2.0)

ACQUISITIONS = ("EI", "PI", "LCB")


def _log_h(z):
    """``log(z Phi(z) + phi(z))`` and ``Phi(z) / h(z)``, ``phi(z) / h(z)``.

    For ``z <= 0`` every term is scaled by ``exp(z^2 / 2)`` so that nothing
    underflows: ``h = exp(-z^2/2) phi0 (1 - sqrt(pi/2) |z| erfcx(|z| / sqrt2))``.
    """
    z = np.asarray(z, dtype=float)
    log_h = np.empty_like(z)
    cdf_ratio = np.empty_like(z)
    pdf_ratio = np.empty_like(z)
    pos = z > 0
    zp = z[pos]
    h = zp * ndtr(zp) + _INV_SQRT_2PI * np.exp(-0.5 * zp * zp)
    log_h[pos] = np.log(h)
    cdf_ratio[pos] = ndtr(zp) / h
    pdf_ratio[pos] = _INV_SQRT_2PI * np.exp(-0.5 * zp * zp) / h
    zn = -z[~pos]  # >= 0
    scaled_cdf = 0.5 * erfcx(zn / np.sqrt(2.0))  # Phi(z) exp(z^2/2)
    bracket = np.maximum(1.0 - _SQRT_HALF_PI * zn * erfcx(zn / np.sqrt(2.0)), 1e-300)
    scaled_h = _INV_SQRT_2PI * bracket  # h(z) exp(z^2/2)
    log_h[~pos] = -0.5 * zn * zn + _LOG_INV_SQRT_2PI + np.log(bracket)
    cdf_ratio[~pos] = scaled_cdf / scaled_h
    pdf_ratio[~pos] = _INV_SQRT_2PI / scaled_h
    return log_h, cdf_ratio, pdf_ratio


def log_expected_improvement(mean, std, best, xi=0.0):
    """``log E[max(best - xi - f, 0)]``; gradients w.r.t. mean and std."""
    z = (best - xi - mean) / std
    log_h, cdf_ratio, pdf_ratio = _log_h(z)
    # EI = std h(z): dlogEI/dmean = -Phi/(std h); dlogEI/dstd = phi/(std h)
    return np.log(std) + log_h, -cdf_ratio / std, pdf_ratio / std


def log_probability_of_improvement(mean, std, best, xi=0.0):
    """``log P(f < best - xi)``; gradients w.r.t. mean and std."""
    z = (best - xi - mean) / std
    value = log_ndtr(z)
    # phi(z) / Phi(z) without underflow: exp(log phi - log Phi)
    ratio = np.exp(-0.5 * z * z + _LOG_INV_SQRT_2PI - value)
    return value, -ratio / std, -ratio * z / std


def negative_lower_confidence_bound(mean, std, best=None, kappa=1.96):
    """``-(mean - kappa std)``; gradients w.r.t. mean and std."""
    return -(mean - kappa * std), -np.ones_like(mean), np.full_like(std, kappa)


def acquisition(name, mean, std, best, xi, kappa):
    """The named acquisition's value and its gradients w.r.t. mean and std."""
    if name == "EI":
        return log_expected_improvement(mean, std, best, xi)
    if name == "PI":
        return log_probability_of_improvement(mean, std, best, xi)
    if name == "LCB":
        return negative_lower_confidence_bound(mean, std, kappa=kappa)
    raise ValueError(f"acq_func={name!r} is not one of {ACQUISITIONS}.")


@register
class Hedge:
    """GP-Hedge (Hoffman, Brochu and de Freitas 2011): a portfolio of acquisitions.

    Every acquisition nominates a point; one is chosen at random with
    probability ``softmax(eta * gains)``.  After the next model fit, each
    acquisition's gain grows by minus the posterior mean at its nominee, so
    the acquisitions whose nominees the model comes to like are chosen more.
    """

    STATE_FORMAT = 1
    STATE_FIELDS = ("eta", "gains", "names", "nominees")

    def __init__(self, names=ACQUISITIONS, eta=1.0):
        self.names = list(names)
        self.eta = eta
        self.gains = np.zeros(len(self.names))
        self.nominees = None

    def update(self, predict_mean):
        """Reward the last nominees with the new model's ``predict_mean``."""
        if self.nominees is not None:
            self.gains -= predict_mean(self.nominees)
            self.nominees = None

    def choose(self, nominees, rng):
        """Index of the acquisition whose nominee is proposed."""
        self.nominees = np.asarray(nominees, dtype=float)
        logits = self.eta * (self.gains - self.gains.max())
        p = np.exp(logits) / np.exp(logits).sum()
        return int(rng.choice(len(self.names), p=p))
