"""scikit-optimize's sub-spaces: ``search_spaces=[(space_a, 10), space_b]``.

A list of search spaces with at least one ``(space, n_iter)`` pair is
scikit-optimize's form: each space is searched in turn, by an optimizer of
its own, for its own number of candidates (``n_iter`` where the entry
gives none).  A list of dicts alone stays sk_hpo's conditional space: one
model over all the branches, ``n_iter`` candidates in all.

``Subspaces`` is that sequence as one ask/tell algorithm on the
conditional space whose branches are the sub-spaces, so that the engine's
loop, storage (re-told on resume) and callbacks serve it unchanged.
"""

import numbers

import numpy as np

from ._optimizer import Optimizer
from ._search_space import Point, SearchSpace
from ._space import _describe
from ._state import register


def has_pairs(search_spaces):
    """Whether ``search_spaces`` is scikit-optimize's form of sub-spaces."""
    return isinstance(search_spaces, list) and any(isinstance(e, tuple) for e in search_spaces)


def split_subspaces(search_spaces, n_iter):
    """``(spaces, counts)`` of scikit-optimize's form, or None for ours.

    Raises a ``ValueError`` naming the entry that is neither a dict nor a
    ``(dict, positive int)`` pair.
    """
    if not has_pairs(search_spaces):
        return None
    spaces, counts = [], []
    for i, entry in enumerate(search_spaces):
        count = n_iter
        if isinstance(entry, tuple):
            if len(entry) != 2:
                raise ValueError(
                    f"search_spaces[{i}] must be a dict or a (dict, n_iter) pair, got a tuple "
                    f"of {len(entry)}."
                )
            entry, count = entry
            if not isinstance(count, numbers.Integral) or isinstance(count, bool) or count < 1:
                raise ValueError(
                    f"search_spaces[{i}][1] (the sub-space's n_iter) must be a positive int, "
                    f"got {_describe(count)}."
                )
        if not isinstance(entry, dict):
            raise ValueError(
                f"search_spaces[{i}] must be a dict or a (dict, n_iter) pair, got "
                f"{_describe(entry)}."
            )
        spaces.append(entry)
        counts.append(int(count))
    return spaces, counts


@register
class Subspaces(Optimizer):
    """Sub-spaces searched one after another, each by its own optimizer.

    Parameters
    ----------
    space : SearchSpace
        The conditional space whose branches are the sub-spaces, in order.
    seed : int
        Seeds the optimizer of each sub-space (one seed drawn per sub-space).
    make_optimizer : callable
        ``make_optimizer(sub_space, seed)``: the algorithm of one sub-space.
    spaces : list of dict
        The sub-spaces as given.
    counts : list of int
        Candidates of each sub-space.
    """

    STATE_FORMAT = 1
    STATE_FIELDS = (*Optimizer.STATE_FIELDS, "optimizers", "counts", "pending")

    def __init__(self, space, seed, make_optimizer, spaces, counts):
        super().__init__(space, seed)
        seeds = self.rng.integers(np.iinfo(np.int32).max, size=len(spaces))
        self.optimizers = [make_optimizer(SearchSpace(s), int(seed))
                           for s, seed in zip(spaces, seeds)]  # fmt: skip
        self.counts = counts
        self.pending = [0] * len(spaces)  # asked and not told, per sub-space

    def _current(self):
        """The first sub-space whose candidates are not all asked yet."""
        used = np.bincount([key[0] for key in self.told_keys],
                           minlength=len(self.counts)) + self.pending  # fmt: skip
        for b, (n_used, count) in enumerate(zip(used, self.counts)):
            if n_used < count:
                return b, count - n_used
        return len(self.counts) - 1, 1  # the budget is spent: the engine stops asking

    def ask(self, n_points=1):
        b, left = self._current()
        points = self.optimizers[b].ask(min(n_points, left))
        self.pending[b] += len(points)
        return [Point(b, point.x) for point in points]

    def pend(self, points):
        for point in points:
            self.optimizers[point.branch].pend([Point(0, point.x)])

    def tell(self, points, losses, splits=None):
        keys = super().tell(points, losses, splits)
        splits = [None] * len(points) if splits is None else splits
        for b, optimizer in enumerate(self.optimizers):
            rows = [i for i, point in enumerate(points) if point.branch == b]
            if rows:
                optimizer.tell([Point(0, points[i].x) for i in rows],
                               [losses[i] for i in rows], [splits[i] for i in rows])  # fmt: skip
                self.pending[b] = max(0, self.pending[b] - len(rows))
        return keys
