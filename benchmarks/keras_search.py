"""Keras architecture search on the digits: ``python -m benchmarks.keras_search``.

Every method searches the same space for a dense network in
``Pipeline(StandardScaler(), KerasClassifier())`` on scikit-learn's 1797
8x8 digits (3-fold stratified CV, accuracy): depth, width, activation,
dropout, learning rate, batch size and epochs.  Same budget of candidates
and same seeds for every method; runs go two at a time, each with one
TensorFlow thread, on a 2-core machine.

It reports the best cross-validated accuracy after 10, 20 and 30
candidates, and against wall time (the time at which each candidate's last
fold finished), as a table and a PNG.  Needs the ``keras`` and ``bench``
extras.  Results: ``benchmarks/results/keras_search.{md,json,png}``.
"""

import argparse
import json
import os
import platform
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import load_digits
from sklearn.model_selection import StratifiedKFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_hpo import Categorical, Integer, Real
from sk_hpo.keras import KerasClassifier

from . import methods as M
from .tasks import Task

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (10, 20, 30)
METHODS = [
    "RandomizedSearchCV", "skopt.BayesSearchCV", "OptunaSearchCV", "GASearchCV",
    "sk_hpo.TPESearchCV", "sk_hpo.BayesSearchCV", "sk_hpo.GeneticSearchCV",
]  # fmt: skip

SPACE = {
    "net__model__n_layers": Integer(1, 3),
    "net__model__units": Integer(8, 256, prior="log-uniform"),
    "net__model__activation": Categorical(["relu", "tanh", "elu"]),
    "net__model__dropout": Real(0.0, 0.6),
    "net__optimizer__learning_rate": Real(1e-4, 1e-1, prior="log-uniform"),
    "net__batch_size": Integer(32, 512, prior="log-uniform"),
    "net__epochs": Integer(2, 30),
}

_FIT_ENDS = []


class TimedKerasClassifier(KerasClassifier):
    """Records when each of its fits ends; the searches run with n_jobs=1, so in this process."""

    def fit(self, X, y, **kwargs):
        out = super().fit(X, y, **kwargs)
        _FIT_ENDS.append(time.perf_counter())
        return out


def digits_task():
    """The task every method searches."""
    return Task(
        name="keras-digits-acc",
        make_estimator=lambda: Pipeline(
            [("scale", StandardScaler()), ("net", TimedKerasClassifier(optimizer="adam", random_state=0))]
        ),
        search_space=SPACE,
        load=lambda: load_digits(return_X_y=True),
        cv=StratifiedKFold(3, shuffle=True, random_state=0),
        scoring="accuracy",
        tags=("keras",),
    )


def _one_run(method, n_iter, seed):
    import warnings

    warnings.simplefilter("ignore")
    task = digits_task()
    del _FIT_ENDS[:]
    start = time.perf_counter()
    try:
        out = M.run(method, task, n_iter, seed)
    except Exception as exc:  # noqa: BLE001 - a peer that crashes is a result to report
        return {"method": method, "seed": seed, "error": f"{type(exc).__name__}: {str(exc)[:300]}"}
    n_splits = task.cv.get_n_splits()
    ends = [t - start for t in _FIT_ENDS[n_splits - 1 :: n_splits]]
    scores = np.asarray(out["scores"], dtype=float)
    return {
        "method": method, "seed": seed,
        "scores": [None if not np.isfinite(s) else float(s) for s in scores],
        "ends": ends[: len(scores)], "wall": out["wall"], "fit": out["fit"],
    }  # fmt: skip


def _best_so_far(scores):
    values = np.array([np.nan if s is None else s for s in scores], dtype=float)
    return np.fmax.accumulate(values)


def _best_at_time(run, t):
    ends = np.asarray(run["ends"])
    best = _best_so_far(run["scores"])[: len(ends)]
    done = np.flatnonzero(ends <= t)
    return best[done[-1]] if len(done) else np.nan


