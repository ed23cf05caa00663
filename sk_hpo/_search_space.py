"""A search space: one or more alternative branches of named dimensions.

The algorithms see a point as ``Point(branch, x)``: the index of a branch
and a vector of unit coordinates, one per dimension of that branch.  A
single dict is a space with one branch; a list of dicts (like
``GridSearchCV``'s list of grids) gives one branch per dict, searched
jointly under one budget.

Within a branch, a dimension may be conditional: ``PerLayer`` expands into
one dimension per layer, the ``i``-th active only in candidates with more
than ``i`` layers.  A point keeps a coordinate for every dimension, active
or not (a genetic search carries the inactive ones as dormant genes); its
parameters, its identity (``key``) and what the models learn from it
(``Branch.active``) leave the inactive ones out.
"""

import math
import numbers
import re
from collections import namedtuple

import numpy as np

from ._space import Integer, _describe, to_dimension

Point = namedtuple("Point", ["branch", "x"])
Point.__doc__ = "A candidate in normalised form: branch index and unit vector."


def layer_name(name, i):
    """The name of layer ``i``'s value of a per-layer parameter: ``units_0``."""
    return f"{name}_{i}"


def split_layer_name(name):
    """``(name, i)`` of a per-layer name such as ``units_0``; None for any other."""
    match = re.fullmatch(r"(.+)_(\d+)", name)
    return None if match is None else (match.group(1), int(match.group(2)))



# The unit coordinate given to a parameter its point leaves inactive (an
# absent layer's units): any value would do, the searches' models ignore it;
# one value, so that nothing downstream depends on it.
INACTIVE_UNIT = 0.5

class PerLayer:
    """One parameter per layer, for the layers each candidate has.

    ``"model__units": PerLayer(Integer(32, 512, step=32))`` beside
    ``"model__n_layers": Integer(1, 4)`` searches ``model__units_0`` to
    ``model__units_3``, where ``model__units_i`` exists only in candidates
    with more than ``i`` layers: KerasTuner's ``for i in range(hp.Int(
    "layers", 1, 4)): hp.Int(f"units_{i}", 32, 512, step=32)``.  A
    candidate's parameters hold only its layers' values, ``cv_results_``
    masks the others (as scikit-learn masks the parameters of another
    branch), and the searches' models learn each layer's value only from
    the candidates that have that layer.

    Parameters
    ----------
    dimension : dimension
        The range of each layer's value: anything a search space accepts
        (``Integer``, ``Real``, a list of choices, a ``scipy.stats``
        distribution).
    count : str, default=None
        The searched parameter that holds the number of layers, in the same
        dict: an ``Integer`` or a list of non-negative integers.  By default
        ``n_layers`` with this parameter's prefix (``model__n_layers`` for
        ``model__units``).

    Examples
    --------
    >>> from sk_hpo import Integer, PerLayer, Real, SearchSpace
    >>> space = SearchSpace({"model__n_layers": Integer(1, 3),
    ...                      "model__units": PerLayer(Integer(32, 256, step=32)),
    ...                      "model__dropout": PerLayer(Real(0.0, 0.5))})
    >>> space.branches[0].names  # doctest: +NORMALIZE_WHITESPACE
    ['model__dropout_0', 'model__dropout_1', 'model__dropout_2', 'model__n_layers',
     'model__units_0', 'model__units_1', 'model__units_2']
    >>> point = space.to_point({"model__n_layers": 1, "model__units_0": 64,
    ...                         "model__dropout_0": 0.25})
    >>> space.to_params(point)  # a one-layer candidate: no model__units_1
    {'model__dropout_0': 0.25, 'model__n_layers': 1, 'model__units_0': 64}
    """

    def __init__(self, dimension, count=None):
        self.dimension = dimension
        self.count = count

    def __repr__(self):
        count = f", count={self.count!r}" if self.count is not None else ""
        return f"PerLayer({self.dimension!r}{count})"

    def __eq__(self, other):
        return type(other) is type(self) and (self.dimension, self.count) == (
            other.dimension, other.count)

    __hash__ = None


