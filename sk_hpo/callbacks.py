"""Callbacks that stop a search early.

A callback is any callable taking a :class:`SearchState`; it is called
after every batch of candidates, and returning ``True`` stops the search
cleanly (the best candidate so far is refitted as usual).  The stoppers
below keep no state of their own, so one instance may serve several
searches and survives ``clone``.
"""

import numbers
import time
from dataclasses import dataclass, field

import numpy as np

__all__ = ["SearchState", "DeadlineStopper", "NoImprovementStopper", "ThresholdStopper"]


@dataclass
class SearchState:
    """What a callback knows of a running search.

    Attributes
    ----------
    n_evaluated : int
        Candidates evaluated so far (each counts once, duplicates never).
    n_iter : int
        The budget of candidates.
    scores : ndarray of shape (n_evaluated,)
        The optimised score of each candidate in evaluation order (greater
        is better; ``nan`` for a failed candidate).
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
    """Stop when the best score has not improved for ``n_evaluations`` candidates.

    Parameters
    ----------
    n_evaluations : int
        How many candidates in a row may fail to improve the best score.
    min_delta : float, default=0
        An improvement smaller than this does not count.
    """

    def __init__(self, n_evaluations, min_delta=0.0):
        _check_positive("NoImprovementStopper", "n_evaluations", n_evaluations, True)
        if not isinstance(min_delta, numbers.Real) or min_delta < 0:
            raise ValueError(
                f"NoImprovementStopper: min_delta must be >= 0, got {min_delta!r}."
            )
        self.n_evaluations = n_evaluations
        self.min_delta = min_delta

    def __call__(self, state):
        scores = np.where(np.isfinite(state.scores), state.scores, -np.inf)
        if len(scores) <= self.n_evaluations:
            return False
        before = scores[: -self.n_evaluations].max()
        recent = scores[-self.n_evaluations :].max()
        return not recent > before + self.min_delta

    def __repr__(self):
        return (
            f"NoImprovementStopper(n_evaluations={self.n_evaluations!r}, "
            f"min_delta={self.min_delta!r})"
        )


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