def table(runs, methods):
    ok = [r for r in runs if "scores" in r]
    random_wall = np.mean([r["wall"] for r in ok if r["method"] == M.BASELINE] or [np.nan])
    times = [0.25 * random_wall, 0.5 * random_wall, random_wall]
    head = (
        "| method | " + " | ".join(f"best after {b}" for b in BUDGETS)
        + " | " + " | ".join(f"best by {t:.0f} s" for t in times)
        + " | wall s | fit s | wall / random |"
    )
    lines = [head, "|---" * (len(BUDGETS) + len(times) + 4) + "|"]
    for method in methods:
        mine = [r for r in ok if r["method"] == method]
        if not mine:
            continue
        after = [np.nanmean([_best_so_far(r["scores"])[b - 1] for r in mine if len(r["scores"]) >= b])
                 for b in BUDGETS]  # fmt: skip
        by_time = [np.nanmean([_best_at_time(r, t) for r in mine]) for t in times]
        wall = np.mean([r["wall"] for r in mine])
        fit = np.mean([r["fit"] for r in mine])
        cells = [f"{v:.4f}" for v in after + by_time]
        lines.append(
            f"| {method} | " + " | ".join(cells) + f" | {wall:.0f} | {fit:.0f} | {wall / random_wall:.2f} |"
        )
    return lines


def plot(runs, methods, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    ok = [r for r in runs if "scores" in r]
    if not ok:
        return None
    horizon = max(r["ends"][-1] for r in ok if r["ends"])
    grid = np.linspace(0, horizon, 200)
    fig, ax = plt.subplots(figsize=(7, 4.5))
    for method in methods:
        mine = [r for r in ok if r["method"] == method]
        if mine:
            curve = np.nanmean([[_best_at_time(r, t) for t in grid] for r in mine], axis=0)
            ax.step(grid, curve, where="post", label=method)
    ax.set_xlabel("wall seconds (one search per core)")
    ax.set_ylabel("best CV accuracy so far (mean over seeds)")
    ax.set_ylim(bottom=max(0.8, ax.get_ylim()[0]))
    ax.set_title("Keras architecture search on the digits")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def render(raw, out):
    runs, methods = raw["runs"], raw["methods"]
    lines = [
        "# Keras architecture search on the digits",
        "",
        (f"{raw['date']}, {raw['machine']}, "
         f"`{raw.get('command', 'python -m benchmarks.keras_search')}`; {raw['versions']}."),
        "",
        f"`Pipeline([('scale', StandardScaler()), ('net', KerasClassifier(optimizer='adam'))])` on the 1797 digits, "
        f"3-fold stratified CV, accuracy; {raw['n_iter']} candidates per search, seeds "
        f"{raw['seeds']}, two searches at a time with one TensorFlow thread each. Space: "
        + ", ".join(f"`{k.removeprefix('net__')}` {v!r}" for k, v in SPACE.items())
        + ". Cells are means over seeds; the times are fractions of RandomizedSearchCV's mean "
        "wall time.",
        "",
        *table(runs, methods),
    ]
    errors = [f"- {r['method']} seed {r['seed']}: {r['error']}" for r in runs if "error" in r]
    if errors:
        lines += ["", "Failed runs:", *errors]
    png = plot(runs, methods, out / "keras_search.png")
    if png:
        lines += ["", f"![Best accuracy against wall time]({png.name})"]
    lines += ["", f"Total {raw['seconds']:.0f} s."]
    text = "\n".join(lines) + "\n"
    (out / "keras_search.md").write_text(text)
    return text


def main(argv=None):
    from .run import _versions, command_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=max(BUDGETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument("--n-jobs", type=int, default=2, help="searches in parallel")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="measure nothing: rewrite the table and plot of a results JSON")  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text()), args.render.parent))
        return
    unknown = sorted(set(args.methods) - set(M.METHODS))
    if unknown:
        parser.error(f"unknown method(s) {unknown}; known: {sorted(M.METHODS)}")
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    jobs = [delayed(_one_run)(m, args.n_iter, s) for s in seeds for m in args.methods]
    runs = Parallel(n_jobs=args.n_jobs, verbose=5)(jobs)
    raw = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": _versions() + _keras_versions(), "n_iter": args.n_iter, "seeds": seeds,
        "methods": args.methods, "runs": runs, "seconds": time.perf_counter() - started,
        "command": command_line("benchmarks.keras_search", argv),
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keras_search.json").write_text(json.dumps(raw, indent=1))
    print(render(raw, args.out))


def _keras_versions():
    from importlib.metadata import PackageNotFoundError, version

    found = []
    for name in ("keras", "tensorflow-cpu", "tensorflow", "scikeras"):
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            pass
    return ", " + ", ".join(found)


if __name__ == "__main__":
    main()
