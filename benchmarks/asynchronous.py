"""Asynchronous against batch evaluation: ``python -m benchmarks.asynchronous``.

Three workloads, every search in both modes, the peers beside them, the
same seeds; results in ``benchmarks/results/asynchronous.{json,md}``.

- ``sleep-threads``: Hartmann-6 (``sk_hpo.testing.FunctionEstimator``)
  with a searched ``fit_delay`` log-uniform over 0.05-0.8 s, so that one
  candidate costs up to 16 times another and the fit time does not depend
  on the score; 8 workers of joblib's threading backend (the fits sleep, so
  8 threads stand in for 8 machines on a 2-core box); 48 candidates,
  ``cv=2``, ``n_points=8`` (``population_size=8``).  RandomizedSearchCV
  (every candidate dispatched at once: the packing limit) and
  OptunaSearchCV (``n_jobs=8``: asynchronous trials in threads) beside.
- ``sleep-dask``: the same on a ``dask.distributed`` ``LocalCluster`` of 8
  single-threaded worker processes (``joblib.parallel_backend("dask")``).
- ``sleep-threads-x4`` (only when named): ``sleep-threads`` with fits 4
  times longer (0.2-3.2 s), to tell apart idle time caused by the
  algorithm's proposals from idle time caused by waiting for fits.
- ``hgb-2cores``: a real, CPU-bound model whose fit time depends on its
  parameters (``HistGradientBoostingClassifier``, ``max_iter`` 10-300 and
  ``max_leaf_nodes`` 4-64, on 3000 generated samples), 2 loky workers on
  the 2 cores, 24 candidates, ``n_points=2``.

Worker utilisation = (sum of the CV fit and score times / workers) / wall
time.  "Time to best" is when the search's final best candidate finished
(a callback records each finish).  Choices made after seeing these
workloads' results (``sleep-threads``, ``BayesSearchCV``): one fit queued
behind each worker's instead of one in all; the Gaussian process's
proposals made cheaper (``refit_every``, then the acquisitions polished
in one problem, ``polish_jointly``), each checked for quality on the test
functions and scikit-learn tasks of ``benchmarks.run``, not here.
"""

import argparse
import json
import os
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from joblib import parallel_backend  # noqa: E402
from scipy.stats import loguniform, randint, uniform  # noqa: E402

