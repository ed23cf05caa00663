"""Callbacks that stop a search early.

A callback is any callable taking a :class:`SearchState`; it is called
after every batch of candidates (with ``asynchronous=True``, after every
candidate), and returning ``True`` stops the search
cleanly (the best candidate so far is refitted as usual).  The stoppers
below keep no state of their own, so one instance may serve several
searches and survives ``clone``.
"""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = [
    "DeadlineStopper", "NoImprovementStopper", "SearchState", "ThresholdStopper", "optimize_result",
]  # fmt: skip


@dataclass
class SearchState:
    """What a callback knows of a running search.

    A search makes one and passes it to each callback; each parameter is an
    attribute of the same name.

    Parameters
    ----------
    n_evaluated : int
        Candidates evaluated so far (each counts once, duplicates never).
    n_iter : int
        The budget of candidates.
    scores : ndarray of shape (n_evaluated,)
        The optimised score of each candidate in evaluation order (greater
        is better; ``nan`` for a failed candidate).
    batches : ndarray of shape (n_evaluated,)
        The batch of each candidate, counted from 0: a generation of
        ``GeneticSearchCV``, ``n_points`` candidates of the other searches.
        With ``asynchronous=True`` every candidate is its own batch (a
        genetic search's batch is its generation), in completion order.
    best_score : float
        The best of ``scores`` (``nan`` while every candidate failed).
    best_params : dict or None
        The parameters of the best candidate.
    cv_results : dict
        ``cv_results_`` so far.
    start_time : float
        ``time.monotonic()`` when the search started.
    """

    n_evaluated: int
    n_iter: int
    scores: np.ndarray
    batches: np.ndarray
    best_score: float
    best_params: dict
    cv_results: dict = field(repr=False)
    start_time: float = field(default_factory=time.monotonic)

    @property
    def elapsed(self):
        """Seconds since the search started."""
        return time.monotonic() - self.start_time


def _check_positive(owner, name, value, integral=False):
    kind = numbers.Integral if integral else numbers.Real
    if not isinstance(value, kind) or isinstance(value, bool) or not value > 0:
        what = "a positive integer" if integral else "a positive number"
        raise ValueError(f"{owner}: {name} must be {what}, got {value!r}.")


class DeadlineStopper:
    """Stop once ``total_time`` seconds have passed since the search started.

    The check runs between batches, so a batch under way is finished first.

    Parameters
    ----------
    total_time : float
        Seconds.
    """

    def __init__(self, total_time):
        _check_positive("DeadlineStopper", "total_time", total_time)
        self.total_time = total_time

    def __call__(self, state):
        return state.elapsed >= self.total_time

    def __repr__(self):
        return f"DeadlineStopper(total_time={self.total_time!r})"


class NoImprovementStopper:
    """Stop when the best score has not improved for a while.

    Give exactly one of ``n_evaluations`` (candidates) or ``n_generations``
    (batches: the generations of ``GeneticSearchCV``, or batches of
    ``n_points`` candidates in the other searches).

    Parameters
    ----------
    n_evaluations : int, default=None
        How many candidates in a row may fail to improve the best score.
    min_delta : float, default=0
        An improvement smaller than this does not count.
    n_generations : int, default=None
        How many generations (batches) in a row may fail to improve it.

    Examples
    --------
    >>> from sk_hpo.callbacks import NoImprovementStopper
    >>> NoImprovementStopper(n_generations=3)
    NoImprovementStopper(n_generations=3, min_delta=0.0)
    """

    def __init__(self, n_evaluations=None, min_delta=0.0, *, n_generations=None):
        if (n_evaluations is None) == (n_generations is None):
            raise ValueError(
                "NoImprovementStopper: give exactly one of n_evaluations and "
                f"n_generations, got n_evaluations={n_evaluations!r}, "
                f"n_generations={n_generations!r}."
            )
        if n_evaluations is not None:
            _check_positive("NoImprovementStopper", "n_evaluations", n_evaluations, True)
        else:
            _check_positive("NoImprovementStopper", "n_generations", n_generations, True)
        if not isinstance(min_delta, numbers.Real) or min_delta < 0:
            raise ValueError(
                f"NoImprovementStopper: min_delta must be >= 0, got {min_delta!r}."
            )
        self.n_evaluations = n_evaluations
        self.n_generations = n_generations
        self.min_delta = min_delta

    def __call__(self, state):
        scores = np.where(np.isfinite(state.scores), state.scores, -np.inf)
        if self.n_evaluations is not None:
            recent = np.arange(len(scores)) >= len(scores) - self.n_evaluations
        else:
            batches = np.asarray(state.batches)
            recent = batches > batches.max(initial=-1) - self.n_generations
        if recent.all():
            return False
        return not scores[recent].max() > scores[~recent].max() + self.min_delta

    def __repr__(self):
        if self.n_evaluations is not None:
            window = f"n_evaluations={self.n_evaluations!r}"
        else:
            window = f"n_generations={self.n_generations!r}"
        return f"NoImprovementStopper({window}, min_delta={self.min_delta!r})"