class Branch:
    """The named dimensions of one alternative sub-space."""

    def __init__(self, names, dimensions):
        self.names = list(names)
        self.dimensions = list(dimensions)
        index = {name: j for j, name in enumerate(self.names)}
        # Per dimension: None, or (index of its parent, threshold).
        self.conditions = [
            None if dim.active_if is None else (index[dim.active_if[0]], dim.active_if[1])
            for dim in self.dimensions
        ]
        self.conditional = any(c is not None for c in self.conditions)

    def active(self, xs):
        """Boolean mask of the active coordinates of unit vectors ``xs`` (``(m, d)``)."""
        xs = np.asarray(xs, dtype=float)
        rows = len(xs) if xs.ndim > 1 else 1
        xs = xs.reshape(rows, self.n_dims)
        mask = np.ones(xs.shape, dtype=bool)
        if self.conditional:
            for j, condition in enumerate(self.conditions):
                if condition is not None:
                    parent, threshold = condition
                    values = self.dimensions[parent].from_unit(xs[:, parent])
                    mask[:, j] = np.asarray(values, dtype=float) >= threshold
        return mask

    @property
    def n_dims(self):
        return len(self.dimensions)

    @property
    def size(self):
        """Number of distinct candidates, or ``inf`` if a dimension is continuous."""
        if any(dim.n_levels is None for dim in self.dimensions):
            return math.inf
        if not self.conditional:
            return math.prod(dim.n_levels for dim in self.dimensions)
        # Sum over the values of the parents of the candidates each allows.
        parents = sorted({c[0] for c in self.conditions if c is not None})
        free = math.prod(
            dim.n_levels for j, dim in enumerate(self.dimensions)
            if self.conditions[j] is None and j not in parents
        )
        total = 0
        for combo in np.ndindex(*[self.dimensions[p].n_levels for p in parents]):
            values = {
                p: float(self.dimensions[p].from_unit((level + 0.5) / self.dimensions[p].n_levels))
                for p, level in zip(parents, combo)
            }
            count = 1
            for condition, dim in zip(self.conditions, self.dimensions):
                if condition is not None and values[condition[0]] >= condition[1]:
                    count *= dim.n_levels
            total += count
        return free * total

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
        """Draw canonical points from the prior, the branch uniformly.

        Parameters
        ----------
        n : int
            How many to draw.
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        list of Point
            Each a branch index and unit coordinates.
        """
        branches = rng.integers(self.n_branches, size=n)
        points = []
        for b in branches:
            dims = self.branches[b].dimensions
            x = np.array([dim.sample_unit(1, rng)[0] for dim in dims], dtype=float)
            points.append(self.canonical(Point(int(b), x)))
        return points

    def canonical(self, point):
        """Return the point whose coordinates are those of the values ``point`` decodes to.

        Parameters
        ----------
        point : Point
            A branch index and unit coordinates.

        Returns
        -------
        Point
            Points that decode to the same candidate have the same canonical point.
        """
        dims = self.branches[point.branch].dimensions
        x = np.array(
            [dim.canonical_unit(u) for dim, u in zip(dims, point.x)], dtype=float
        )
        return Point(int(point.branch), x)

    def to_params(self, point):
        """Decode a point into the parameters of its candidate.

        Parameters
        ----------
        point : Point
            A branch index and unit coordinates.

        Returns
        -------
        dict
            Parameter names to values (Python scalars for numbers); only the
            parameters active in the candidate.
        """
        branch = self.branches[point.branch]
        active = branch.active(point.x)[0]
        return {
            name: _native(dim.from_unit(u))
            for name, dim, u, on in zip(branch.names, branch.dimensions, point.x, active)
            if on
        }

    def key(self, point):
        """Return a hashable identity of the candidate a point decodes to.

        Parameters
        ----------
        point : Point
            A branch index and unit coordinates.

        Returns
        -------
        tuple
            Equal for points that decode to the same candidate.
        """
        branch = self.branches[point.branch]
        params = self.to_params(point)
        return (int(point.branch),) + tuple(
            dim.value_key(params[name]) if name in params else None
            for name, dim in zip(branch.names, branch.dimensions)
        )

    def to_point(self, params):
        """Encode a parameter dict as a point.

        Parameters
        ----------
        params : dict
            Parameter names to values; it must match one branch exactly.

        Returns
        -------
        Point
            The branch index and unit coordinates.
        """
        problems = []
        for b, branch in enumerate(self.branches):
            where = f" of branch {b}" if self.n_branches > 1 else ""
            required = {n for n, c in zip(branch.names, branch.conditions) if c is None}
            if not required <= set(params) <= set(branch.names):
                continue
            x = []
            for name, dim in zip(branch.names, branch.dimensions):
                if name not in params:
                    x.append(INACTIVE_UNIT)  # inactive, if the parents agree (below)
                    continue
                problem = _membership_problem(dim, params[name])
                if problem:
                    problems.append(f"{name!r}{where}: {problem}")
                    break
                x.append(float(dim.to_unit(params[name])))
            else:
                point = self.canonical(Point(b, np.asarray(x, dtype=float)))
                active = branch.active(point.x)[0]
                if {n for n, on in zip(branch.names, active) if on} == set(params):
                    return point
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
    dimensions = {}
    for name, value in spec.items():
        if not isinstance(name, str) or not name:
            raise ValueError(f"{where}: parameter names must be non-empty strings, got {name!r}.")
        if not isinstance(value, PerLayer):
            dimensions[name] = to_dimension(name, value)
    for name, value in spec.items():
        if isinstance(value, PerLayer):
            for per_layer_name, dim in _per_layer_dimensions(name, value, dimensions, where):
                if per_layer_name in dimensions:
                    raise ValueError(
                        f"search space parameter {name!r}: PerLayer makes {per_layer_name!r}, "
                        f"which {where} also gives on its own; remove one of them."
                    )
                dimensions[per_layer_name] = dim
    names = sorted(dimensions, key=lambda name: _name_order((name, None)))
    return Branch(names, [dimensions[name] for name in names])


