"""Test functions with a known optimum, as scikit-learn estimators.

:class:`FunctionEstimator` costs nothing to fit and scores minus the value
of a test function at its parameters, so that a search can be checked
against the known optimum (and its overhead measured apart from fitting).

>>> from sk_hpo.testing import FUNCTIONS, FunctionEstimator
>>> problem = FUNCTIONS["branin"]
>>> est = FunctionEstimator("branin", x0=-3.14159265, x1=12.275).fit([[0], [1]], [0, 1])
>>> round(-est.score(None, None), 4) == round(problem.optimum, 4)
True
"""

import hashlib
import time
from dataclasses import dataclass

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin

from ._space import Categorical, Integer, Real

__all__ = [
    "FUNCTIONS",
    "FunctionEstimator",
    "Problem",
    "assert_same_cv_results",
    "branin",
    "dummy_data",
    "hartmann6",
    "levy",
    "minimise",
    "mixed",
    "rosenbrock",
]

_MIXED_CATEGORY_COST = {"a": 1.0, "b": 0.0, "c": 0.5, "d": 2.0}


def branin(x0, x1):
    """Branin-Hoo on [-5, 10] x [0, 15]; minimum 0.397887 at three points.

    Parameters
    ----------
    x0 : float
        The first coordinate, in [-5, 10].
    x1 : float
        The second coordinate, in [0, 15].

    Returns
    -------
    float
        The function's value.
    """
    b, c, t = 5.1 / (4 * np.pi**2), 5 / np.pi, 1 / (8 * np.pi)
    return (x1 - b * x0**2 + c * x0 - 6) ** 2 + 10 * (1 - t) * np.cos(x0) + 10


_H6_A = np.array(
    [
        [10, 3, 17, 3.5, 1.7, 8],
        [0.05, 10, 17, 0.1, 8, 14],
        [3, 3.5, 1.7, 10, 17, 8],
        [17, 8, 0.05, 10, 0.1, 14],
    ]
)
_H6_P = 1e-4 * np.array(
    [
        [1312, 1696, 5569, 124, 8283, 5886],
        [2329, 4135, 8307, 3736, 1004, 9991],
        [2348, 1451, 3522, 2883, 3047, 6650],
        [4047, 8828, 8732, 5743, 1091, 381],
    ]
)
_H6_ALPHA = np.array([1.0, 1.2, 3.0, 3.2])


def hartmann6(*x):
    """Hartmann-6 on [0, 1]^6; minimum -3.32237.

    Parameters
    ----------
    *x : float
        The six coordinates, each in [0, 1].

    Returns
    -------
    float
        The function's value.
    """
    x = np.asarray(x, dtype=float)
    return -float(_H6_ALPHA @ np.exp(-np.sum(_H6_A * (x - _H6_P) ** 2, axis=1)))


def rosenbrock(*x):
    """Rosenbrock on [-2, 2]^d; minimum 0 at (1, ..., 1).

    Parameters
    ----------
    *x : float
        The coordinates, each in [-2, 2].

    Returns
    -------
    float
        The function's value.
    """
    x = np.asarray(x, dtype=float)
    return float(np.sum(100 * (x[1:] - x[:-1] ** 2) ** 2 + (1 - x[:-1]) ** 2))


def levy(*x):
    """Levy on [-10, 10]^d; minimum 0 at (1, ..., 1).

    Parameters
    ----------
    *x : float
        The coordinates, each in [-10, 10].

    Returns
    -------
    float
        The function's value.
    """
    w = 1 + (np.asarray(x, dtype=float) - 1) / 4
    head = np.sin(np.pi * w[0]) ** 2
    body = np.sum((w[:-1] - 1) ** 2 * (1 + 10 * np.sin(np.pi * w[:-1] + 1) ** 2))
    tail = (w[-1] - 1) ** 2 * (1 + np.sin(2 * np.pi * w[-1]) ** 2)
    return float(head + body + tail)