class _SkoptCallback:
    """A callback of scikit-optimize's ``fit(..., callback=...)``: called with
    the results so far as an ``OptimizeResult``; True stops the search."""

    def __init__(self, callback):
        self.callback = callback

    def __call__(self, state):
        return bool(self.callback(_optimize_result(state.cv_results["params"], state.scores)))


class ThresholdStopper:
    """Stop as soon as the best score reaches ``threshold``.

    Parameters
    ----------
    threshold : float
        A score (greater is better, as scikit-learn's scorers report it:
        for ``neg_mean_squared_error`` the threshold is negative).
    """

    def __init__(self, threshold):
        if not isinstance(threshold, numbers.Real) or isinstance(threshold, bool):
            raise ValueError(f"ThresholdStopper: threshold must be a number, got {threshold!r}.")
        self.threshold = threshold

    def __call__(self, state):
        return bool(np.isfinite(state.best_score) and state.best_score >= self.threshold)

    def __repr__(self):
        return f"ThresholdStopper(threshold={self.threshold!r})"


def optimize_result(cv_results, metric="score"):
    """A search's results as scikit-optimize's ``OptimizeResult``.

    What scikit-optimize passes to the callbacks of its ``fit(...,
    callback=...)`` and keeps in ``optimizer_results_``, and what its
    stoppers (``DeltaYStopper``, ``DeadlineStopper``...) and
    ``skopt.plots.plot_convergence`` read: ``x_iters``, each candidate's
    values in the order of its sorted parameter names; ``func_vals``, the
    minimised objective, minus the mean test score (``nan`` for a failed
    candidate); ``x`` and ``fun``, the best of them.

    Parameters
    ----------
    cv_results : dict
        A search's ``cv_results_`` (or a callback's ``state.cv_results``).
    metric : str, default="score"
        The metric whose ``mean_test_<metric>`` is the objective.

    Returns
    -------
    scipy.optimize.OptimizeResult
        A dict with attribute access, as scikit-optimize's is.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import RandomSearchCV, Real
    >>> from sk_hpo.callbacks import optimize_result
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomSearchCV(SVC(), {"C": Real(0.1, 10.0)}, n_iter=4, random_state=0).fit(X, y)
    >>> result = optimize_result(search.cv_results_)
    >>> len(result.x_iters), bool(result.fun == -search.best_score_)
    (4, True)
    """
    return _optimize_result(cv_results["params"], cv_results[f"mean_test_{metric}"])


def _optimize_result(candidates, scores):
    from scipy.optimize import OptimizeResult

    x_iters = [[params[name] for name in sorted(params)] for params in candidates]
    func_vals = -np.asarray(scores, dtype=float)
    finite = np.isfinite(func_vals)
    best = int(np.flatnonzero(finite)[np.argmin(func_vals[finite])]) if finite.any() else None
    return OptimizeResult(
        x_iters=x_iters,
        func_vals=func_vals,
        x=x_iters[best] if best is not None else None,
        fun=float(func_vals[best]) if best is not None else np.nan,
    )

