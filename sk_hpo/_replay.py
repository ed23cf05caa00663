"""Put stored candidates into a running ``BaseSearchCV.fit`` without fitting them.

``BaseSearchCV.fit`` accumulates the candidates and the per-split results
of every ``evaluate_candidates`` call in lists that live in that function's
closure, and builds ``cv_results_``, the best index and the refit from
them.  A resumed search appends its stored candidates to those lists, so
that scikit-learn treats them exactly as if they had just been evaluated.
The names are checked when a search with storage starts, before any fit.
"""

import sklearn

_CELLS = ("all_candidate_params", "all_out", "all_more_results", "results")


def replay_cells(evaluate_candidates):
    """The closure cells ``replay`` needs; raise before any fit if missing."""
    code = getattr(evaluate_candidates, "__code__", None)
    closure = getattr(evaluate_candidates, "__closure__", None) or ()
    cells = dict(zip(code.co_freevars, closure)) if code is not None else {}
    missing = [name for name in _CELLS if name not in cells]
    if missing:
        raise RuntimeError(
            f"storage= cannot resume into this scikit-learn ({sklearn.__version__}): "
            f"BaseSearchCV.fit no longer keeps {missing}. Install a scikit-learn "
            "that sk_hpo's pyproject.toml supports, or search without storage."
        )
    return cells


def replay(evaluate_candidates, search, candidate_params, outs, more_results):
    """Record evaluated candidates as if ``evaluate_candidates`` had fitted them.

    ``outs`` holds ``search.n_splits_`` results per candidate, candidate
    after candidate, as ``_fit_and_score`` returns them.  Returns the
    ``cv_results_`` so far.
    """
    cells = replay_cells(evaluate_candidates)
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
