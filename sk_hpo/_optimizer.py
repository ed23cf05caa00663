"""The ask/tell contract between a search and its algorithm.

An optimizer knows nothing of scikit-learn: it proposes ``Point``s of a
``SearchSpace`` and is told the loss of each (lower is better; a failed
evaluation is told as ``numpy.inf``).  Every point proposed by ``ask`` is
told back exactly once, possibly in a later batch.
"""

import numpy as np


class Optimizer:
    """Base class of the search algorithms.

    Parameters
    ----------
    space : SearchSpace
        The space to search.
    seed : int or numpy.random.Generator
        Seeds the optimizer's own ``numpy.random.Generator``.
    """

    def __init__(self, space, seed=None):
        self.space = space
        self.rng = np.random.default_rng(seed)
        self.points = []
        self.losses = []

    def ask(self, n_points=1):
        """Propose ``n_points`` points to evaluate next."""
        raise NotImplementedError

    def tell(self, points, losses):
        """Record the losses of evaluated points (``inf`` for a failure)."""
        losses = np.asarray(losses, dtype=float)
        if len(points) != len(losses):
            raise ValueError(
                f"tell() got {len(points)} points but {len(losses)} losses."
            )
        losses = np.where(np.isnan(losses), np.inf, losses)
        self.points.extend(points)
        self.losses.extend(losses.tolist())


class RandomSampler(Optimizer):
    """Independent draws from the prior of every dimension.

    The branch of a conditional space is drawn uniformly, as
    ``RandomizedSearchCV`` draws one of its dicts.
    """

    def ask(self, n_points=1):
        return self.space.sample(n_points, self.rng)