def mixed(x0, n0, c0):
    """A log-scaled real, an integer and a category; minimum 0.

    The optimum is ``x0 = 10 ** 1.5``, ``n0 = 17``, ``c0 = "b"``.

    Parameters
    ----------
    x0 : float
        In [1e-3, 1e3], searched on a log scale.
    n0 : int
        In [1, 50].
    c0 : {"a", "b", "c", "d"}
        The category.

    Returns
    -------
    float
        The function's value.
    """
    return (np.log10(x0) - 1.5) ** 2 + ((n0 - 17) / 10) ** 2 + _MIXED_CATEGORY_COST[c0]


@dataclass(frozen=True)
class Problem:
    """A test function, its search space and its optimum (minimum) value.

    Parameters
    ----------
    function : callable
        The test function, called with the parameters in the order of
        ``search_space``.
    search_space : dict
        Parameter names to dimensions.
    optimum : float
        The function's known minimum.
    """

    function: object
    search_space: dict
    optimum: float

    def __call__(self, params):
        return float(self.function(*(params[name] for name in self.search_space)))


FUNCTIONS = {
    "branin": Problem(branin, {"x0": Real(-5.0, 10.0), "x1": Real(0.0, 15.0)}, 0.397887),
    "hartmann6": Problem(hartmann6, {f"x{i}": Real(0.0, 1.0) for i in range(6)}, -3.32237),
    "rosenbrock10": Problem(rosenbrock, {f"x{i}": Real(-2.0, 2.0) for i in range(10)}, 0.0),
    "levy10": Problem(levy, {f"x{i}": Real(-10.0, 10.0) for i in range(10)}, 0.0),
    "mixed": Problem(
        mixed,
        {
            "x0": Real(1e-3, 1e3, prior="log-uniform"),
            "n0": Integer(1, 50),
            "c0": Categorical(list(_MIXED_CATEGORY_COST)),
        },
        0.0,
    ),
}


class FunctionEstimator(RegressorMixin, BaseEstimator):
    """An estimator whose score is minus a test function of its parameters.

    ``fit`` does nothing (or only waits ``fit_delay`` seconds), so
    searching it measures the search itself.

    Parameters
    ----------
    function : str
        A key of :data:`FUNCTIONS`.
    x0, x1, x2, x3, x4, x5, x6, x7, x8, x9 : float
        Real arguments; the function uses as many as it takes.
    n0 : int
        Integer argument (``mixed``).
    c0 : str
        Categorical argument (``mixed``).
    fit_delay : float, default=0.0
        Seconds ``fit`` sleeps: a stand-in for a model that takes time to
        train, to interrupt a search in the middle of a batch.
    n_steps : int, default=None
        A training budget, for multi-fidelity searches (``resource="n_steps"``):
        the value gains an error ``step_noise * u / n_steps``, where
        ``u`` in [0, 1) is fixed per candidate (a hash of its other
        parameters), as a model trained for fewer steps misranks candidates.
        None: no error.
    step_noise : float, default=1.0
        The scale of that error.

    Attributes
    ----------
    n_fit_samples_ : int
        The samples ``fit`` received.
    """

    def __init__(
        self, function="branin", x0=0.0, x1=0.0, x2=0.0, x3=0.0, x4=0.0,
        x5=0.0, x6=0.0, x7=0.0, x8=0.0, x9=0.0, n0=1, c0="a", fit_delay=0.0,
        n_steps=None, step_noise=1.0,
    ):  # fmt: skip
        self.function = function
        self.x0, self.x1, self.x2, self.x3, self.x4 = x0, x1, x2, x3, x4
        self.x5, self.x6, self.x7, self.x8, self.x9 = x5, x6, x7, x8, x9
        self.n0 = n0
        self.c0 = c0
        self.fit_delay = fit_delay
        self.n_steps = n_steps
        self.step_noise = step_noise

    def fit(self, X, y=None):
        """Record the number of samples, after ``fit_delay`` seconds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Ignored but for its length.
        y : array-like of shape (n_samples,), default=None
            Ignored.

        Returns
        -------
        FunctionEstimator
            The estimator.
        """
        if self.fit_delay:
            time.sleep(self.fit_delay)
        self.n_fit_samples_ = len(X)
        self.fitted_ = True
        return self

    def value(self):
        """Return the test function at the current parameters.

        Returns
        -------
        float
            The value, with ``n_steps`` plus its error.
        """
        problem = FUNCTIONS[self.function]
        params = self.get_params()
        args = {name: params[name] for name in problem.search_space}
        value = problem(args)
        if self.n_steps is not None:
            digest = hashlib.sha256(repr(sorted(args.items())).encode()).digest()
            u = int.from_bytes(digest[:8], "little") / 2**64
            value += self.step_noise * u / self.n_steps
        return value

    def score(self, X, y=None):
        """Return minus the test function's value: greater is better.

        Parameters
        ----------
        X : array-like
            Ignored.
        y : array-like, default=None
            Ignored.

        Returns
        -------
        float
            ``-self.value()``.
        """
        return -self.value()

    def predict(self, X):
        """Return the score for every row.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Only its length is used.

        Returns
        -------
        ndarray of shape (n_samples,)
            The score, repeated.
        """
        return np.full(len(X), self.score(X))


