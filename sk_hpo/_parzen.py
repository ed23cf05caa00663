"""Parzen (kernel density) estimators on the unit cube, for TPE.

A ``ParzenEstimator`` is a weighted mixture with one component per
observation plus one prior component.  Each component is a product of
one-dimensional kernels:

- continuous dimensions: a Gaussian truncated to ``[0, 1]``;
- integer dimensions: the same Gaussian, integrated over the cell of each
  integer, so that it is a probability mass over the valid values;
- categorical dimensions: the observed category with probability raised
  above the others (Aitchison-Aitken style smoothing by ``prior_weight``).

The prior component is a wide Gaussian at the centre (sigma = 1) and a
uniform choice of category, so that the density is positive everywhere.

Conditional dimensions (``PerLayer``): where a dimension is inactive in an
observation, that observation's kernel in the dimension is the prior's, and
bandwidths come from the observations where it is active; a point's
density is taken over its active dimensions only.  An absent layer thus
says nothing about the values of that layer.
"""

import numpy as np
from scipy.special import logsumexp, ndtr, ndtri

_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_TINY = 1e-300


class ParzenEstimator:
    """A mixture density over the points of one branch.

    Parameters
    ----------
    observations : ndarray of shape (n, d)
        Unit coordinates of the observed points.
    dimensions : list of Dimension
        Their dimensions: ``is_categorical`` and ``n_levels`` decide the kernel.
    prior_weight : float
        Weight of the prior component, relative to 1 per observation.
    multivariate : bool
        A mixture of product kernels (a component's coordinates are drawn
        together, so correlations between dimensions are kept); otherwise a
        product of one-dimensional mixtures (independent dimensions).
    consider_endpoints : bool
        The bounds count as neighbours when setting bandwidths.
    active : ndarray of bool of shape (n, d), optional
        Which coordinates of the observations are active; all by default.
    """

    def __init__(
        self,
        observations,
        dimensions,
        *,
        prior_weight=1.0,
        multivariate=True,
        consider_endpoints=False,
        active=None,
    ):
        obs = np.asarray(observations, dtype=float).reshape(-1, len(dimensions))
        n, d = obs.shape
        active = np.ones((n, d), dtype=bool) if active is None else np.asarray(active, bool)
        self.dimensions = dimensions
        self.multivariate = multivariate
        self.categorical = np.array([dim.is_categorical for dim in dimensions], dtype=bool)
        self.levels = np.array(
            [dim.n_levels if dim.n_levels is not None else 0 for dim in dimensions]
        )
        weights = np.append(np.ones(n), prior_weight)
        self.log_weights = np.log(weights / weights.sum())
        # Components: the observations, then the prior at the centre.
        self.mus = np.vstack([np.where(active, obs, 0.5), np.full((1, d), 0.5)])
        self.sigmas = self._bandwidths(obs, active, consider_endpoints)
        self.category_logp = self._category_tables(obs, active, prior_weight)

    # -- bandwidths ---------------------------------------------------------
    def _bandwidths(self, obs, active, consider_endpoints):
        """Per observation and dimension: the larger gap to a neighbour
        (Hyperopt's rule, adaptive to the local density of observations),
        floored and capped at the width of the interval."""
        n, d = obs.shape
        # Lower bound ("magic clip"): keeps the density from collapsing onto
        # a few points; a dimension of k integers never goes below 1/k.
        floor = 1.0 / np.minimum(100.0, active.sum(axis=0) + 2.0)  # + 1 kernel: the prior
        discrete = ~self.categorical & (self.levels > 0)
        floor[discrete] = np.maximum(floor[discrete], 1.0 / self.levels[discrete])
        if active.all():
            sigmas = self._neighbour_bandwidths(obs, consider_endpoints)
        else:
            sigmas = np.ones((n, d))  # the prior's, where inactive
            for j in range(d):
                rows = active[:, j]
                if rows.any():
                    sigmas[rows, j:j + 1] = self._neighbour_bandwidths(
                        obs[rows, j:j + 1], consider_endpoints)
        sigmas = np.where(active, np.clip(sigmas, floor, 1.0), 1.0)
        return np.vstack([sigmas, np.ones((1, d))])

    @staticmethod
    def _neighbour_bandwidths(obs, consider_endpoints):
        """Each observation's bandwidth: its larger gap to a neighbour."""
        n, d = obs.shape
        sigmas = np.empty((n, d))
        for j in range(d):
            order = np.argsort(obs[:, j], kind="stable")
            padded = np.concatenate([[0.0], obs[order, j], [1.0]])
            gaps = np.maximum(padded[1:-1] - padded[:-2], padded[2:] - padded[1:-1])
            if not consider_endpoints and n >= 2:
                # The outermost observations look inward only.
                gaps[0] = padded[2] - padded[1]
                gaps[-1] = padded[-2] - padded[-3]
            sigmas[order, j] = gaps
        return sigmas

    def _category_tables(self, obs, active, prior_weight):
        tables = {}
        for j in np.flatnonzero(self.categorical):
            k = int(self.levels[j])
            codes = _codes(obs[:, j], k)
            # Smoothing shrinks as observations accumulate, like a bandwidth.
            n_active = int(active[:, j].sum())
            table = np.full((len(codes) + 1, k), prior_weight / (n_active + 1))
            table[np.arange(len(codes)), codes] += 1.0
            table[:-1][~active[:, j]] = 1.0  # inactive: the prior's
            table[-1] = 1.0  # the prior component: uniform
            tables[j] = np.log(table / table.sum(axis=1, keepdims=True))
        return tables

    # -- density ------------------------------------------------------------
    def _log_kernels(self, x):
        """Per-dimension log kernel values, shape (n_points, n_components, d)."""
        x = np.asarray(x, dtype=float)
        n_points, d = x.shape
        out = np.empty((n_points, len(self.mus), d))
        for j in range(d):
            if self.categorical[j]:
                codes = _codes(x[:, j], int(self.levels[j]))
                out[:, :, j] = self.category_logp[j][:, codes].T
                continue
            mu, sigma = self.mus[:, j], self.sigmas[:, j]
            mass = ndtr((1.0 - mu) / sigma) - ndtr(-mu / sigma)
            if self.levels[j] > 0:
                width = 0.5 / self.levels[j]
                upper = ndtr((x[:, j, None] + width - mu) / sigma)
                lower = ndtr((x[:, j, None] - width - mu) / sigma)
                out[:, :, j] = np.log(np.maximum(upper - lower, _TINY) / mass)
            else:
                z = (x[:, j, None] - mu) / sigma
                out[:, :, j] = -0.5 * z * z - _LOG_SQRT_2PI - np.log(sigma * mass)
        return out

    def log_pdf(self, x, active=None):
        """Log density (mass for discrete dimensions) at each row of ``x``,
        over the dimensions ``active`` marks (all by default)."""
        kernels = self._log_kernels(x)
        if active is not None:
            kernels = np.where(np.asarray(active, bool)[:, None, :], kernels, 0.0)
        if self.multivariate:
            return logsumexp(self.log_weights + kernels.sum(axis=2), axis=1)
        return logsumexp(self.log_weights[None, :, None] + kernels, axis=1).sum(axis=1)

    # -- sampling -----------------------------------------------------------
    def sample(self, n, rng):
        """``n`` points drawn from the mixture, as unit coordinates."""
        d = len(self.dimensions)
        weights = np.exp(self.log_weights)
        if self.multivariate:
            components = np.repeat(rng.choice(len(weights), size=n, p=weights)[:, None], d, 1)
        else:
            components = rng.choice(len(weights), size=(n, d), p=weights)
        x = np.empty((n, d))
        for j in range(d):
            comp = components[:, j]
            if self.categorical[j]:
                probs = np.exp(self.category_logp[j][comp])
                cumulative = probs.cumsum(axis=1)
                u = rng.random((n, 1)) * cumulative[:, -1:]
                codes = (u > cumulative).sum(axis=1)
                x[:, j] = (codes + 0.5) / self.levels[j]
                continue
            mu, sigma = self.mus[comp, j], self.sigmas[comp, j]
            lo, hi = ndtr(-mu / sigma), ndtr((1.0 - mu) / sigma)
            u = lo + rng.random(n) * (hi - lo)
            x[:, j] = np.clip(mu + sigma * ndtri(np.clip(u, 1e-16, 1 - 1e-16)), 0.0, 1.0)
        return x


def _codes(unit_values, n_levels):
    return np.clip(np.floor(np.asarray(unit_values) * n_levels), 0, n_levels - 1).astype(int)
