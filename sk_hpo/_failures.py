"""Keep a search going when every fit of one batch fails.

``BaseSearchCV``'s ``evaluate_candidates`` raises as soon as all the fits
of one call fail.  With small batches, one invalid combination (say
``solver="lbfgs"`` with ``penalty="l1"``) would then end a whole search and
throw away the batch's results.  Inside :func:`collecting_fit_results`, that
check only warns for the calling thread and records every fit result, so
the search can tell which candidates failed and raise scikit-learn's own
error itself once every candidate so far has failed.  Other threads, and
scikit-learn's own searches, keep the original behaviour.
"""

import threading
import warnings
from contextlib import contextmanager

from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import _search

_HOOK = "_warn_or_raise_about_fit_failures"
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
        current = getattr(_search, _HOOK, None)
        if current is None:
            raise ImportError(
                "sk_hpo needs sklearn.model_selection._search."
                f"{_HOOK}, which this scikit-learn does not have; install a "
                "supported scikit-learn (see sk_hpo's pyproject.toml)."
            )
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