from sk_hpo import (  # noqa: E402
    BayesSearchCV,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data  # noqa: E402

from .run import command_line  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"
OURS = {
    "RandomSearchCV": (RandomSearchCV, {}),
    "TPESearchCV": (TPESearchCV, {}),
    "BayesSearchCV": (BayesSearchCV, {}),
    "GeneticSearchCV": (GeneticSearchCV, {}),
}
PEERS = ("RandomizedSearchCV", "OptunaSearchCV")
HARTMANN = FUNCTIONS["hartmann6"]


def _sleep_task(scale=1):
    delays = Real(0.05 * scale, 0.8 * scale, prior="log-uniform")
    space = {**HARTMANN.search_space, "fit_delay": delays}
    X, y = dummy_data()
    return {
        "estimator": FunctionEstimator("hartmann6"), "space": space, "X": X, "y": y,
        "n_iter": 48, "cv": 2, "batch": 8, "workers": 8,
        "optimum": -HARTMANN.optimum,
    }  # fmt: skip


def _hgb_task():
    from sklearn.datasets import make_classification
    from sklearn.ensemble import HistGradientBoostingClassifier

    X, y = make_classification(n_samples=3000, n_features=20, n_informative=8, random_state=0)
    space = {
        "max_iter": Integer(10, 300, prior="log-uniform"),
        "max_leaf_nodes": Integer(4, 64, prior="log-uniform"),
        "learning_rate": Real(0.01, 0.5, prior="log-uniform"),
    }
    return {
        "estimator": HistGradientBoostingClassifier(early_stopping=False, random_state=0),
        "space": space, "X": X, "y": y, "n_iter": 24, "cv": 2, "batch": 2, "workers": 2,
        "optimum": None,
    }  # fmt: skip


WORKLOADS = {
    "sleep-threads": (_sleep_task, "threading"),
    "sleep-dask": (_sleep_task, "dask"),
    # Run on its own (--workloads sleep-threads-x4): fits 4 times longer, the
    # same 16-fold spread, to see whether the model's proposals keep up.
    "sleep-threads-x4": (lambda: _sleep_task(scale=4), "threading"),
    "hgb-2cores": (_hgb_task, "loky"),
}


def _peer_space(space):
    out = {}
    for name, dim in space.items():
        if isinstance(dim, Real):
            out[name] = loguniform(dim.low, dim.high) if dim.prior == "log-uniform" else uniform(
                dim.low, dim.high - dim.low)
        else:
            out[name] = randint(dim.low, dim.high + 1)
    return out


def _optuna_space(space):
    from optuna.distributions import FloatDistribution, IntDistribution

    out = {}
    for name, dim in space.items():
        log = dim.prior == "log-uniform"
        cls = FloatDistribution if isinstance(dim, Real) else IntDistribution
        out[name] = cls(dim.low, dim.high, log=log)
    return out


def _fit_seconds(results, n_splits):
    return float(np.sum(np.asarray(results["mean_fit_time"]) + results["mean_score_time"])
                 * n_splits)  # fmt: skip


def run_one(task, method, mode, seed):
    """One search; its best score, wall time, utilisation and time to best."""
    finishes = []

    def record(state):
        finishes.append((state.elapsed, state.best_score))
        return False

    workers, n_iter = task["workers"], task["n_iter"]
    common = {"n_jobs": workers, "cv": task["cv"], "refit": False, "random_state": seed}
    if method in OURS:
        cls, extra = OURS[method]
        options = {**common, **extra, "n_iter": n_iter, "callbacks": record,
                   "asynchronous": mode == "async"}  # fmt: skip
        if cls is GeneticSearchCV:
            options["population_size"] = task["batch"]
        else:
            options["n_points"] = task["batch"]
        search = cls(task["estimator"], task["space"], **options)
    elif method == "RandomizedSearchCV":
        from sklearn.model_selection import RandomizedSearchCV

        search = RandomizedSearchCV(task["estimator"], _peer_space(task["space"]),
                                    n_iter=n_iter, **common)  # fmt: skip
    else:
        import optuna
        from optuna_integration import OptunaSearchCV

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        study = optuna.create_study(direction="maximize",
                                    sampler=optuna.samplers.TPESampler(seed=seed))  # fmt: skip
        search = OptunaSearchCV(task["estimator"], _optuna_space(task["space"]), n_trials=n_iter,
                                study=study, **common)  # fmt: skip
    start = time.perf_counter()
    search.fit(task["X"], task["y"])
    wall = time.perf_counter() - start
    results = search.cv_results_
    scores = np.asarray(results["mean_test_score"], dtype=float)
    best = float(np.nanmax(scores))
    to_best = next((t for t, b in finishes if b >= best), None) if finishes else None
    return {
        "method": method, "mode": mode, "seed": seed, "n": len(scores), "best": best,
        "wall": wall, "utilisation": _fit_seconds(results, task["cv"]) / workers / wall,
        "to_best": to_best,
    }  # fmt: skip


def _configs(methods):
    out = []
    for method in methods:
        if method in OURS:
            out += [(method, "batch"), (method, "async")]
        else:
            out.append((method, "peer"))
    return out


def run_workload(name, methods, seeds):
    make, backend = WORKLOADS[name]
    task = make()
    runs = []
    cluster = client = None
    if backend == "dask":
        from distributed import Client, LocalCluster

        cluster = LocalCluster(n_workers=task["workers"], threads_per_worker=1, processes=True,
                               host="127.0.0.1", dashboard_address=None)  # fmt: skip
        client = Client(cluster)
    try:
        for seed in seeds:
            for method, mode in _configs(methods):
                with parallel_backend(backend), warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    try:
                        run = run_one(task, method, mode, seed)
                    except Exception as exc:  # a method that cannot run is a result too
                        run = {"method": method, "mode": mode, "seed": seed,
                               "error": f"{type(exc).__name__}: {str(exc)[:300]}"}  # fmt: skip
                print(name, run, flush=True)
                runs.append(run)
    finally:
        if client is not None:
            client.close()
            cluster.close()
    return {"task": {k: v for k, v in task.items() if k in ("n_iter", "cv", "batch", "workers")},
            "optimum": task["optimum"], "backend": backend, "runs": runs}  # fmt: skip


def _interval(values):
    values = np.asarray(values, dtype=float)
    return f"{values.mean():.3f} [{values.min():.3f}, {values.max():.3f}]"


def render(raw):
    lines = [
        "# Asynchronous against batch evaluation",
        "",
        f"Command: `{raw['command']}` ({raw['seconds']:.0f} s). Seeds {raw['seeds']}. "
        "Each cell: mean [min, max] over seeds. Utilisation = (sum of CV fit and score "
        "times / workers) / wall time. Time to best: seconds until the final best "
        "candidate finished (our searches only: a callback records it).",
    ]
    for name, workload in raw["workloads"].items():
        task = workload["task"]
        lines += [
            "", f"## {name}", "",
            f"{task['workers']} workers ({workload['backend']}), {task['n_iter']} candidates, "
            f"cv={task['cv']}, batches of {task['batch']}.", "",
            "| method | mode | utilisation | wall s | best score | time to best s |",
            "| --- | --- | --- | --- | --- | --- |",
        ]  # fmt: skip
        groups = {}
        for run in workload["runs"]:
            groups.setdefault((run["method"], run["mode"]), []).append(run)
        for (method, mode), runs in groups.items():
            ok = [r for r in runs if "error" not in r]
            if not ok:
                lines.append(f"| {method} | {mode} | failed: {runs[0]['error'][:80]} | | | |")
                continue
            to_best = [r["to_best"] for r in ok if r["to_best"] is not None]
            lines.append(
                f"| {method} | {mode} | {_interval([r['utilisation'] for r in ok])} | "
                f"{_interval([r['wall'] for r in ok])} | {_interval([r['best'] for r in ok])} | "
                f"{_interval(to_best) if to_best else ''} |"
            )
        lines += ["", "Asynchronous against batch, same search and seed (ratio of means):", ""]
        lines += ["| search | wall time async / batch | best score async - batch |", "| --- | --- | --- |"]
        for method in OURS:
            batch, asyn = groups.get((method, "batch"), []), groups.get((method, "async"), [])
            pairs = [(b, a) for b in batch for a in asyn if a["seed"] == b["seed"]
                     and "error" not in a and "error" not in b]  # fmt: skip
            if pairs:
                ratio = np.mean([a["wall"] for _, a in pairs]) / np.mean([b["wall"] for b, _ in pairs])
                diff = [a["best"] - b["best"] for b, a in pairs]
                lines.append(f"| {method} | {ratio:.2f} | {_interval(diff)} |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workloads", default="sleep-threads,sleep-dask,hgb-2cores")
    parser.add_argument("--methods", default=",".join([*OURS, *PEERS]))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", default="asynchronous")
    args = parser.parse_args(argv)
    seeds = list(range(args.seeds))
    methods = args.methods.split(",")
    t0 = time.perf_counter()
    raw = {"command": command_line("benchmarks.asynchronous", argv), "seeds": seeds,
           "workloads": {}}  # fmt: skip
    for name in args.workloads.split(","):
        raw["workloads"][name] = run_workload(name, methods, seeds)
    raw["seconds"] = time.perf_counter() - t0
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(raw, indent=1))
    (RESULTS / f"{args.out}.md").write_text(render(raw))
    print(render(raw))


if __name__ == "__main__":
    main()
