"""A search space: one or more alternative branches of named dimensions.

The algorithms see a point as ``Point(branch, x)``: the index of a branch
and a vector of unit coordinates, one per dimension of that branch.  A
single dict is a space with one branch; a list of dicts (like
``GridSearchCV``'s list of grids) gives one branch per dict, searched
jointly under one budget.
"""

import math
import numbers
from collections import namedtuple

import numpy as np

from ._space import Integer, _describe, to_dimension

Point = namedtuple("Point", ["branch", "x"])
Point.__doc__ = "A candidate in normalised form: branch index and unit vector."


class Branch:
    """The named dimensions of one alternative sub-space."""

    def __init__(self, names, dimensions):
        self.names = list(names)
        self.dimensions = list(dimensions)

    @property
    def n_dims(self):
        return len(self.dimensions)

    @property
    def size(self):
        """Number of distinct candidates, or ``inf`` if a dimension is continuous."""
        size = 1
        for dim in self.dimensions:
            if dim.n_levels is None:
                return math.inf
            size *= dim.n_levels
        return size

    def __repr__(self):
        items = ", ".join(f"{n!r}: {d!r}" for n, d in zip(self.names, self.dimensions))
        return "{" + items + "}"


class SearchSpace:
    """Conversion between parameter dicts and normalised points.

    Parameters
    ----------
    search_spaces : dict or list of dict
        Parameter names mapped to dimensions, or to anything
        :func:`~sk_hpo._space.to_dimension` accepts.
    """

    def __init__(self, search_spaces):
        self.branches = [
            _parse_branch(spec, where) for where, spec in _branch_specs(search_spaces)
        ]

    @property
    def n_branches(self):
        return len(self.branches)

    @property
    def size(self):
        return sum(branch.size for branch in self.branches)

    def sample(self, n, rng):
        """``n`` canonical points drawn from the prior; the branch uniformly."""
        branches = rng.integers(self.n_branches, size=n)
        points = []
        for b in branches:
            dims = self.branches[b].dimensions
            x = np.array([dim.sample_unit(1, rng)[0] for dim in dims], dtype=float)
            points.append(self.canonical(Point(int(b), x)))
        return points

    def canonical(self, point):
        """The unit coordinates of the values ``point`` decodes to."""
        dims = self.branches[point.branch].dimensions
        x = np.array(
            [dim.canonical_unit(u) for dim, u in zip(dims, point.x)], dtype=float
        )
        return Point(int(point.branch), x)

    def to_params(self, point):
        """The parameter dict of ``point``, with Python scalars for numbers."""
        branch = self.branches[point.branch]
        return {
            name: _native(dim.from_unit(u))
            for name, dim, u in zip(branch.names, branch.dimensions, point.x)
        }

    def key(self, point):
        """Hashable identity of the candidate ``point`` decodes to."""
        branch = self.branches[point.branch]
        params = self.to_params(point)
        return (int(point.branch),) + tuple(
            dim.value_key(params[name]) for name, dim in zip(branch.names, branch.dimensions)
        )

    def to_point(self, params):
        """The point of a parameter dict; it must match one branch exactly."""
        problems = []
        for b, branch in enumerate(self.branches):
            where = f" of branch {b}" if self.n_branches > 1 else ""
            if set(params) != set(branch.names):
                continue
            x = []
            for name, dim in zip(branch.names, branch.dimensions):
                problem = _membership_problem(dim, params[name])
                if problem:
                    problems.append(f"{name!r}{where}: {problem}")
                    break
                x.append(float(dim.to_unit(params[name])))
            else:
                return self.canonical(Point(b, np.asarray(x, dtype=float)))
        if not problems:
            given = sorted(map(str, params))
            expected = " or ".join(str(branch.names) for branch in self.branches)
            problems.append(f"its parameters {given} are not those of the space, {expected}")
        raise ValueError(f"{_describe(params)} is not a point of the search space: "
                         + "; ".join(problems) + ".")

    def __repr__(self):
        return f"SearchSpace({self.branches!r})"


def _branch_specs(search_spaces):
    if isinstance(search_spaces, dict):
        return [("search_spaces", search_spaces)]
    if isinstance(search_spaces, (list, tuple)):
        if not search_spaces:
            raise ValueError("search_spaces: an empty list has no candidates.")
        specs = []
        for i, spec in enumerate(search_spaces):
            if not isinstance(spec, dict):
                raise ValueError(
                    f"search_spaces[{i}] must be a dict of parameter names to "
                    f"dimensions, got {_describe(spec)}."
                )
            specs.append((f"search_spaces[{i}]", spec))
        return specs
    raise ValueError(
        "search_spaces must be a dict of parameter names to dimensions or a list "
        f"of such dicts, got {_describe(search_spaces)}."
    )


def _parse_branch(spec, where):
    # Sorted by name, as scikit-learn's searches order each candidate's params.
    names, dimensions = [], []
    for name, value in sorted(spec.items(), key=_name_order):
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: parameter names must be non-empty strings, got {name!r}.")
        names.append(name)
        dimensions.append(to_dimension(name, value))
    return Branch(names, dimensions)


def _name_order(item):
    return (not isinstance(item[0], str), str(item[0]))


def _native(value):
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    return value


def _membership_problem(dim, value):
    """Why ``value`` is not a value of ``dim``, or None."""
    if dim.is_categorical:
        try:
            dim.index(value)
        except ValueError:
            return f"{_describe(value)} is not one of {_describe(list(dim.categories))}"
        return None
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        return f"{_describe(value)} is not a number"
    if isinstance(dim, Integer) and value != int(value):
        return f"{value!r} is not an integer"
    unit = float(dim.to_unit(value))
    if not 0 <= unit <= 1:
        return f"{value!r} is outside {dim!r}"
    return None
