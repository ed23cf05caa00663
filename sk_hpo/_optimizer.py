"""The ask/tell contract between a search and its algorithm.

An optimizer knows nothing of scikit-learn: it proposes ``Point``s of a
``SearchSpace`` and is told the loss of each (lower is better; a failed
evaluation is told as ``numpy.inf``).  Every point proposed by ``ask`` is
told back exactly once, possibly in a later batch.  With a loss it may be
told the scores the loss averages (``splits``: a cross-validation's score
on each split), which a model can use to recognise two candidates that
scored the same on every split.
"""

import math

import numpy as np
from scipy.stats import qmc

from ._search_space import Point
from ._state import register

INITIAL_POINT_GENERATORS = ("sobol", "halton", "lhs", "random")

# When an optimizer keeps proposing candidates already evaluated: rounds of
# ask() tolerated before falling back to draws from the prior, and draws
# tried per missing candidate after that.
ASK_ROUNDS = 10
RANDOM_TRIES = 100


class Optimizer:
    """Base class of the search algorithms.

    Parameters
    ----------
    space : SearchSpace
        The space to search.
    seed : int or numpy.random.Generator
        Seeds the optimizer's own ``numpy.random.Generator``.
    """

    # The state a stored search keeps (``sk_hpo._state``); subclasses add theirs.
    STATE_FIELDS = ("space", "rng", "points", "losses", "told_keys")

    def __init__(self, space, seed=None):
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.points = []
        self.losses = []
        self.told_keys = set()  # the distinct candidates told so far

    def ask(self, n_points=1):
        """Propose ``n_points`` points to evaluate next."""
        raise NotImplementedError

    def pend(self, points):
        """Points under evaluation that this optimizer did not ask for.

        Proposals account for them as for points asked and not yet told
        (an asynchronous multi-fidelity search tells a fresh model which
        candidates are running).  Nothing here; the models override it.
        """

    def tell(self, points, losses, splits=None):
        """Record the losses of evaluated points (``inf`` for a failure).

        ``splits``, optional: for each point, the scores its loss averages
        (a tuple, one per cross-validation split) or None.  Only the models
        that use them keep them.

        Returns the candidate keys of ``points``, for subclasses.
        """
        losses = np.asarray(losses, dtype=float)
        if len(points) != len(losses):
            raise ValueError(
                f"tell() got {len(points)} points but {len(losses)} losses."
            )
        if splits is not None and len(splits) != len(points):
            raise ValueError(
                f"tell() got {len(points)} points but {len(splits)} splits."
            )
        losses = np.where(np.isnan(losses), np.inf, losses)
        self.points.extend(points)
        self.losses.extend(losses.tolist())
        keys = [self.space.key(self.space.canonical(p)) for p in points]
        self.told_keys.update(keys)
        return keys


@register
class RandomSampler(Optimizer):
    """Independent draws from the prior of every dimension.

    The branch of a conditional space is drawn uniformly, as
    ``RandomizedSearchCV`` draws one of its dicts.
    """

    STATE_FORMAT = 1
    STATE_FIELDS = Optimizer.STATE_FIELDS

    def ask(self, n_points=1):
        return self.space.sample(n_points, self.rng)


def initial_design(space, n, rng, kind="sobol"):
    """``n`` canonical points that cover ``space`` evenly.

    One design over ``1 + (largest branch's dimensions)`` unit coordinates:
    the first picks the branch, the next ones the coordinates of that
    branch.  ``kind`` is a scrambled Sobol or Halton sequence, a Latin
    hypercube, or independent uniform draws (``"random"``).
    """
    d = 1 + max(branch.n_dims for branch in space.branches)
    seed = int(rng.integers(2**31))
    if kind == "random":
        design = rng.random((n, d))
    elif kind == "sobol":
        design = qmc.Sobol(d, scramble=True, seed=seed).random_base2(math.ceil(math.log2(n)))[:n]
    elif kind == "halton":
        design = qmc.Halton(d, scramble=True, seed=seed).random(n)
    elif kind == "lhs":
        design = qmc.LatinHypercube(d, seed=seed).random(n)
    else:
        raise ValueError(f"initial_point_generator={kind!r} is not one of {INITIAL_POINT_GENERATORS}.")
    n_branches = space.n_branches
    points = []
    for u in design:
        b = min(int(u[0] * n_branches), n_branches - 1)
        points.append(space.canonical(Point(b, u[1 : 1 + space.branches[b].n_dims])))
    return points
