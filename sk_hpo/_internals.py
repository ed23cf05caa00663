"""Everything sk_hpo takes from scikit-learn's private code, in one place.

The rest of sk_hpo imports scikit-learn's private names only from here:
``BaseSearchCV`` (whose module is private), the parameter-validation
classes (and ``validate_parameter_constraints``, for the keys of
scikit-optimize's ``optimizer_kwargs``), ``_SubsampleMetaSplitter`` (the
Halving searches' subsampling splitter, for ``resource="n_samples"``),
``_safe_indexing`` and ``_num_samples``.  Beyond names, three features rely on how scikit-learn
works inside:

``BaseSearchCV.fit`` accumulates the candidates and the per-split results
of every ``evaluate_candidates`` call in lists that live in that function's
closure, and builds ``cv_results_``, the best index and the refit from
them.  Two features reach into it:

- storage: a resumed search appends its stored candidates to those lists
  (:func:`replay`), so that scikit-learn treats them exactly as if they had
  just been evaluated;
- the asynchronous mode: it runs scikit-learn's own ``_fit_and_score`` on
  one (candidate, split) at a time, with the estimator, data, scorers and
  routed parameters that ``fit`` prepared (:func:`fit_context`), and records
  each finished candidate with :func:`replay`;
- fit failures: ``evaluate_candidates`` raises as soon as all the fits of
  one call fail.  With small batches, one invalid combination (say
  ``solver="lbfgs"`` with ``penalty="l1"``) would then end a whole search
  and throw away the batch's results.  Inside
  :func:`collecting_fit_results`, scikit-learn's check
  (``_search._warn_or_raise_about_fit_failures``) only warns for the
  calling thread and records every fit result, so the search can tell
  which candidates failed and raise scikit-learn's own error itself once
  every candidate so far has failed.  Other threads, and scikit-learn's
  own searches, keep the original behaviour.

A multi-fidelity search also picks its best candidate among those at the
most resource, through ``BaseSearchCV``'s ``_select_best_index`` hook
(:func:`select_best_index`).

:func:`check_internals` is called once at the start of every search's
``fit``, before any model is trained, and names the scikit-learn version
and what is missing when a release has moved them.
"""

import threading
import warnings
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import sklearn
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import _search
from sklearn.model_selection._search import BaseSearchCV
from sklearn.model_selection._search_successive_halving import _SubsampleMetaSplitter
from sklearn.model_selection._validation import _fit_and_score, _insert_error_scores
from sklearn.utils import _safe_indexing
from sklearn.utils._param_validation import (
    Interval,
    StrOptions,
    validate_parameter_constraints,
)
from sklearn.utils.validation import _num_samples

__all__ = [
    "BaseSearchCV",
    "Interval",
    "StrOptions",
    "SubsampleMetaSplitter",
    "check_fit_results",
    "check_internals",
    "collecting_fit_results",
    "fit_and_score",
    "fit_context",
    "num_samples",
    "raise_all_failed",
    "replay",
    "safe_indexing",
    "select_best_index",
    "validate_parameter_constraints",
]  # fmt: skip

SubsampleMetaSplitter = _SubsampleMetaSplitter
safe_indexing = _safe_indexing
num_samples = _num_samples
_HOOK = "_warn_or_raise_about_fit_failures"

_CELLS = ("all_candidate_params", "all_out", "all_more_results", "results")
# What the asynchronous mode takes from the closure besides _CELLS.
_FIT_CELLS = ("X", "y", "base_estimator", "fit_and_score_kwargs", "routed_params")


def _cells(evaluate_candidates):
    code = getattr(evaluate_candidates, "__code__", None)
    closure = getattr(evaluate_candidates, "__closure__", None) or ()
    return dict(zip(code.co_freevars, closure)) if code is not None else {}


def check_internals(evaluate_candidates, search, storage=False, asynchronous=False):
    """Raise, before any fit, if this scikit-learn lacks what the search uses.

    Also sets ``search.n_splits_`` now, as scikit-learn >= 1.7 does before
    the first ``evaluate_candidates`` (1.6 sets it at the end of ``fit`` and
    keeps the number in the closure until then): resume and the
    asynchronous mode need it before.
    """
    if getattr(_search, _HOOK, None) is None:
        raise RuntimeError(
            f"sk_hpo cannot run with this scikit-learn ({sklearn.__version__}): "
            f"sklearn.model_selection._search has no {_HOOK}. Install a scikit-learn "
            "that sk_hpo's pyproject.toml supports."
        )
    needed = (_CELLS if storage or asynchronous else ()) + (_FIT_CELLS if asynchronous else ())
    cells = _cells(evaluate_candidates)
    if "n_splits" in cells:
        search.n_splits_ = cells["n_splits"].cell_contents
    elif (storage or asynchronous) and not hasattr(search, "n_splits_"):
        needed = (*needed, "n_splits")
    missing = [name for name in needed if name not in cells]
    if missing:
        features = " and ".join(
            name for name, used in (("storage=", storage), ("asynchronous=True", asynchronous))
            if used
        )  # fmt: skip
        raise RuntimeError(
            f"{features} cannot run with this scikit-learn ({sklearn.__version__}): "
            f"BaseSearchCV.fit no longer keeps {missing}. Install a scikit-learn that "
            f"sk_hpo's pyproject.toml supports, or search without {features}."
        )
    return cells