def minimise(optimizer, objective, n_evaluations, batch_size=1):
    """Drive an ask/tell optimizer on ``objective`` without cross-validation.

    Asks for up to ``batch_size`` points at a time (a generation, for a
    genetic algorithm), evaluates ``objective`` on each point's parameter
    dict, tells the losses back, and returns all losses in evaluation
    order: ``n_evaluations`` of them.

    Parameters
    ----------
    optimizer : ask/tell optimizer
        One of sk_hpo's algorithms, with ``ask(n)``, ``tell(points, losses)``
        and ``space``.
    objective : callable
        Called with a parameter dict; returns the loss to minimise.
    n_evaluations : int
        How many points to evaluate.
    batch_size : int, default=1
        Points asked for at a time.

    Returns
    -------
    ndarray of shape (n_evaluations,)
        The losses in evaluation order.

    >>> from sk_hpo import SearchSpace
    >>> from sk_hpo._optimizer import RandomSampler
    >>> problem = FUNCTIONS["branin"]
    >>> optimizer = RandomSampler(SearchSpace(problem.search_space), seed=0)
    >>> minimise(optimizer, problem, 5, batch_size=2).shape
    (5,)
    """
    space = optimizer.space
    losses = []
    while len(losses) < n_evaluations:
        points = optimizer.ask(min(batch_size, n_evaluations - len(losses)))
        values = [objective(space.to_params(space.canonical(p))) for p in points]
        optimizer.tell(points, values)
        losses.extend(values)
    return np.asarray(losses, dtype=float)


def dummy_data(n_samples=4):
    """Return data to fit a :class:`FunctionEstimator` on (it is ignored).

    Parameters
    ----------
    n_samples : int, default=4
        Rows of the data.

    Returns
    -------
    X : ndarray of shape (n_samples, 1)
        Zeros.
    y : ndarray of shape (n_samples,)
        Alternating 0 and 1.
    """
    return np.zeros((n_samples, 1)), np.arange(n_samples) % 2


def assert_same_cv_results(ours, theirs):
    """Assert that two ``cv_results_`` agree.

    They must have the same keys, types, dtypes and shapes, the same
    parameters, and the same split scores, means and ranks.

    Parameters
    ----------
    ours : dict
        A search's ``cv_results_``.
    theirs : dict
        The ``cv_results_`` to compare with, say scikit-learn's.
    """
    assert list(ours) == list(theirs)
    for key in theirs:
        if key == "params":
            assert ours[key] == theirs[key]
            continue
        assert type(ours[key]) is type(theirs[key]), key
        assert ours[key].dtype == theirs[key].dtype, key
        assert ours[key].shape == theirs[key].shape, key
        if key.startswith(("split", "mean_test", "std_test", "rank_")):
            np.testing.assert_allclose(ours[key], theirs[key], err_msg=key)
