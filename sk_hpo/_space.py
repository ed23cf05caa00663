"""Search-space dimensions and their mapping to and from the unit interval.

Every dimension maps its values to ``[0, 1]`` and back, so that the search
algorithms only ever see normalised vectors.  Integers and categories
round-trip exactly: ``from_unit(to_unit(v)) == v``.
"""

import copy
import math
import numbers

import numpy as np

PRIORS = ("uniform", "log-uniform")


def _describe(value):
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


class Dimension:
    """Base class of a search dimension.

    Subclasses define ``to_unit`` / ``from_unit`` (vectorised over values)
    and ``n_levels``: the number of distinct values for a discrete
    dimension, ``None`` for a continuous one.
    """

    name = None
    n_levels = None
    is_categorical = False
    # ``(parent name, threshold)``: the dimension exists only in candidates
    # whose parent is at least the threshold (see ``PerLayer``).
    active_if = None

    def check(self):
        """Raise ``ValueError``/``TypeError`` if the dimension is invalid.

        Constructors store their arguments untouched, as scikit-learn
        estimators do; a search checks its dimensions in ``fit``, where the
        message can name the parameter.  Returns the dimension.
        """
        if not getattr(self, "_checked", False):
            self._validate()
            self._checked = True
        return self

    def _validate(self):
        pass

    def to_unit(self, values):
        raise NotImplementedError

    def from_unit(self, unit):
        raise NotImplementedError

    def sample_unit(self, n, rng):
        """Draw unit coordinates from the prior.

        Parameters
        ----------
        n : int
            How many to draw.
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        ndarray of shape (n,)
            Points of the unit interval.
        """
        return rng.random(n)

    def rvs(self, n, rng):
        """Draw values from the prior.

        Parameters
        ----------
        n : int
            How many to draw.
        rng : numpy.random.Generator
            The source of randomness.

        Returns
        -------
        ndarray of shape (n,)
            Values of the dimension.
        """
        return self.from_unit(self.sample_unit(n, rng))

    def canonical_unit(self, unit):
        """Map unit coordinates onto those of the values they decode to.

        Parameters
        ----------
        unit : array-like of float
            Coordinates in the unit interval.

        Returns
        -------
        ndarray of float
            The unit coordinates of the decoded values: two coordinates that
            decode to the same value map to the same one.
        """
        return np.asarray(self.to_unit(self.from_unit(unit)), dtype=float)

    def value_key(self, value):
        """Return a hashable key that identifies a value within this dimension.

        Parameters
        ----------
        value : object
            A value of the dimension.

        Returns
        -------
        object
            Hashable; equal for values the dimension counts as the same.
        """
        return value

    def _with_name(self, name):
        self.name = name
        return self

    def _error(self, message):
        where = f"search space parameter {self.name!r}: " if self.name else ""
        return ValueError(where + message)


def _check_prior(prior, owner):
    if prior not in PRIORS:
        raise ValueError(
            f"{owner}: prior={prior!r} is not supported; use one of {PRIORS}."
        )


class _Range(Dimension):
    """A numeric interval ``[low, high]``, searched on a linear or log scale."""

    _bound_type = numbers.Real
    _bound_word = "real numbers"

    def __init__(self, low, high, prior="uniform", name=None):
        self.low = low
        self.high = high
        self.prior = prior
        self.name = name

    def _validate(self):
        owner = f"{type(self).__name__}({self.low!r}, {self.high!r})"
        for bound in (self.low, self.high):
            if not isinstance(bound, self._bound_type) or isinstance(bound, bool):
                raise TypeError(f"{owner}: bounds must be {self._bound_word}, got {bound!r}.")
            if not math.isfinite(bound):
                raise ValueError(f"{owner}: bounds must be finite, got {bound!r}.")
        _check_prior(self.prior, owner)
        if not self.low < self.high:
            raise ValueError(f"{owner}: low must be < high.")
        # For integers, low > 0 is low >= 1; the rule is named as it reads best.
        if self.prior == "log-uniform" and not self.low > 0:
            raise ValueError(
                f"{owner}: prior='log-uniform' needs {self._log_low_rule}, got low={self.low!r}."
            )

    def _transform(self, values):
        values = np.asarray(values, dtype=float)
        return np.log(values) if self.prior == "log-uniform" else values

    def _edges(self):
        """The interval's ends on the searched scale."""
        self.check()
        return self._transform(self._span())

    def to_unit(self, values):
        lo, hi = self._edges()
        return (self._transform(values) - lo) / (hi - lo)

    def _decode(self, unit):
        lo, hi = self._edges()
        t = lo + np.clip(np.asarray(unit, dtype=float), 0.0, 1.0) * (hi - lo)
        return np.exp(t) if self.prior == "log-uniform" else t

    def __repr__(self):
        return f"{type(self).__name__}({self.low!r}, {self.high!r}, prior={self.prior!r})"

    def __eq__(self, other):
        return type(other) is type(self) and (self.low, self.high, self.prior) == (
            other.low,
            other.high,
            other.prior,
        )

    __hash__ = None


