"""Gaussian-process Bayesian optimisation, ask/tell.

This module coordinates; each part of the model is one idea a module:

- inputs (``sk_hpo._encoding``): numeric dimensions as unit coordinates,
  categorical ones one-hot, the branches of a conditional space side by
  side, so that one GP learns from every observation;
- outputs (``sk_hpo._warping``): failures take the worst finite loss,
  outliers are cut, and the losses are standardised and power-warped
  (Yeo-Johnson, as HEBO does, Cowen-Rivers et al. 2022);
- acquisitions (``sk_hpo._acquisition``): EI, PI, LCB and the GP-Hedge
  portfolio;
- a Matérn-5/2 GP with one length scale per input and learned noise
  (``sk_hpo._gp``), whose prior on the length scales of the numeric
  inputs peaks at 0.3 of their range (``LENGTH_PEAK``, the size of HEBO's
  length scales: a model of 20-30 points then follows a rugged function
  instead of calling its bumps noise) and on the one-hot columns at 1 (so
  that categories keep informing each other).

The acquisitions (GP-Hedge's portfolio of EI, PI and LCB,
``sk_hpo._acquisition``) score the next *observation*, not the latent
value: its standard deviation is the posterior's plus the learned noise
(``observation_noise``).  A search is judged, and its ``best_params_``
chosen, by the best score it observes, and neighbouring candidates of a
cross-validated score really do differ by more than the model explains;
scored on the latent value alone, EI and PI vanish where many noisy scores
pin the mean down, however good that region is.  It is deterministic, so
the same seed proposes the same candidates.  A pending point (asked, not
yet told) takes the noise of its neighbourhood with it (``_observed_std``),
so that a batch does not gather round it.

Where the engine tells each candidate's scores split by split (``tell(...,
splits=...)``), a told candidate that another repeats exactly on every
split takes that noise away from its neighbourhood (``quiet_repeats``), as
a pending point does: the noise added is scaled by ``1 - rho**2``, ``rho``
the kernel's correlation to the nearest such candidate.  Two candidates
that score the same on every split are one prediction fitted twice, or a
plateau, and the next observation near them repeats their score.  With a
single split (a holdout) an equal score is only an equal mean, which two
accuracies reach by chance, so it is not taken as a repeat.  A search told
no splits behaves as without this.

The first ``n_initial_points`` come from a scrambled Sobol sequence.  After
that, each proposal maximises the acquisition over random candidates and
candidates near the best observations, then polishes the best few by
L-BFGS-B over their numeric coordinates; categories stay as drawn.  A
batch (``ask(n)``, or points asked and not yet told) is built by the
kriging believer: each pending point is added to the model with its
posterior mean as a fantasy, which leaves the mean as it is but removes
the uncertainty there, so the next point goes elsewhere.

Asynchronous searches (``asynchronous=True`` with several workers) are
told one candidate at a time and must propose as fast as workers free:
they refit the hyperparameters about once per batch's worth of results
(``refit_every``), and polish the three acquisitions' best candidates in
one L-BFGS-B problem (``polish_jointly``) instead of one each: a third as
many predictions for about the same acquisition values.  Batches polish
acquisition by acquisition.

Long searches: from 100 told points on, a refit of the hyperparameters
starts only from the previous fit's values, and every ``n // 50`` new
points also from the default start and a random start.  Beyond 300 told
points the GP is fitted to the best 150 and 150 others drawn at random,
and its hyperparameters are refitted every ``n // 50`` new points (the GP
only conditioned on the new points in between), so a proposal costs less
at 1000 or 3000 points than at 300 (TuRBO, Eriksson et al. 2019, bounds
its local models the same way).

How each of these choices was measured, and which were made after seeing
results, is in the documentation's design notes (``docs/design_notes.md``).
"""

import functools

import numpy as np
from threadpoolctl import ThreadpoolController

from ._acquisition import ACQUISITIONS, Hedge, acquisition
from ._acquisition_search import AcquisitionSearch
from ._encoding import Encoding
from ._gp import GaussianProcess
from ._optimizer import Optimizer, initial_design
from ._state import register
from ._warping import warp_losses

ACQ_FUNCS = ACQUISITIONS + ("gp_hedge", "auto")
# Long searches: beyond this many told points the GP is fitted to that many
# (the best half and a random draw of the others), and its hyperparameters
# are refitted every ``n_told // _REFIT_DIVISOR`` new points (conditioned on
# the new points in between).  Up to it, every proposal refits on all.
_MAX_MODEL_POINTS = 300
_REFIT_DIVISOR = 50
# Where the length-scale prior of the numeric columns peaks, as a fraction of
# their range (the module docstring says how it was chosen).
LENGTH_PEAK = 0.3