def replay(evaluate_candidates, search, candidate_params, outs, more_results):
    """Record evaluated candidates as if ``evaluate_candidates`` had fitted them.

    ``outs`` holds ``search.n_splits_`` results per candidate, candidate
    after candidate, as ``_fit_and_score`` returns them.  Returns the
    ``cv_results_`` so far.
    """
    cells = _cells(evaluate_candidates)
    all_params = cells["all_candidate_params"].cell_contents
    all_out = cells["all_out"].cell_contents
    all_more = cells["all_more_results"].cell_contents
    all_params.extend(candidate_params)
    all_out.extend(outs)
    for key, values in more_results.items():
        all_more[key].extend(values)
    results = search._format_results(all_params, search.n_splits_, all_out, all_more)
    cells["results"].cell_contents = results
    return results


@dataclass
class FitContext:
    """What one (candidate, split) fit needs, as ``BaseSearchCV.fit`` prepared it."""

    X: object
    y: object
    base_estimator: object
    fit_and_score_kwargs: dict
    splits: list  # (train, test) index arrays of the search's cv, in order
    split_params: dict  # routed to cv.split (groups)

    def split(self, cv):
        """The (train, test) pairs of another splitter (a subsampled rung's)."""
        return list(cv.split(self.X, self.y, **self.split_params))

    def insert_error_scores(self, out, scoring):
        """Fill failed splits' scores as ``evaluate_candidates`` does for a callable scoring."""
        if callable(scoring):
            _insert_error_scores(out, self.fit_and_score_kwargs["error_score"])


def fit_context(evaluate_candidates, search):
    """The data, estimator, scorers and splits of this ``fit`` (after ``check_internals``)."""
    cells = _cells(evaluate_candidates)
    X, y = cells["X"].cell_contents, cells["y"].cell_contents
    routed = cells["routed_params"].cell_contents
    # scikit-learn < 1.9 keeps the checked splitter in the closure, later ones on the search.
    cv = cells["cv_orig"].cell_contents if "cv_orig" in cells else search._checked_cv_orig
    split_params = dict(routed.splitter.split)
    splits = list(cv.split(X, y, **split_params))
    if len(splits) != search.n_splits_:
        raise ValueError(
            f"cv.split and cv.get_n_splits return inconsistent results. Expected "
            f"{search.n_splits_} splits, got {len(splits)}"
        )
    kwargs = dict(cells["fit_and_score_kwargs"].cell_contents)
    return FitContext(X, y, cells["base_estimator"].cell_contents, kwargs, splits, split_params)


def fit_and_score(estimator, X, y, train, test, parameters, kwargs):
    """scikit-learn's fit and score of one candidate on one split (runs in a worker)."""
    return _fit_and_score(
        estimator, X, y, train=train, test=test, parameters=parameters, **kwargs
    )


def select_best_index(refit, refit_metric, results):
    """``BaseSearchCV._select_best_index``, the best among the most resource.

    A multi-fidelity search picks its best among the candidates evaluated
    with the most resource, as scikit-learn's Halving searches do.
    """
    if callable(refit) or "n_resources" not in results:
        return BaseSearchCV._select_best_index(refit, refit_metric, results)
    top = np.flatnonzero(results["n_resources"] == np.max(results["n_resources"]))
    scores = np.asarray(results[f"mean_test_{refit_metric}"], dtype=float)[top]
    return int(top[0] if np.isnan(scores).all() else top[np.nanargmax(scores)])


# -- fit failures ------------------------------------------------------------
_local = threading.local()
_install_lock = threading.Lock()


def _tolerant_check(results, error_score):
    collector = getattr(_local, "collector", None)
    if collector is None:
        return _tolerant_check.original(results, error_score)
    collector.extend(results)
    failed = sum(result["fit_error"] is not None for result in results)
    if failed == len(results):
        warnings.warn(
            f"All the {failed} fits of this batch failed; their score is set to "
            f"{error_score} and the search goes on. First error:\n"
            f"{results[0]['fit_error']}",
            FitFailedWarning,
        )
    else:
        _tolerant_check.original(results, error_score)


def _install():
    with _install_lock:
        current = getattr(_search, _HOOK)  # there: check_internals ran first
        if current is not _tolerant_check:
            _tolerant_check.original = current
            setattr(_search, _HOOK, _tolerant_check)


@contextmanager
def collecting_fit_results():
    """Record fit results of this thread's ``evaluate_candidates`` calls.

    Yields the list the results are appended to, one dict per (candidate,
    split) in evaluation order, each with a ``fit_error`` entry.
    """
    _install()
    previous = getattr(_local, "collector", None)
    collector = []
    _local.collector = collector
    try:
        yield collector
    finally:
        _local.collector = previous


def check_fit_results(results, error_score):
    """Treat the fit results of one candidate as ``evaluate_candidates`` treats a batch's.

    For the asynchronous mode, which fits outside ``evaluate_candidates``:
    inside :func:`collecting_fit_results` they are recorded, and a candidate
    whose every fit failed only warns.
    """
    _tolerant_check(results, error_score)


def raise_all_failed(results, error_score):
    """Raise scikit-learn's error for fit results that all failed."""
    _tolerant_check.original(results, error_score)