def _float_key(value):
    """The key of a real value: the value to 12 significant digits.

    Decoding a unit coordinate and encoding the value again (``exp`` after
    ``log``, a CDF after its inverse) can move a real value by an ulp, and
    by how much depends on the CPU and the numpy build (seen with AVX-512
    paths).  A parameter dict read back from storage or given to
    ``to_point`` must still name the candidate it came from, so the key
    forgets the last digits; two values that close are the same candidate
    to any estimator.
    """
    return float(f"{float(value):.12g}")


class Real(_Range):
    """A real-valued dimension on ``[low, high]``.

    Parameters
    ----------
    low, high : float
        Bounds, both included. ``low < high``.
    prior : {"uniform", "log-uniform"}, default="uniform"
        With ``"log-uniform"`` the dimension is searched on the logarithm of
        the value, which requires ``low > 0``.
    name : str, optional
        Set by the search from the parameter name.
    step : float, default=None
        Only ``low, low + step, low + 2 * step, ...`` up to ``high`` (as
        Optuna's ``FloatDistribution(..., step=0.1)``), searched as ordered
        numbers.  Uniform prior only.

    Examples
    --------
    >>> from sk_hpo import Real
    >>> C = Real(1e-3, 1e3, prior="log-uniform")
    >>> float(C.from_unit(0.5))
    1.0
    >>> rate = Real(0.0, 0.5, step=0.1)
    >>> rate.n_levels, round(float(rate.from_unit(0.99)), 10)
    (6, 0.5)
    """

    _log_low_rule = "low > 0"

    def __init__(self, low, high, prior="uniform", name=None, *, step=None):
        super().__init__(low, high, prior=prior, name=name)
        self.step = step

    def _validate(self):
        super()._validate()
        if self.step is None:
            return
        owner = f"Real({self.low!r}, {self.high!r}, step={self.step!r})"
        if (not isinstance(self.step, numbers.Real) or isinstance(self.step, bool)
                or not 0 < self.step <= self.high - self.low):
            raise ValueError(
                f"{owner}: step must be a number in (0, high - low], got {self.step!r}."
            )
        if self.prior != "uniform":
            raise ValueError(f"{owner}: a step needs prior='uniform', got prior={self.prior!r}.")

    @property
    def n_levels(self):
        if self.step is None:
            return None
        return int(math.floor((self.high - self.low) / self.step + 1e-9)) + 1

    def _span(self):
        if self.step is None:
            return [self.low, self.high]
        # Value k covers [k - step/2, k + step/2], as an Integer's do.
        half = 0.5 * self.step
        return [self.low - half, self.low + (self.n_levels - 1) * self.step + half]

    def from_unit(self, unit):
        if self.step is None:
            return np.clip(self._decode(unit), self.low, self.high)
        levels = np.clip(np.round((self._decode(unit) - self.low) / self.step), 0, self.n_levels - 1)
        return self.low + levels * self.step

    def __repr__(self):
        step = f", step={self.step!r}" if self.step is not None else ""
        return f"Real({self.low!r}, {self.high!r}, prior={self.prior!r}{step})"

    def __eq__(self, other):
        return super().__eq__(other) and self.step == other.step

    __hash__ = None

    def value_key(self, value):
        return _float_key(value)


