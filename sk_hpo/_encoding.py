"""Input encoding: the points of a search space as rows of GP inputs.

Every numeric dimension is its unit coordinate and every categorical one
one-hot; a conditional space puts the blocks of all branches side by side,
with a one-hot branch indicator in front and zeros in the blocks of
inactive branches, so that one GP learns from every observation; a
per-layer dimension of an absent layer is zeros too (numeric: the bottom of
its range, so a missing layer sits next to the smallest one), and the
number of layers, an input itself, tells the rest.
"""

import numpy as np

from ._state import register


@register
class Encoding:
    """Points of a ``SearchSpace`` as rows of GP inputs."""

    STATE_FORMAT = 1
    STATE_FIELDS = ("space", "numeric", "numeric_columns", "categorical", "width")

    def __init__(self, space):
        self.space = space
        n_branches = space.n_branches
        offset = n_branches if n_branches > 1 else 0
        self.numeric = []  # per branch: indices of the numeric dimensions
        self.numeric_columns = []  # ... and their input columns
        self.categorical = []  # per branch: (dimension index, first column, levels)
        for branch in space.branches:
            numeric, columns, categorical = [], [], []
            for j, dim in enumerate(branch.dimensions):
                if dim.is_categorical:
                    categorical.append((j, offset, dim.n_levels))
                    offset += dim.n_levels
                else:
                    numeric.append(j)
                    columns.append(offset)
                    offset += 1
            self.numeric.append(np.array(numeric, dtype=int))
            self.numeric_columns.append(np.array(columns, dtype=int))
            self.categorical.append(categorical)
        self.width = offset

    def encode_branch(self, b, xs):
        """Input rows for unit vectors ``xs`` (shape ``(m, d_b)``) of branch ``b``."""
        xs = np.asarray(xs, dtype=float).reshape(-1, self.space.branches[b].n_dims)
        rows = np.zeros((len(xs), self.width))
        if self.space.n_branches > 1:
            rows[:, b] = 1.0
        branch = self.space.branches[b]
        active = branch.active(xs) if branch.conditional else None
        numeric = xs[:, self.numeric[b]]
        rows[:, self.numeric_columns[b]] = (
            numeric if active is None else numeric * active[:, self.numeric[b]])
        for j, first, levels in self.categorical[b]:
            codes = np.clip(np.floor(xs[:, j] * levels), 0, levels - 1).astype(int)
            on = slice(None) if active is None else active[:, j]
            rows[np.arange(len(xs))[on], (first + codes)[on]] = 1.0
        return rows

    def encode(self, points):
        rows = np.empty((len(points), self.width))
        for b in {p.branch for p in points}:
            idx = [i for i, p in enumerate(points) if p.branch == b]
            rows[idx] = self.encode_branch(b, [points[i].x for i in idx])
        return rows
