"""A Gaussian process on the unit cube: Matérn-5/2 ARD kernel, learned noise.

Written on numpy/scipy rather than scikit-learn's ``GaussianProcessRegressor``
because Bayesian optimisation refits it at every step: the marginal
likelihood comes with analytic gradients for all hyperparameters, the
pairwise squared differences are computed once per fit, a fit can start
from the previous one's hyperparameters, and the posterior comes with its
gradient with respect to the input for polishing the acquisition.

Hyperparameters (on the log scale): one length scale per input column,
the signal variance and the noise variance.  They are set by maximising the
marginal likelihood plus a prior (maximum a posteriori): log-normal for the
signal and the noise; for each length scale ``l`` the log density
``-0.1 ((l / c)**2 + (c / l)**2)``, the prior Optuna's ``GPSampler`` puts on
the inverse squared length scale, peaked at ``c`` (``length_peak``, a number
or one per column).  It is steep on both sides (a factor 3 from the peak
costs 0.9 in log density, a factor 10 costs 10), so a model fitted to a
handful of points varies on the scale of the peak rather than staying
nearly flat across the cube, and exploits sooner.  A ``GaussianProcess``
alone peaks at 1, the side of the unit cube; ``GPOptimizer`` sets 0.3 on
the numeric columns and 1 on the one-hot ones (its module docstring says
why).

The kernel (``correlation``) and the priors (``_length_log_prior``,
``noise_prior``) are each in one place; the alternatives the benchmarks
compared them with (the dimension-scaled length prior of Hvarfner,
Hellsten and Nardi 2024; HEBO's Matérn-3/2 kernel and noise prior) are
subclasses in ``benchmarks/gp_variants.py``, and the documentation's
design notes give what they measured.

Targets are expected standardised (zero mean, unit variance); the mean
function is zero.
"""

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.linalg.lapack import dpotri
from scipy.optimize import minimize

from ._state import register

_SQRT5 = np.sqrt(5.0)

# Bounds of the log hyperparameters, for standardised targets on the unit cube.
_LOG_LENGTH_BOUNDS = (np.log(1e-2), np.log(1e2))
_LOG_SIGNAL_BOUNDS = (np.log(5e-2), np.log(20.0))
_LOG_NOISE_BOUNDS = (np.log(1e-6), np.log(2.0))
# Log-normal priors: (mean, standard deviation) of the log hyperparameter.
_SIGNAL_PRIOR = (0.0, 1.0)
_NOISE_PRIOR = (np.log(1e-3), 2.5)
_JITTER = 1e-9
# Variance of an exact (fantasised) value, relative to the signal variance:
# negligible, but it keeps K positive definite when fantasies coincide.
_FANTASY_NOISE = 1e-6
# Matérn-5/2's derivative factor: d corr / d x_j = -(5/3) a (x_j - x'_j) / l_j**2.
MATERN52_SLOPE = 5.0 / 3.0


def matern52(r):
    """Matérn-5/2 correlation and the factor ``a = (1 + sqrt5 r) exp(-sqrt5 r)``
    its gradients share: ``d corr / d(r**2) = -(MATERN52_SLOPE / 2) a``."""
    e = np.exp(-_SQRT5 * r)
    a = (1.0 + _SQRT5 * r) * e
    return a + MATERN52_SLOPE * r * r * e, a