class Integer(_Range):
    """An integer dimension on ``[low, high]``, both included.

    Each integer owns an equal share of the unit interval (of its logarithm
    with ``prior="log-uniform"``), so decoding a unit coordinate never
    favours the bounds.

    Parameters
    ----------
    low, high : int
        Bounds, both included. ``low < high``.
    prior : {"uniform", "log-uniform"}, default="uniform"
        ``"log-uniform"`` requires ``low >= 1``.
    name : str, optional
        Set by the search from the parameter name.
    step : int, default=1
        Only ``low, low + step, low + 2 * step, ...`` up to ``high`` (as
        KerasTuner's ``hp.Int(..., step=32)``); the values stay ordered, so
        the searches model them as numbers, not as unrelated categories.
        Uniform prior only.

    Examples
    --------
    >>> from sk_hpo import Integer
    >>> depth = Integer(1, 10)
    >>> int(depth.from_unit(depth.to_unit(7)))
    7
    >>> units = Integer(32, 512, step=32)
    >>> units.n_levels, int(units.from_unit(0.99))
    (16, 512)
    """

    _bound_type = numbers.Integral
    _bound_word = "integers"
    _log_low_rule = "low >= 1"

    step = 1  # dimensions pickled before it existed

    def __init__(self, low, high, prior="uniform", name=None, *, step=1):
        super().__init__(low, high, prior=prior, name=name)
        self.step = step

    def _validate(self):
        super()._validate()
        owner = f"Integer({self.low!r}, {self.high!r}, step={self.step!r})"
        if not isinstance(self.step, numbers.Integral) or isinstance(self.step, bool) or self.step < 1:
            raise ValueError(f"{owner}: step must be a positive integer, got {self.step!r}.")
        if self.step > 1 and self.prior != "uniform":
            raise ValueError(f"{owner}: a step needs prior='uniform', got prior={self.prior!r}.")
        if self.step > 1 and self.step > self.high - self.low:
            raise ValueError(f"{owner}: step must be at most high - low = {self.high - self.low}.")

    @property
    def n_levels(self):
        return (int(self.high) - int(self.low)) // int(self.step) + 1

    def _top(self):
        return int(self.low) + (self.n_levels - 1) * int(self.step)

    def _span(self):
        # Value k covers [k - step/2, k + step/2] (on the log scale with a log prior).
        half = 0.5 * self.step
        return [self.low - half, self._top() + half]

    def from_unit(self, unit):
        levels = np.round((self._decode(unit) - self.low) / self.step)
        return (self.low + np.clip(levels, 0, self.n_levels - 1) * self.step).astype(np.int64)

    def __repr__(self):
        step = f", step={self.step!r}" if self.step != 1 else ""
        return f"Integer({self.low!r}, {self.high!r}, prior={self.prior!r}{step})"

    def __eq__(self, other):
        return super().__eq__(other) and self.step == other.step

    __hash__ = None


class Categorical(Dimension):
    """A choice among arbitrary objects.

    Category ``i`` of ``n`` owns the slice ``[i / n, (i + 1) / n)`` of the
    unit interval; algorithms are told ``is_categorical`` so that they model
    it with a categorical kernel rather than by distance.

    Parameters
    ----------
    categories : sequence
        The values: strings, numbers, ``None``, estimators, tuples such as
        ``(64, 32)``... at least one.
    prior : sequence of float, optional
        Probabilities of the categories when sampled at random; uniform by
        default.
    name : str, optional
        Set by the search from the parameter name.

    Examples
    --------
    >>> from sk_hpo import Categorical
    >>> kernel = Categorical(["linear", "rbf", None])
    >>> kernel.from_unit(kernel.to_unit(["rbf", None])).tolist()
    ['rbf', None]
    """

    is_categorical = True

    def __init__(self, categories, prior=None, name=None):
        self.categories = categories
        self.prior = prior
        self.name = name

    def _validate(self):
        if isinstance(self.categories, (str, bytes)) or not hasattr(
            self.categories, "__len__"
        ):
            raise TypeError(
                "Categorical: categories must be a list or tuple of values, "
                f"got {_describe(self.categories)}."
            )
        self._values = list(self.categories)
        if not self._values:
            raise ValueError("Categorical: categories must not be empty.")
        self._keys = [_category_key(value) for value in self._values]
        if self.prior is not None:
            p = np.asarray(self.prior, dtype=float)
            if (
                p.shape != (len(self._values),)
                or np.any(p < 0)
                or not np.isclose(p.sum(), 1.0)
            ):
                raise ValueError(
                    f"Categorical: prior must be {len(self._values)} non-negative "
                    f"probabilities summing to 1, got {self.prior!r}."
                )

    @property
    def n_levels(self):
        return len(self.check()._values)

    def index(self, value):
        self.check()
        key = _category_key(value)
        for i, (candidate, candidate_key) in enumerate(zip(self._values, self._keys)):
            if candidate is value or candidate_key == key:
                return i
        raise self._error(
            f"{_describe(value)} is not one of the categories {_describe(self._values)}."
        )

    def to_unit(self, values):
        indices = np.array([self.index(v) for v in _as_value_list(values)], dtype=float)
        unit = (indices + 0.5) / self.n_levels
        return unit if _is_sequence_input(values) else unit[0]

    def from_unit(self, unit):
        self.check()
        unit = np.asarray(unit, dtype=float)
        indices = np.clip(np.floor(unit * self.n_levels), 0, self.n_levels - 1)
        out = np.empty(indices.shape, dtype=object)
        flat = out.reshape(-1)
        for position, i in enumerate(indices.reshape(-1).astype(int)):
            flat[position] = self._values[i]
        return out if out.ndim else out[()]

    def canonical_unit(self, unit):
        k = self.n_levels
        return (np.clip(np.floor(np.asarray(unit, dtype=float) * k), 0, k - 1) + 0.5) / k

    def sample_unit(self, n, rng):
        if self.prior is None:
            return rng.random(n)
        indices = rng.choice(self.n_levels, size=n, p=np.asarray(self.prior, float))
        return (indices + rng.random(n)) / self.n_levels

    def value_key(self, value):
        return self.index(value)

    def __repr__(self):
        return f"Categorical({_describe(self.categories)})"

    def __eq__(self, other):
        return type(other) is type(self) and self.check()._keys == other.check()._keys

    __hash__ = None