@functools.cache
def _controller():
    """The thread pools' controller, made once, at the first proposal:
    ``threadpool_limits`` inspects every loaded library at each call (5 ms
    once scikit-learn's are loaded: an eighth of a proposal)."""
    return ThreadpoolController()


@register
class GPOptimizer(AcquisitionSearch, Optimizer):
    """Bayesian optimisation with a Gaussian process on a ``SearchSpace``.

    Parameters
    ----------
    space : SearchSpace
    seed : int, optional
    n_initial_points : int, default=10
        Points of the initial design before the model is used.
    initial_point_generator : {"sobol", "halton", "lhs", "random"}, default="sobol"
        The initial design.
    acq_func : {"auto", "EI", "PI", "LCB", "gp_hedge"}, default="auto"
        The acquisition function.  ``"auto"`` is ``"gp_hedge"``: the
        portfolio of EI, PI and LCB.
    xi : float, default=0.01
        Margin of improvement for EI and PI, in standard deviations of the
        warped losses (the scores standardised, then power-warped).
    kappa : float, default=1.96
        Exploration weight of LCB.
    n_candidates : int, default=1000
        Random candidates scored per proposal, plus as many again near the
        best observations.
    n_polish : int, default=5
        Best candidates polished by L-BFGS-B.
    clip : float or None, default=10
        Where the worst losses are cut (see ``cut_losses``).  Needed for
        correctness rather than measured better: it measured level with no
        cut on the test functions, which have no outliers, and it stops a
        few huge losses (a diverging model) from squeezing the others
        together.

    The defaults were chosen by ``python -m benchmarks.defaults bayes``
    (``benchmarks/results/bayes_defaults.md``): GP-Hedge over EI, PI or LCB
    alone, the power warping over the copula and log ones, polishing over
    none, 10 initial points over 20 (5 measure level with 10).  Clipping at
    10 measures level with no clipping there (the test functions have no
    outliers); it is kept because it stops a few huge losses from squeezing
    the others together (``tests/test_bayes.py``).  ``xi=0`` has the lower
    mean log regret there, but only through branin and the mixed
    function, where the defaults already come within 3e-3 of the optimum
    (geometric mean over seeds); on hartmann6, rosenbrock10 and levy10 it
    is worse at both budgets.
    """

    STATE_FORMAT = 3
    STATE_FIELDS = (
        *Optimizer.STATE_FIELDS, "n_initial_points", "initial_point_generator", "acq_func",
        "xi", "kappa", "n_candidates", "n_polish", "clip", "splits", "_repeats", "encoding",
        "gp", "hedge", "pending", "_design", "_fitted_on", "_restarted_on", "_conditioned_on",
        "refit_every", "polish_jointly",
    )  # fmt: skip

    # A refit of the hyperparameters starts from the previous fit's values,
    # and also from the default start and a random restart (three L-BFGS-B
    # runs, the last two three times as long as the first) only every
    # ``n_told // restart_divisor`` new points: at every point below 100.
    restart_divisor = 50
    # The acquisitions score the next observation, not the latent value
    # (``_observed_std``), and take the noise away near told candidates
    # repeated split by split (``_repeated_rows``); the module docstring
    # says why.  Hooks for the benchmarks' ablations, which turn them off.
    observation_noise = True
    quiet_repeats = True

    def __init__(
        self,
        space,
        seed=None,
        *,
        n_initial_points=10,
        initial_point_generator="sobol",
        acq_func="auto",
        xi=0.01,
        kappa=1.96,
        n_candidates=1000,
        n_polish=5,
        clip=10.0,
    ):
        super().__init__(space, seed)
        self.splits = []  # per told point: its scores split by split, or None
        self._repeats = None  # encoded told points of repeated splits (cache)
        self.clip = clip
        self.n_initial_points = n_initial_points
        self.initial_point_generator = initial_point_generator
        self.acq_func = acq_func
        self.xi = xi
        self.kappa = kappa
        self.n_candidates = n_candidates
        self.n_polish = n_polish
        self.encoding = Encoding(space)
        self.gp = GaussianProcess()
        self.gp.length_peak = self._length_peaks(LENGTH_PEAK)
        self.hedge = Hedge() if acq_func in ("gp_hedge", "auto") else None
        self.pending = {}  # key -> point asked and not yet told
        self._design = []  # points of the initial design not yet proposed, last first
        self._fitted_on = -1
        self._restarted_on = -1
        self._conditioned_on = -1
        # Told points between two fits of the hyperparameters: 1 in batches;
        # an asynchronous search, told one candidate at a time, sets it to
        # about one batch's worth (BayesSearchCV._configure_workers).
        self.refit_every = 1
        # Polish the acquisitions' best candidates acquisition by acquisition
        # (batches), or all in one L-BFGS-B problem (the asynchronous mode).
        self.polish_jointly = False

    def _length_peaks(self, peak):
        """The GP's length-scale prior peaks, column by column: ``peak`` on
        the numeric columns, 1 on the one-hot and branch columns."""
        peaks = np.ones(self.encoding.width)
        columns = [c for c in self.encoding.numeric_columns if len(c)]
        if columns:
            peaks[np.concatenate(columns)] = peak
        return peaks

    # -- ask / tell -----------------------------------------------------------
    def ask(self, n_points=1):
        # The GP's matrices are small: threaded BLAS only adds contention
        # (a fit at 200 points took 6.7x longer with 2 threads on 2 cores).
        with _controller().limit(limits=1, user_api="blas"):
            return self._ask(n_points)

    def _ask(self, n_points):
        batch = []
        for _ in range(n_points):
            n_seen = len(self.points) + len(self.pending)
            modelled = self.encoding.width > 0 and np.isfinite(self.losses).any()
            if n_seen < self.n_initial_points or not modelled:
                point = self._initial_point()
            else:
                point = self._propose()
            self.pending[self.space.key(point)] = point
            batch.append(point)
        return batch

    def tell(self, points, losses, splits=None):
        keys = super().tell(points, losses, splits)
        self.splits.extend([None] * len(points) if splits is None else
                           [None if s is None else tuple(map(float, s)) for s in splits])  # fmt: skip
        self._repeats = None
        for key in keys:
            self.pending.pop(key, None)
        return keys

    def pend(self, points):
        for point in points:
            point = self.space.canonical(point)
            key = self.space.key(point)
            if key not in self.told_keys:
                self.pending[key] = point

    # -- initial design -------------------------------------------------------
    def _initial_point(self):
        if not self._design:
            self._design = initial_design(
                self.space, max(self.n_initial_points, 1), self.rng, self.initial_point_generator
            )[::-1]
        return self._design.pop()

    # -- the model ------------------------------------------------------------
    def _fit(self):
        """Fit the GP to the told points, add pending fantasies.

        The hyperparameters are refitted once ``refit_every`` points have
        been told since the last fit (1: at every new point); in between the
        GP is conditioned on the new points with the hyperparameters it has.
        """
        n_told = len(self.points)
        rows = self._model_rows(n_told)
        X = self.encoding.encode([self.points[i] for i in rows])
        y = self._warp(np.asarray(self.losses, dtype=float)[rows])
        new_data = self._conditioned_on != n_told
        interval = self.refit_every
        if n_told > _MAX_MODEL_POINTS:
            interval = max(interval, n_told // _REFIT_DIVISOR)
        if self._fitted_on < 0 or n_told - self._fitted_on >= interval:
            restart = n_told - self._restarted_on >= max(1, n_told // self.restart_divisor)
            self.gp.fit(X, y, self.rng, restart=restart)
            self._fitted_on = n_told
            if restart:
                self._restarted_on = n_told
        else:
            self.gp.condition(X, y)
        if new_data and self.hedge is not None:
            self.hedge.update(lambda rows: self.gp.predict(rows)[0])
        self._conditioned_on = n_told
        if self.pending:
            pending = self.encoding.encode(list(self.pending.values()))
            # Kriging believer: the fantasy equals the posterior mean, and is
            # exact, so the next point goes elsewhere however noisy the data.
            believed = self.gp.predict(pending)[0]
            self.gp.condition(
                np.vstack([X, pending]), np.concatenate([y, believed]), n_exact=len(pending)
            )
        return float(self.gp.y.min())

    def _warp(self, losses):
        """The GP's targets for ``losses`` (a hook: the benchmarks' ablations
        of the warping override it)."""
        return warp_losses(losses, self.clip)

    def _model_rows(self, n_told):
        """Indices of the told points the GP is fitted to: all of them up to
        ``_MAX_MODEL_POINTS``, beyond that the best half and a random draw
        of the rest, so that a long search keeps a bounded cost per proposal
        (TuRBO, Eriksson et al. 2019, fits local models for the same reason)."""
        if n_told <= _MAX_MODEL_POINTS:
            return np.arange(n_told)
        losses = np.asarray(self.losses, dtype=float)
        losses = np.where(np.isfinite(losses), losses, np.inf)
        order = np.argsort(losses, kind="stable")
        best = order[: _MAX_MODEL_POINTS // 2]
        rest = self.rng.choice(order[_MAX_MODEL_POINTS // 2 :],
                               _MAX_MODEL_POINTS - len(best), replace=False)
        return np.sort(np.concatenate([best, rest]))

    def _acquire(self, name, rows, best, grad=False, posterior=None):
        """The acquisition ``name`` at ``rows`` (with ``grad``: and its gradient);
        ``name`` may also be a sequence, one acquisition per row."""
        if not grad:
            mean, std = self.gp.predict(rows) if posterior is None else posterior
            return self._acquisition(name, mean, self._observed_std(rows, std), best)[0]
        mean, std, grad_mean, grad_std = self.gp.predict(rows, return_grad=True)
        observed, d_latent, d_rows = self._observed_std(rows, std, grad=True)
        value, d_mean, d_std = self._acquisition(name, mean, observed, best)
        grad = d_mean[:, None] * grad_mean + (d_std * d_latent)[:, None] * grad_std
        if d_rows is not None:
            grad = grad + d_std[:, None] * d_rows
        return value, grad

    def _observed_std(self, rows, std, grad=False):
        """The standard deviation the acquisitions score at ``rows``, given the
        latent one ``std``; with ``grad``, also its derivative with respect to
        ``std`` and its gradient with respect to the rows at fixed ``std``
        (None: zero; there is one only near pending points).

        With ``observation_noise``, that of the next observation: the
        latent variance plus the learned noise, less the part of the noise
        a pending point close by will already draw.  Taken as independent,
        a pending point's noise would leave its neighbourhood as promising
        as before it was asked, and a batch would gather round it (the
        kriging believer's fantasy removes only the latent uncertainty).
        So the noise is taken as correlated like the latent function: with
        ``rho`` the kernel's correlation to the nearest pending point, the
        variance added is ``noise (1 - rho**2)``, none at a pending point.
        Near told points the whole noise stays: a search is judged by the
        best score it observes, and a told score close by is no fantasy.
        """
        if not self.observation_noise:
            return (std, np.ones_like(std), None) if grad else std
        gp = self.gp
        inv_scale = gp._inv_scale
        # The noise is scaled by 1 - rho**2 for each set of points it is
        # absent at, rho the kernel's correlation to the set's nearest.
        quiet = []
        if gp.n_exact:  # the fantasies, the GP's last rows
            quiet.append(gp._X_scaled[len(gp.X) - gp.n_exact :])
        repeats = self._repeated_rows() if self.quiet_repeats else None
        if repeats is not None:
            quiet.append(repeats * inv_scale)
        scaled = rows * inv_scale
        at = np.arange(len(rows))
        noise = np.full(len(std), gp.noise)
        d_noise = np.zeros(rows.shape) if grad else None
        for known in quiet:
            corr, a, diff = gp._corr(scaled, known)
            nearest = np.argmax(corr, axis=1)
            rho = corr[at, nearest]
            part = 1.0 - rho * rho
            if grad:
                # d corr / dx_j = -slope a (x_j - p_j) / l_j**2, diff being (x - p) / l
                d_rho = -gp.kernel_slope * a[at, nearest][:, None] * diff[at, nearest] * inv_scale
                d_noise = d_noise * part[:, None] - 2.0 * noise[:, None] * rho[:, None] * d_rho
            noise *= part
        observed = np.sqrt(std * std + noise)
        if not grad:
            return observed
        d_rows = 0.5 * d_noise / observed[:, None] if quiet else None
        return observed, std / observed, d_rows

    def _repeated_rows(self):
        """The encoded told points whose scores, told split by split (two
        splits or more), another told point repeated exactly on every split
        (None: there are none).

        Such candidates are one prediction fitted twice, or a plateau the
        scores are flat on (an extra-trees ensemble whose ``max_depth`` is
        beyond what ``min_samples_leaf`` allows it to reach); the next
        observation near them repeats their score, noise or not.
        """
        if self._repeats is None:
            groups = {}
            for i, (splits, loss) in enumerate(zip(self.splits, self.losses)):
                # One split (a holdout) makes an equal score an equal mean,
                # which two accuracies reach by chance: not a repeat.
                if splits is not None and len(splits) > 1 and np.isfinite(loss):
                    groups.setdefault(splits, []).append(i)
            rows = [i for members in groups.values() if len(members) > 1 for i in members]
            self._repeats = (
                self.encoding.encode([self.points[i] for i in rows]) if rows else False
            )
        return None if self._repeats is False else self._repeats

    def _acquisition(self, name, mean, std, best):
        if isinstance(name, str):
            return acquisition(name, mean, std, best, self.xi, self.kappa)
        name = np.asarray(name)
        out = [np.empty_like(mean) for _ in range(3)]
        for one in np.unique(name):
            rows = name == one
            for array, part in zip(out, acquisition(one, mean[rows], std[rows], best,
                                                    self.xi, self.kappa)):  # fmt: skip
                array[rows] = part
        return tuple(out)
