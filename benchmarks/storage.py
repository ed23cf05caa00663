"""What storage costs: ``python -m benchmarks.storage``.

Runs each of our searches for 205 candidates on the benchmark's overhead
task (``levy10``, an estimator that costs nothing to fit), once without
and once with ``storage=``, and reports the time per candidate outside
the fits at 10, 50, 100 and 200 candidates for both, the difference, the
time to resume the finished study (all candidates loaded, nothing fitted),
and the size of the file.  Resuming is timed twice: from the stored
algorithm state (the normal case), and by re-telling every candidate to a
new algorithm (what happens when the algorithm's options change).
Results: ``benchmarks/results/storage.md`` and ``storage.json``.
"""

import argparse
import json
import os
import platform
import tempfile
import time
from pathlib import Path

import numpy as np
from sklearn.model_selection import KFold

import sk_hpo
from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, TPESearchCV
from sk_hpo.testing import FUNCTIONS, dummy_data

from .methods import TimedFunctionEstimator

RESULTS = Path(__file__).parent / "results"
SIZES = (10, 50, 100, 200)
N_ITER = max(SIZES) + 5
SEARCHES = {
    "RandomSearchCV": (RandomSearchCV, {}),
    "TPESearchCV": (TPESearchCV, {}),
    "BayesSearchCV": (BayesSearchCV, {}),
    "GeneticSearchCV": (GeneticSearchCV, {}),
}


def _search(name, storage=None, **params):
    cls, defaults = SEARCHES[name]
    params = {"cv": KFold(2), "refit": False, "random_state": 0, **defaults, **params}
    estimator = TimedFunctionEstimator("levy10")
    return cls(estimator, FUNCTIONS["levy10"].search_space, n_iter=N_ITER, storage=storage, **params)


def _per_candidate(name, storage):
    """Seconds between candidates around each of ``SIZES`` (fits cost nothing)."""
    fits = TimedFunctionEstimator.fit_times
    del fits[:]
    _search(name, storage).fit(*dummy_data())
    starts = np.asarray(fits[::2]) - fits[0]
    return {str(n): float(np.mean(np.diff(starts[max(1, n - 5) : n + 5]))) for n in SIZES}


def _resume_seconds(name, storage, **changes):
    start = time.perf_counter()
    search = _search(name, storage, **changes).fit(*dummy_data())
    assert search.n_resumed_ == N_ITER
    return time.perf_counter() - start


def measure():
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        for name in SEARCHES:
            path = os.path.join(tmp, f"{name}.db")
            plain = _per_candidate(name, None)
            stored = _per_candidate(name, path)
            results[name] = {
                "plain": plain,
                "storage": stored,
                "resume_exact": _resume_seconds(name, path),
                # Another random_state: the stored state does not apply, re-tell.
                "resume_retell": _resume_seconds(name, path, random_state=1),
                "file_kb": os.path.getsize(path) / 1024,
            }
            print(name, json.dumps(results[name]), flush=True)
    return results


def render(results, meta):
    lines = [
        "# The cost of storage",
        "",
        (
            f"{meta['date']}, {meta['machine']}, Python {meta['python']}, sk_hpo "
            f"{meta['sk_hpo']}. `python -m benchmarks.storage`: levy10 (10 real dimensions), "
            f"an estimator that costs nothing to fit, 2-fold CV, {N_ITER} candidates, "
            "n_points=1."
        ),
        "",
        "Milliseconds per candidate outside the fits, without / with `storage=` (difference):",
        "",
        "| search | " + " | ".join(f"at {n}" for n in SIZES) + " |",
        "| --- |" + " --- |" * len(SIZES),
    ]
    for name, r in results.items():
        cells = [
            f"{1e3 * r['plain'][n]:.1f} / {1e3 * r['storage'][n]:.1f} "
            f"({1e3 * (r['storage'][n] - r['plain'][n]):+.1f})"
            for n in map(str, SIZES)
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines += [
        "",
        (
            f"Resuming the finished study of {N_ITER} candidates (load, put into "
            "`cv_results_`, restore the algorithm; nothing fitted), and the file size:"
        ),
        "",
        "| search | from the stored state (s) | re-telling a new algorithm (s) | file (kB) |",
        "| --- | --- | --- | --- |",
    ]
    for name, r in results.items():
        lines.append(
            f"| {name} | {r['resume_exact']:.2f} | {r['resume_retell']:.2f} | {r['file_kb']:.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    meta = {
        "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "python": platform.python_version(),
        "sk_hpo": sk_hpo.__version__,
    }
    results = measure()
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "storage.json").write_text(json.dumps({"meta": meta, "results": results}, indent=1))
    (args.out / "storage.md").write_text(render(results, meta))
    print(render(results, meta))


if __name__ == "__main__":
    main()