class Distribution(Dimension):
    """A continuous ``scipy.stats`` frozen distribution, searched through its CDF.

    The unit coordinate of a value is its cumulative probability, so drawing
    uniformly on the unit interval samples the distribution itself.  This is
    how a ``RandomizedSearchCV`` space such as ``{"C": expon(scale=100)}``
    keeps its meaning in a model-based search.

    Parameters
    ----------
    distribution : scipy.stats frozen continuous distribution
        The prior, for example ``scipy.stats.expon(scale=100)``.
    name : str, optional
        The parameter's name; a search sets it from its search space.
    """

    # Keep decoded values finite for distributions with unbounded support.
    _EPS = 1e-12

    def __init__(self, distribution, name=None):
        self.distribution = distribution
        self.name = name

    def to_unit(self, values):
        return np.asarray(self.distribution.cdf(np.asarray(values, dtype=float)))

    def from_unit(self, unit):
        unit = np.clip(np.asarray(unit, dtype=float), self._EPS, 1 - self._EPS)
        return np.asarray(self.distribution.ppf(unit), dtype=float)

    def value_key(self, value):
        return _float_key(value)

    def __repr__(self):
        dist = self.distribution
        return f"Distribution({dist.dist.name}, args={dist.args}, kwds={dist.kwds})"


def _category_key(value):
    """Key under which two categories count as the same value."""
    try:
        hash(value)
    except TypeError:
        return ("repr", type(value).__name__, repr(value))
    if hasattr(value, "get_params"):
        return ("estimator", id(value))
    if isinstance(value, (bool, np.bool_)):
        return ("bool", bool(value))
    if isinstance(value, numbers.Number):
        return ("number", value)
    return (type(value).__name__, value)


def _is_sequence_input(values):
    return isinstance(values, (list, np.ndarray)) and not (
        isinstance(values, np.ndarray) and values.ndim == 0
    )


def _as_value_list(values):
    if isinstance(values, np.ndarray):
        return list(values.reshape(-1)) if values.ndim else [values[()]]
    return list(values) if isinstance(values, list) else [values]


# --- conversion from the forms users already have ---------------------------

_SCIPY_HINT = (
    "supported are Real, Integer, Categorical (sk_hpo's or scikit-optimize's), Optuna's "
    "distributions, a list of values, a (low, high, prior) tuple, and scipy.stats frozen "
    "distributions: uniform, loguniform (reciprocal), randint, or any continuous one"
)


def _from_scipy(distribution):
    dist = distribution.dist
    dist_name = getattr(dist, "name", type(dist).__name__)
    args = tuple(distribution.args)
    kwds = dict(distribution.kwds)
    low, high = distribution.support()
    if dist_name == "uniform":
        return Real(float(low), float(high))
    if dist_name in ("loguniform", "reciprocal"):
        loc = kwds.get("loc", args[2] if len(args) > 2 else 0)
        scale = kwds.get("scale", args[3] if len(args) > 3 else 1)
        if loc == 0 and scale == 1:
            return Real(float(low), float(high), prior="log-uniform")
    if dist_name == "randint":
        return Integer(int(low), int(high))
    if hasattr(dist, "ppf") and hasattr(dist, "pdf"):
        return Distribution(distribution)
    raise ValueError(f"the distribution {dist_name!r} is not supported; {_SCIPY_HINT}.")