def _per_layer_dimensions(name, spec, dimensions, where):
    """The dimensions ``name_0``, ``name_1``... of a ``PerLayer``, each conditional."""
    count = spec.count
    if count is None:
        count = name[: name.rfind("__") + 2] + "n_layers" if "__" in name else "n_layers"
    problem = f"search space parameter {name!r}: PerLayer(count={count!r})"
    if not isinstance(count, str):
        raise TypeError(f"{problem}: count must be the name of a searched parameter.")
    parent = dimensions.get(count)
    if parent is None:
        raise ValueError(
            f"{problem}: {where} has no parameter {count!r} to hold the number of layers; "
            f"add one (e.g. {count!r}: Integer(1, 4)) or name it with count=."
        )
    if parent.active_if is not None:
        raise ValueError(f"{problem}: the number of layers cannot itself be per layer.")
    if isinstance(parent, Integer):
        low, high = int(parent.low), int(parent._top())
    elif parent.is_categorical and all(
        isinstance(v, numbers.Integral) and not isinstance(v, bool) and v >= 0
        for v in parent.categories
    ):
        low, high = int(min(parent.categories)), int(max(parent.categories))
    else:
        raise ValueError(
            f"{problem}: {count!r} must be an Integer or a list of non-negative integers, "
            f"got {parent!r}."
        )
    if high > 64:
        raise ValueError(f"{problem}: up to {high} layers; PerLayer allows at most 64.")
    for i in range(high):
        dim = to_dimension(layer_name(name, i), spec.dimension)
        dim.active_if = (count, i + 1) if i + 1 > low else None
        yield layer_name(name, i), dim


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
    if isinstance(dim, Integer) and (value - dim.low) % dim.step:
        return f"{value!r} is not one of {dim!r}'s steps"
    unit = float(dim.to_unit(value))
    if not 0 <= unit <= 1:
        return f"{value!r} is outside {dim!r}"
    return None