@register
class GaussianProcess:
    """Matérn-5/2 GP regression with one length scale per input column.

    ``correlation`` with ``kernel_slope``, ``_length_log_prior`` and
    ``noise_prior`` are the kernel and the priors; the benchmarks'
    ablations override them in subclasses (``benchmarks/gp_variants.py``).
    """

    STATE_FORMAT = 2
    STATE_FIELDS = (
        "theta", "length_peak", "n_exact", "X", "y", "L", "L_inv", "alpha", "_X_scaled",
        "_inv_scale",
    )  # fmt: skip

    # The kernel: ``correlation`` gives the correlation at scaled distances
    # and the factor ``a`` of its gradients, ``kernel_slope`` the constant
    # with d corr / d x_j = -kernel_slope a (x_j - x'_j) / l_j**2.
    kernel_slope = MATERN52_SLOPE
    # How many of the last rows conditioned on are exact (fantasies at
    # pending points).
    n_exact = 0
    # The log-normal prior on the noise variance: (mean, standard deviation)
    # of its log.
    noise_prior = _NOISE_PRIOR
    # Where the peaked length-scale prior peaks, in units of the cube's side;
    # GPOptimizer sets one peak per input column.
    length_peak = 1.0

    def __init__(self):
        self.theta = None

    # -- hyperparameters ----------------------------------------------------
    def _length_log_prior(self, log_lengths):
        """Minus the log prior density of the log length scales (up to a
        constant), and its gradient."""
        t = log_lengths
        # 0.1 ((l/c)^2 + (c/l)^2) = 0.2 cosh(2 log(l/c)), c the peak
        t = t - np.log(self.length_peak)
        up, down = np.exp(2.0 * t), np.exp(-2.0 * t)
        return 0.1 * np.sum(up + down), 0.2 * (up - down)

    def _default_theta(self, d):
        # Start from the half diagonal of the cube (inside both priors' bulk,
        # below the dimension-scaled one's median): a fit then finds short
        # scales if needed.
        return np.concatenate([np.full(d, np.log(0.5 * np.sqrt(d))), [0.0, -4.0]])

    def _bounds(self, d):
        return [_LOG_LENGTH_BOUNDS] * d + [_LOG_SIGNAL_BOUNDS, _LOG_NOISE_BOUNDS]

    def _neg_log_posterior(self, theta, sq_diffs, y):
        """Minus (log marginal likelihood + log prior), and its gradient."""
        n, _, d = sq_diffs.shape
        lengths2 = np.exp(2.0 * theta[:d])
        signal, noise = np.exp(theta[d]), np.exp(theta[d + 1])
        r = np.sqrt(np.maximum(sq_diffs @ (1.0 / lengths2), 0.0))
        corr, a = self.correlation(r)
        K = signal * corr
        K[np.diag_indices(n)] += noise + _JITTER
        try:
            L = np.linalg.cholesky(K)
        except np.linalg.LinAlgError:
            return 1e25, np.zeros_like(theta)
        alpha = cho_solve((L, True), y)
        nll = 0.5 * y @ alpha + np.log(np.diag(L)).sum() + 0.5 * n * np.log(2 * np.pi)
        # The inverse from the Cholesky factor (LAPACK potri): a third of the
        # cost of solving against the identity. potri fills the lower
        # triangle and keeps L's zero upper one, so adding the transpose and
        # halving the diagonal mirrors it.
        K_inv, info = dpotri(L, lower=1)
        if info:
            return 1e25, np.zeros_like(theta)
        K_inv += K_inv.T
        K_inv[np.diag_indices(n)] *= 0.5
        W = np.outer(alpha, alpha) - K_inv
        grad = np.empty_like(theta)
        # dK/dlog(l_j) = kernel_slope s a (x_j - x'_j)^2 / l_j^2
        M = W * (signal * self.kernel_slope * a)
        grad[:d] = -0.5 * (M.reshape(-1) @ sq_diffs.reshape(n * n, d)) / lengths2
        grad[d] = -0.5 * np.sum(W * (signal * corr))
        grad[d + 1] = -0.5 * noise * np.trace(W)
        # The priors on the hyperparameters.
        penalty, penalty_grad = self._length_log_prior(theta[:d])
        nll += penalty
        grad[:d] += penalty_grad
        for i, (m, s) in ((d, _SIGNAL_PRIOR), (d + 1, self.noise_prior)):
            nll += 0.5 * (theta[i] - m) ** 2 / s**2
            grad[i] += (theta[i] - m) / s**2
        return nll, grad

    def fit(self, X, y, rng, restart=True):
        """Fit the hyperparameters to ``(X, y)``, then condition on the data.

        The optimisation starts from the previous fit's hyperparameters when
        the input width is the same, and (``restart``, or without a
        previous fit) from the default start and one random start near it.
        """
        X = np.asarray(X, dtype=float)
        y = np.asarray(y, dtype=float)
        d = X.shape[1]
        sq_diffs = (X[:, None, :] - X[None, :, :]) ** 2
        warm = self.theta is not None and len(self.theta) == d + 2
        bounds = self._bounds(d)
        starts = [self.theta] if warm else []
        if restart or not warm:
            starts.append(self._default_theta(d))
            low, high = np.array(bounds).T
            starts.append(np.clip(starts[-1] + rng.normal(0.0, 1.0, d + 2), low, high))
        best = None
        for theta0 in starts:
            result = minimize(
                self._neg_log_posterior, theta0, args=(sq_diffs, y), jac=True,
                method="L-BFGS-B", bounds=bounds, options={"maxiter": 200},
            )
            if best is None or result.fun < best.fun:
                best = result
        self.theta = best.x
        return self.condition(X, y)

    # -- posterior ------------------------------------------------------------
    @property
    def length_scales(self):
        return np.exp(self.theta[:-2])

    @property
    def signal(self):
        return float(np.exp(self.theta[-2]))

    @property
    def noise(self):
        return float(np.exp(self.theta[-1]))

    def condition(self, X, y, n_exact=0):
        """Condition on ``(X, y)`` with the current hyperparameters (no refit).

        The last ``n_exact`` rows are taken as exact values of the latent
        function rather than noisy observations: fantasies at pending points,
        which must remove the uncertainty there, noise or not.
        """
        self.X = np.asarray(X, dtype=float)
        self.y = np.asarray(y, dtype=float)
        self.n_exact = n_exact
        n = len(self.X)
        self._scale_inputs()
        K = self.signal * self._corr(self._X_scaled, self._X_scaled)[0]
        noise = np.full(n, self.noise + _JITTER)
        noise[n - n_exact :] = _FANTASY_NOISE * self.signal
        K[np.diag_indices(n)] += noise
        self.L = np.linalg.cholesky(K)
        self.alpha = cho_solve((self.L, True), self.y)
        # L's inverse, once per conditioning: a prediction is then two
        # matrix products rather than two triangular solves, whose scipy
        # wrappers cost more than the arithmetic for the few points an
        # acquisition's polishing predicts at each step.
        self.L_inv = _lower_inverse(self.L)
        return self

    def _scale_inputs(self):
        """The inputs divided by the length scales, kept for the predictions."""
        self._inv_scale = 1.0 / self.length_scales
        self._X_scaled = self.X * self._inv_scale

    def correlation(self, r):
        """The kernel's correlation at scaled distances ``r``, and the factor
        ``a`` its gradients share (see ``kernel_slope``)."""
        return matern52(r)

    def _corr(self, A, B):
        """Correlations of the rows of ``A`` and ``B`` (both already divided by
        the length scales), the factor ``a`` of their gradient, and the
        scaled differences."""
        diff = A[:, None, :] - B[None, :, :]
        r = np.sqrt(np.maximum(np.einsum("ijk,ijk->ij", diff, diff), 0.0))
        corr, a = self.correlation(r)
        return corr, a, diff

    def predict(self, X, return_grad=False):
        """Posterior mean and standard deviation of the latent function.

        With ``return_grad``, also their gradients with respect to ``X``
        (shape ``(n, d)`` each).

        An acquisition's polishing calls this a hundred times per proposal
        for a handful of rows, so the few numpy calls it makes matter more
        than their arithmetic: what depends only on the conditioning (the
        scaled inputs, L's inverse) is computed once there.
        """
        X = np.atleast_2d(np.asarray(X, dtype=float))
        signal, inv_scale = self.signal, self._inv_scale
        corr, a, diff = self._corr(X * inv_scale, self._X_scaled)  # diff: (m, n, d)
        k = signal * corr  # (m, n)
        mean = k @ self.alpha
        v = self.L_inv @ k.T  # (n, m): L^-1 k*
        var = np.maximum(signal - np.einsum("ij,ij->j", v, v), 1e-12)
        std = np.sqrt(var)
        if not return_grad:
            return mean, std
        # dk(x, x_a)/dx_j = -kernel_slope s a (x_j - x_aj) / l_j^2,
        # contracted with alpha (the mean) and with K^-1 k* (the variance) at once.
        k_inv_k = self.L_inv.T @ v  # (n, m): K^-1 k*
        weights = np.stack([a * self.alpha, a * k_inv_k.T])  # (2, m, n)
        grads = np.einsum("kmn,mnd->kmd", weights, diff) * (-self.kernel_slope * signal * inv_scale)
        grad_mean, grad_var = grads[0], -2.0 * grads[1]
        grad_std = grad_var / (2.0 * std[:, None])
        return mean, std, grad_mean, grad_std


def _lower_inverse(L):
    """The inverse of the lower-triangular ``L``."""
    return solve_triangular(L, np.eye(len(L)), lower=True, check_finite=False)