# Search dimensions written for scikit-optimize or Optuna, read as sk_hpo's.
#
# A scikit-optimize script builds its space from ``skopt.space.Real``,
# ``Integer`` and ``Categorical``; an ``OptunaSearchCV`` script from
# ``optuna.distributions.FloatDistribution``, ``IntDistribution`` and
# ``CategoricalDistribution``.  Both kinds are recognised by their class's
# module and name, and read through their public attributes, so neither
# library is imported (nor needed) here.
#
# - scikit-optimize: ``low``, ``high`` and ``prior`` (``"uniform"`` or
#   ``"log-uniform"``; the log's ``base`` does not change the law, and
#   ``transform`` is scikit-optimize's internal encoding, so neither matters
#   here); a categorical's ``categories`` and ``prior`` (probabilities).
# - Optuna: ``low``, ``high``, ``log`` and ``step`` (also the deprecated
#   ``UniformDistribution`` family, subclasses of these); a categorical's
#   ``choices``.
_SKOPT = {"Real", "Integer", "Categorical"}
_OPTUNA_FLOAT = {"FloatDistribution", "UniformDistribution", "LogUniformDistribution",
                 "DiscreteUniformDistribution"}  # fmt: skip
_OPTUNA_INT = {"IntDistribution", "IntUniformDistribution", "IntLogUniformDistribution"}


def foreign_dimension(spec):
    """The sk_hpo dimension for a scikit-optimize or Optuna object; None for any other."""
    cls = type(spec)
    module, name = cls.__module__ or "", cls.__name__
    if module == "skopt" or module.startswith("skopt."):
        if name not in _SKOPT:
            raise ValueError(
                f"scikit-optimize's {name} is not a dimension sk_hpo reads; give each "
                "parameter a skopt.space.Real, Integer or Categorical (or sk_hpo's classes "
                "of the same names)."
            )
        if name == "Categorical":
            return Categorical(list(spec.categories), prior=spec.prior)
        kind = Real if name == "Real" else Integer
        low, high = (float(spec.low), float(spec.high)) if kind is Real else (spec.low, spec.high)
        return kind(low, high, prior=spec.prior)
    if module == "optuna" or module.startswith("optuna."):
        prior = "log-uniform" if getattr(spec, "log", False) else "uniform"
        if name == "CategoricalDistribution":
            return Categorical(list(spec.choices))
        if name in _OPTUNA_FLOAT:
            return Real(float(spec.low), float(spec.high), prior=prior, step=spec.step)
        if name in _OPTUNA_INT:
            return Integer(spec.low, spec.high, prior=prior, step=spec.step)
        raise ValueError(
            f"Optuna's {name} is not a distribution sk_hpo reads; use FloatDistribution, "
            "IntDistribution or CategoricalDistribution (or sk_hpo's Real, Integer and "
            "Categorical)."
        )
    return None


def to_dimension(name, spec):
    """Convert one user-given value of a search space into a ``Dimension``.

    Accepts a ``Dimension``; a list, tuple or array of values (categorical,
    as in scikit-learn's searches); a ``(low, high)`` or ``(low, high,
    prior)`` tuple of numbers in scikit-optimize's style (a range: integer
    if both bounds are, ``prior`` ``"uniform"`` or ``"log-uniform"``);
    scikit-optimize's ``Real``, ``Integer`` and ``Categorical`` and Optuna's
    distributions (:func:`foreign_dimension`); and ``scipy.stats`` frozen
    distributions.
    """
    try:
        dimension = _to_dimension(spec)
        # A copy, so that one Dimension object may serve several parameters.
        return copy.copy(dimension)._with_name(name).check()
    except (TypeError, ValueError) as exc:
        raise ValueError(f"search space parameter {name!r}: {exc}") from None


def _to_dimension(spec):
    if isinstance(spec, Dimension):
        return spec
    foreign = foreign_dimension(spec)
    if foreign is not None:
        return foreign
    if hasattr(spec, "dist") and hasattr(spec, "rvs") and hasattr(spec, "support"):
        return _from_scipy(spec)
    numeric = isinstance(spec, tuple) and all(
        isinstance(b, numbers.Real) and not isinstance(b, bool) for b in spec[:2]
    )
    if numeric and (len(spec) == 2 or (len(spec) == 3 and spec[2] in PRIORS)):
        low, high, prior = (*spec, "uniform")[:3]
        both_int = all(isinstance(b, numbers.Integral) for b in (low, high))
        return (Integer if both_int else Real)(low, high, prior=prior)
    if isinstance(spec, (list, tuple, np.ndarray)) and not isinstance(spec, str):
        if isinstance(spec, np.ndarray) and spec.ndim != 1:
            raise ValueError(f"an array of values must be 1-d, got shape {spec.shape}.")
        return Categorical(list(spec))
    if hasattr(spec, "rvs"):
        raise ValueError(
            f"{_describe(spec)} has rvs() but is not a scipy.stats frozen "
            f"distribution; {_SCIPY_HINT}."
        )
    raise ValueError(f"{_describe(spec)} is not a search dimension; {_SCIPY_HINT}.")
