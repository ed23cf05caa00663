"""Tree-structured Parzen Estimator (Bergstra et al. 2011), ask/tell.

The observations are split by a quantile of the loss into a good group
(the ``gamma(n)`` best) and a bad group.  Each group gets a Parzen density,
``l`` for the good and ``g`` for the bad; candidates drawn from ``l`` are
ranked by ``log l(x) - log g(x)``, which orders them as the expected
improvement does (Bergstra et al. 2011, section 4.1), and the best is
proposed.

Tree-structured spaces: the branch is modelled as a categorical variable
over all observations, and each branch's dimensions only on the
observations of that branch; ``l(b, x) = l(b) l(x | b)``, likewise ``g``.
Within a branch, a per-layer dimension is modelled only on the
observations where it is active (``sk_hpo._parzen``).

Batches and asynchronous searches: every point proposed and not yet told
(earlier in this batch, or by an earlier ``ask`` and still being
evaluated) is added to the bad group (a constant liar), so that points
evaluated at the same time spread out.
"""

import math

import numpy as np

from ._optimizer import Optimizer
from ._parzen import ParzenEstimator
from ._search_space import Point
from ._state import register


def default_gamma(n):
    """Size of the good group for ``n`` observations: ``min(ceil(0.15 n), 25)``.

    A linear quantile, as Watanabe (2023, section 3.1) recommends, capped
    so that the good density stays sharp in long searches.  0.15 measured
    better than Optuna's 0.1 and Hyperopt's ``0.25 sqrt(n)`` on our test
    functions at 30 and 60 evaluations (``benchmarks/results/tpe_defaults.md``).
    """
    return min(int(math.ceil(0.15 * n)), 25)


@register
class TPE(Optimizer):
    """Tree-structured Parzen Estimator on a ``SearchSpace``.

    Parameters
    ----------
    space : SearchSpace
    seed : int, optional
    n_startup_trials : int, default=10
        Points drawn from the prior before the model is used.
    gamma : callable, default=default_gamma
        ``gamma(n)`` is the number of good observations among ``n``.
    multivariate : bool, default=True
        Joint density over the dimensions of a branch.
    prior_weight : float, default=1.0
        Weight of the prior component of each density.
    """

    STATE_FORMAT = 2
    STATE_FIELDS = (*Optimizer.STATE_FIELDS, "n_startup_trials", "gamma", "multivariate",
                    "prior_weight", "pending")

    # Candidates drawn from the good density per proposal: 48 measured best
    # of 12, 24 (Optuna's and Hyperopt's), 48 and 96 with ``default_gamma``
    # (``benchmarks/results/tpe_defaults.md``).  With ``multivariate=False``,
    # the bounds are not neighbours when setting bandwidths (Optuna's
    # ``consider_endpoints=False``; True measured worse there).  Hooks for
    # the benchmarks' variants.
    n_ei_candidates = 48
    consider_endpoints = False

    def __init__(
        self,
        space,
        seed=None,
        *,
        n_startup_trials=10,
        gamma=default_gamma,
        multivariate=True,
        prior_weight=1.0,
    ):
        super().__init__(space, seed)
        self.n_startup_trials = n_startup_trials
        self.gamma = gamma
        self.multivariate = multivariate
        self.prior_weight = prior_weight
        self.pending = []  # (key, point) asked and not yet told, repeats included

    def ask(self, n_points=1):
        batch = []
        for _ in range(n_points):
            liars = [point for _, point in self.pending]
            if len(self.points) + len(liars) < self.n_startup_trials:
                point = self.space.sample(1, self.rng)[0]
            else:
                point = self._propose(liars)
            self.pending.append((self.space.key(self.space.canonical(point)), point))
            batch.append(point)
        return batch

    def pend(self, points):
        for point in points:
            key = self.space.key(self.space.canonical(point))
            if key not in self.told_keys:
                self.pending.append((key, point))

    def tell(self, points, losses, splits=None):
        keys = super().tell(points, losses, splits)
        for key in keys:
            for i, (pending_key, _) in enumerate(self.pending):
                if pending_key == key:
                    del self.pending[i]
                    break
        return keys

    def _split(self, n_pending):
        """Boolean mask of the good observations among the told ones."""
        losses = np.asarray(self.losses, dtype=float)
        n_good = min(self.gamma(len(losses) + n_pending), int(np.isfinite(losses).sum()))
        good = np.zeros(len(losses), dtype=bool)
        good[np.argsort(losses, kind="stable")[:n_good]] = True
        return good

    def _propose(self, pending):
        good = self._split(len(pending))
        points = self.points + pending
        good = np.append(good, np.zeros(len(pending), dtype=bool))  # liars are bad
        branches = np.array([p.branch for p in points])
        n_branches = self.space.n_branches

        # The branch choice: a categorical kernel over all observations.
        def branch_logp(mask):
            counts = np.bincount(branches[mask], minlength=n_branches).astype(float)
            counts += self.prior_weight / n_branches
            return np.log(counts / counts.sum())

        l_branch, g_branch = branch_logp(good), branch_logp(~good)
        n = self.n_ei_candidates
        if n_branches > 1:
            candidate_branches = self.rng.choice(n_branches, size=n, p=np.exp(l_branch))
        else:
            candidate_branches = np.zeros(n, dtype=int)

        best_point, best_score = None, -np.inf
        for b in np.unique(candidate_branches):
            dims = self.space.branches[b].dimensions
            in_branch = branches == b
            x_branch = np.array(
                [p.x for p, keep in zip(points, in_branch) if keep], dtype=float
            ).reshape(int(in_branch.sum()), len(dims))
            branch = self.space.branches[b]
            active = branch.active(x_branch) if branch.conditional else None
            l_density = self._density(x_branch[good[in_branch]], dims,
                                      None if active is None else active[good[in_branch]])
            g_density = self._density(x_branch[~good[in_branch]], dims,
                                      None if active is None else active[~good[in_branch]])
            count = int((candidate_branches == b).sum())
            candidates = l_density.sample(count, self.rng)
            for j, dim in enumerate(dims):
                candidates[:, j] = dim.canonical_unit(candidates[:, j])
            candidate_active = branch.active(candidates) if branch.conditional else None
            scores = (
                l_branch[b] - g_branch[b]
                + l_density.log_pdf(candidates, candidate_active)
                - g_density.log_pdf(candidates, candidate_active)
            )
            i = int(np.argmax(scores))
            if scores[i] > best_score:
                best_score = scores[i]
                best_point = Point(int(b), candidates[i])
        return best_point

    def _density(self, observations, dimensions, active=None):
        return ParzenEstimator(
            observations,
            dimensions,
            prior_weight=self.prior_weight,
            multivariate=self.multivariate,
            consider_endpoints=self.consider_endpoints,
            active=active,
        )
