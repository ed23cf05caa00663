"""Multi-fidelity against full-resource searches: ``python -m benchmarks.multi_fidelity``.

Two tasks whose cost is set by an integer parameter: gradient boosting
(``max_iter``, boosting rounds, 9 to 243) on a generated classification
problem, and the Keras digits network (``epochs``, 3 to 81, or to
``--keras-epochs``; needs the ``keras`` extra).  For each task, each seed,
side by side:

- ``TPESearchCV`` and ``BayesSearchCV`` evaluating every candidate at full
  resource;
- the same searches with ``resource=`` (successive halving, BOHB-style:
  candidates proposed by the model, raced on the resource; a promoted
  candidate continues its lower rung's model, or with ``--from-scratch``
  trains again from scratch, results ``multi_fidelity-scratch.*``);
- scikit-learn's ``HalvingRandomSearchCV`` with the same resource levels
  and as many starting candidates as the multi-fidelity searches.

Compute is the sum of the fit times of every CV fit (``mean_fit_time`` x
splits).  Reported: the best CV score at full resource, the compute spent,
the compute a multi-fidelity search needed to first reach the final best
score of the full-resource search of the same method, and each search's
best score within the compute HalvingRandomSearchCV spent; and how the time
of one fit grows with the resource (a fixed cost per fit, as a Keras model's
build and tracing, caps what lower levels can save), with what a
successive-halving bracket then spends per candidate it trains in full.
Results: ``benchmarks/results/multi_fidelity.{md,json}``; each finished run
is also appended to ``multi_fidelity.partial.jsonl`` as it ends, so that
``--resume`` after an interruption reruns only the missing ones.
"""

import argparse
import json
import os
import platform
import time
from dataclasses import dataclass
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
from joblib import Parallel, delayed
from sklearn.datasets import make_classification
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, StratifiedKFold

from sk_hpo import BayesSearchCV, Integer, Real, TPESearchCV
from sk_hpo._hyperband import bracket_sizes
from sk_hpo._multi_fidelity import resource_levels

from . import methods as M

RESULTS = Path(__file__).resolve().parent / "results"
CV = StratifiedKFold(3, shuffle=True, random_state=0)


@dataclass
class FidelityTask:
    name: str
    make_estimator: object
    space: dict
    load: object
    resource: str
    min_resources: int
    max_resources: int
    n_full: int  # candidates of the full-resource searches
    n_multi: int  # candidates started by the multi-fidelity searches


def _gbm_data():
    return make_classification(
        n_samples=3000, n_features=20, n_informative=8, n_redundant=4, flip_y=0.05,
        class_sep=0.8, random_state=0,
    )  # fmt: skip


# A Keras fit has a fixed cost (building the model, tracing it): at 27 epochs
# a 3-epoch fit cost 0.25-0.41 of a full one, at 81 epochs 0.07-0.10.
KERAS_EPOCHS = 81


def _keras_task(epochs=KERAS_EPOCHS):
    from sklearn.datasets import load_digits

    from .keras_search import SPACE, digits_task

    space = {k: v for k, v in SPACE.items() if k != "net__epochs"}

    def make():
        estimator = digits_task().make_estimator()
        return estimator.set_params(net__epochs=epochs)

    n_start = bracket(3, epochs)[1][0]
    return FidelityTask(
        "keras-digits-acc", make, space, lambda: load_digits(return_X_y=True), "net__epochs",
        min_resources=3, max_resources=epochs, n_full=20, n_multi=3 * n_start,  # three brackets
    )  # fmt: skip


def get_tasks(names=None, keras_epochs=KERAS_EPOCHS):
    tasks = {
        "gbm-synthetic-acc": lambda: FidelityTask(
            "gbm-synthetic-acc",
            lambda: HistGradientBoostingClassifier(max_iter=243, early_stopping=False, random_state=0),
            {
                "learning_rate": Real(1e-3, 1.0, prior="log-uniform"),
                "max_leaf_nodes": Integer(4, 128, prior="log-uniform"),
                "min_samples_leaf": Integer(2, 100, prior="log-uniform"),
                "l2_regularization": Real(1e-6, 10.0, prior="log-uniform"),
            },
            _gbm_data, "max_iter", min_resources=9, max_resources=243, n_full=20, n_multi=54,
        ),
        "keras-digits-acc": lambda: _keras_task(keras_epochs),
    }
    names = names or list(tasks)
    unknown = sorted(set(names) - set(tasks))
    if unknown:
        raise SystemExit(f"unknown task(s) {unknown}; known: {sorted(tasks)}")
    return [tasks[n]() for n in names]


METHODS = ["TPE full", "TPE multi-fidelity", "Bayes full", "Bayes multi-fidelity", "HalvingRandomSearchCV"]


def _search(method, task, seed, continuation="auto"):
    common = {"scoring": "accuracy", "cv": CV, "refit": False, "random_state": seed}
    if method == "HalvingRandomSearchCV":
        space = {name: M._DimensionSampler(dim) for name, dim in task.space.items()}
        return HalvingRandomSearchCV(
            task.make_estimator(), space, n_candidates=task.n_multi, factor=3,
            resource=task.resource, min_resources=task.min_resources,
            max_resources=task.max_resources, aggressive_elimination=False, **common,
        )  # fmt: skip
    cls = TPESearchCV if method.startswith("TPE") else BayesSearchCV
    if method.endswith("full"):
        return cls(task.make_estimator(), task.space, n_iter=task.n_full, **common)
    return cls(
        task.make_estimator(), task.space, n_iter=task.n_multi, resource=task.resource,
        min_resources=task.min_resources, max_resources=task.max_resources, factor=3,
        continuation=continuation, **common,
    )  # fmt: skip


def _trained(search, resources):
    """The resource each row actually trained: the difference to the level below
    for a candidate that continued its lower rung, else its resource."""
    if getattr(search, "continuation_", None) is None:
        return [int(r) for r in resources]
    results, levels = search.cv_results_, search.n_resources_
    first = {}  # bracket -> its first level
    for level, bracket in zip(results["iter"], results["bracket"]):
        first[bracket] = min(first.get(bracket, level), level)
    return [
        int(r) - int(levels[level - 1] if level > first[bracket] else 0)
        for r, level, bracket in zip(resources, results["iter"], results["bracket"])
    ]


def _one_run(method, task_name, seed, n_full, n_multi, keras_epochs=KERAS_EPOCHS,
             continuation="auto"):  # fmt: skip
    import warnings

    warnings.simplefilter("ignore")
    task = get_tasks([task_name], keras_epochs)[0]
    task.n_full, task.n_multi = n_full, n_multi
    X, y = task.load()
    search = _search(method, task, seed, continuation)
    start = time.perf_counter()
    try:
        search.fit(X, y)
    except Exception as exc:  # noqa: BLE001 - a failing method is a result to report
        return {"method": method, "task": task_name, "seed": seed, "error": f"{type(exc).__name__}: {exc}"[:300]}
    wall = time.perf_counter() - start
    results = search.cv_results_
    n_splits = CV.get_n_splits()
    fit_seconds = np.asarray(results["mean_fit_time"]) * n_splits
    resources = np.asarray(results.get("n_resources", np.full(len(fit_seconds), task.max_resources)))
    scores = np.asarray(results["mean_test_score"], dtype=float)
    full = np.where(resources == task.max_resources, scores, np.nan)
    return {
        "method": method, "task": task_name, "seed": seed, "wall": wall,
        "compute": np.cumsum(fit_seconds).tolist(),
        "best_full": [None if not np.isfinite(b) else float(b)
                      for b in np.fmax.accumulate(np.where(np.isnan(full), -np.inf, full))],
        "n_fits": int(len(scores) * n_splits),
        # Per candidate: its resource and the mean time of one CV fit.
        "resources": resources.tolist(), "fit_time": np.asarray(results["mean_fit_time"]).tolist(),
        # ... and the resource it trained (less when it continued a lower rung).
        "trained": _trained(search, resources),
        "continuation": getattr(search, "continuation_", None),
    }  # fmt: skip


def _best(run):
    """Best full-resource score after each evaluation (nan before the first)."""
    return np.array([np.nan if b is None else b for b in run["best_full"]], dtype=float)


def _best_within(run, budget):
    compute, best = np.asarray(run["compute"]), _best(run)
    done = np.flatnonzero(compute <= budget * (1 + 1e-9))
    return best[done[-1]] if len(done) and np.isfinite(best[done[-1]]) else np.nan


def _compute_to_reach(run, target):
    reached = np.flatnonzero(_best(run) >= target - 1e-12)
    return run["compute"][reached[0]] if len(reached) else np.nan


def table(runs, task_name):
    mine = [r for r in runs if r["task"] == task_name and "compute" in r]
    by = {m: [r for r in mine if r["method"] == m] for m in METHODS}
    halving_compute = np.mean([r["compute"][-1] for r in by["HalvingRandomSearchCV"]] or [np.nan])
    lines = [
        (f"| method | best CV accuracy | compute s | wall s | CV fits | best within Halving's {halving_compute:.0f} s "
        "| best within a third of the full search's compute "
        "| compute to reach the full search's best | as a fraction of the full search's compute |"),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for method in METHODS:
        rows = by[method]
        if not rows:
            continue
        best = np.nanmean([_best(r)[-1] for r in rows])
        compute = np.mean([r["compute"][-1] for r in rows])
        wall = np.mean([r["wall"] for r in rows])
        fits = np.mean([r["n_fits"] for r in rows])
        within = np.nanmean([_best_within(r, halving_compute) for r in rows])
        third, reach, fraction = "", "", ""
        if method.endswith(("full", "multi-fidelity")):
            full = by[method.replace("multi-fidelity", "full")]
            # Per seed: the same seed's full-resource search sets the budget and the target.
            pairs = [(r, f) for r in rows for f in full if f["seed"] == r["seed"]]
            if pairs:
                third = f"{np.mean([_best_within(r, f['compute'][-1] / 3) for r, f in pairs]):.4f}"
            if pairs and method.endswith("multi-fidelity"):
                spent = [_compute_to_reach(r, _best(f)[-1]) for r, f in pairs]
                fractions = [s / f["compute"][-1] for s, (_, f) in zip(spent, pairs)]
                n_reached = int(np.isfinite(spent).sum())
                n_half = int(np.sum(np.asarray(fractions) <= 0.5))
                reach = (f"{np.nanmean(spent):.0f} s ({n_reached}/{len(pairs)} seeds reached it, "
                         f"{n_half} within half)")  # fmt: skip
                fraction = f"{np.nanmean(fractions):.2f} (max {np.nanmax(fractions):.2f})" if n_reached else "n/a"
        lines.append(
            f"| {method} | {best:.4f} | {compute:.0f} | {wall:.0f} | {fits:.0f} | {within:.4f} | {third} | {reach} | {fraction} |"
        )
    return lines


def fit_cost(runs):
    """Least-squares ``(fixed, per_unit)`` seconds of one CV fit training ``r`` units."""
    r = np.concatenate([run.get("trained", run["resources"]) for run in runs])
    t = np.concatenate([run["fit_time"] for run in runs])
    if len(np.unique(r)) < 2:
        return None
    per_unit, fixed = np.polyfit(r, t, 1)
    return float(fixed), float(per_unit)


def bracket(min_resources, max_resources, factor=3):
    """Resource levels, and candidates per rung of a successive-halving bracket over them."""
    levels = resource_levels(min_resources, max_resources, factor)
    # As Hyperband plans its most aggressive bracket: factor ** K starts.
    return levels, bracket_sizes(factor ** (len(levels) - 1), len(levels), factor)


def cost_lines(runs, task):
    """How the time of one fit grows with the resource, per method that varies it.

    And what a successive-halving bracket then costs per candidate it trains
    at full resource, in fits at full resource: a full-resource search gets
    one candidate for each.
    """
    lines = []
    low, high = task["min_resources"], task["max_resources"]
    levels, sizes = bracket(low, high)
    for method in METHODS:
        mine = [r for r in runs if r["task"] == task["name"] and r["method"] == method and "resources" in r]
        cost = fit_cost(mine) if mine else None
        if cost is None:
            continue
        fixed, per_unit = cost
        full = fixed + per_unit * high
        ratio = (fixed + per_unit * low) / full
        # A continued fit trains only what its level adds to the one below.
        continued = any(run.get("continuation") for run in mine)
        trained = np.diff([0, *levels]) if continued else levels
        spent = sum(n * (fixed + per_unit * r) for n, r in zip(sizes, trained)) / full / sizes[-1]
        how = "continued" if continued else "from scratch"
        lines.append(
            f"| {method} | {how} | {fixed:.3f} | {per_unit * 1000:.2f} | {ratio:.2f} | {spent:.1f} |"
        )
    if not lines:
        return []
    return [
        "",
        (f"Time of one CV fit against the resource r it trains, least squares over every fit: "
        f"fixed + per_unit x r (a continued fit trains the difference to the level below, and "
        f"its time includes loading and saving the model). Were it proportional to r, a fit at "
        f"{low} would cost {low / high:.2f} of one at {high}. The last column prices a bracket "
        f"({' / '.join(f'{n} at {r}' for n, r in zip(sizes, levels))}) with that cost model: what "
        f"it spends per candidate it trains at {high}, counted in fits at {high}, each rung "
        f"training its whole level (from scratch) or what it adds (continued). A full-resource "
        f"search spends 1 per candidate; a third of the {task['n_full']}-candidate full search's "
        f"compute is {task['n_full'] / 3:.1f}."),
        "",
        (f"| method | rungs | fixed s | per unit ms | fit at {low} / fit at {high} "
         f"| bracket, per candidate at {high} |"),
        "|---|---|---|---|---|---|",
        *lines,
    ]


def render(raw, out):
    lines = [
        "# Multi-fidelity searches against full-resource searches",
        "",
        (f"{raw['date']}, {raw['machine']}, "
        f"`{raw.get('command', 'python -m benchmarks.multi_fidelity')}`; {raw['versions']}."),
        "",
        ("Compute = the sum of the fit times of every CV fit. Means over seeds "
        f"{raw['seeds']}; 3-fold stratified CV; `factor=3`. The fraction column is, per seed, the "
        "compute the multi-fidelity search spent until its best full-resource score first reached "
        "the final best of the full-resource search of the same method and seed, over that full "
        "search's total compute. The column \"best within a third\" is, per seed, the best "
        "full-resource score once the search had spent a third of that same total (nan: some seed "
        "had none by then); for a multi-fidelity row, to set against the final best of its full search."),
    ]
    for t in raw["tasks"]:
        lines += [
            "",
            f"## {t['name']}",
            "",
            (f"Resource `{t['resource']}` from {t['min_resources']} to {t['max_resources']}; full-resource "
            f"searches: {t['n_full']} candidates; multi-fidelity searches and HalvingRandomSearchCV start "
            f"{t['n_multi']}."),
            "",
            *table(raw["runs"], t["name"]),
            *cost_lines(raw["runs"], t),
        ]
    errors = [f"- {r['task']} / {r['method']} / seed {r['seed']}: {r['error']}" for r in raw["runs"] if "error" in r]
    if errors:
        lines += ["", "Failed runs:", *errors]
    lines += ["", f"Total {raw['seconds']:.0f} s."]
    text = "\n".join(lines) + "\n"
    (out / f"{raw.get('stem', 'multi_fidelity')}.md").write_text(text)
    return text


def main(argv=None):
    from .run import _versions, command_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", nargs="*", default=None)
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--quick", action="store_true",
                        help="4 full-resource and 9 multi-fidelity candidates: checks the run, measures little")  # fmt: skip
    parser.add_argument("--n-full", type=int, default=None,
                        help="candidates of the full-resource searches, every task (default: the task's)")
    parser.add_argument("--n-multi", type=int, default=None,
                        help="candidates the multi-fidelity searches and Halving start (default: the task's)")
    parser.add_argument("--keras-epochs", type=int, default=None,
                        help=f"full resource of the Keras task, 9 or more (default {KERAS_EPOCHS})")  # fmt: skip
    parser.add_argument("--from-scratch", action="store_true",
                        help="multi-fidelity searches train every rung from scratch (continuation=False)")  # fmt: skip
    parser.add_argument("--n-jobs", type=int, default=2, help="searches in parallel")
    parser.add_argument("--resume", action="store_true",
                        help="keep the runs an interrupted benchmark of the same options finished")  # fmt: skip
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="measure nothing: rewrite the tables of a results JSON")  # fmt: skip
    args = parser.parse_args(argv)
    for option in ("n_full", "n_multi"):
        value = getattr(args, option)
        if value is not None and value < 1:
            parser.error(f"--{option.replace('_', '-')} must be >= 1, got {value}")
    if args.keras_epochs is not None and args.keras_epochs < 9:
        parser.error(f"--keras-epochs must be >= 9 (two resource levels from 3), got {args.keras_epochs}")
    if args.quick and (args.n_full or args.n_multi):
        parser.error("--quick sets the candidates; it does not take --n-full or --n-multi")
    if args.render:
        print(render(json.loads(args.render.read_text()), args.render.parent))
        return
    keras_epochs = args.keras_epochs or KERAS_EPOCHS
    tasks = get_tasks(args.tasks, keras_epochs)
    seeds = list(range(args.seeds))
    started = time.perf_counter()
    for t in tasks:
        if args.quick:
            t.n_full, t.n_multi = 4, 9
        t.n_full = args.n_full or t.n_full
        t.n_multi = args.n_multi or t.n_multi
    # Other budgets than the tasks' own get results files of their own.
    epochs = args.keras_epochs if any(t.name == "keras-digits-acc" for t in tasks) else None
    stem = "multi_fidelity" + "".join(
        f"-{name}{value}"
        for name, value in (("full", args.n_full), ("multi", args.n_multi), ("epochs", epochs))
        if value
    ) + ("-scratch" if args.from_scratch else "")
    continuation = False if args.from_scratch else "auto"
    # Each finished run is appended to a partial file at once, so that an
    # interrupted benchmark keeps what it measured; --resume reruns the rest.
    args.out.mkdir(parents=True, exist_ok=True)
    partial = args.out / f"{stem}.partial.jsonl"
    done = _read_partial(partial) if args.resume else {}
    if not args.resume:
        partial.unlink(missing_ok=True)
    plan = [(m, t, s) for t in tasks for s in seeds for m in METHODS]
    jobs = [
        delayed(_one_run)(m, t.name, s, t.n_full, t.n_multi, keras_epochs, continuation)
        for m, t, s in plan if (m, t.name, s) not in done
    ]  # fmt: skip
    print(f"{len(jobs)} runs to do, {len(plan) - len(jobs)} kept from {partial.name}", flush=True)
    with partial.open("a") as sink:
        for run in _as_finished(jobs, args.n_jobs):
            done[(run["method"], run["task"], run["seed"])] = run
            sink.write(json.dumps(run) + "\n")
            sink.flush()
    runs = [done[(m, t.name, s)] for m, t, s in plan]
    raw = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": _versions(), "seeds": seeds, "seconds": time.perf_counter() - started, "stem": stem,
        "resumed": len(plan) - len(jobs),
        "command": command_line("benchmarks.multi_fidelity", argv),
        "tasks": [
            {k: getattr(t, k) for k in ("name", "resource", "min_resources", "max_resources", "n_full", "n_multi")}
            for t in tasks
        ],
        "runs": runs,
    }  # fmt: skip
    (args.out / f"{stem}.json").write_text(json.dumps(raw, indent=1))
    partial.unlink(missing_ok=True)
    print(render(raw, args.out))


def _as_finished(jobs, n_jobs):
    """The runs of ``jobs`` (joblib ``delayed`` calls) in the order they finish."""
    if n_jobs == 1:
        return (function(*args, **kwargs) for function, args, kwargs in jobs)
    try:
        return Parallel(n_jobs=n_jobs, verbose=5, return_as="generator_unordered")(jobs)
    except TypeError:  # joblib < 1.3 has no return_as: all of them at the end
        return Parallel(n_jobs=n_jobs, verbose=5)(jobs)


def _read_partial(path):
    """The runs an interrupted benchmark finished, by (method, task, seed)."""
    if not path.exists():
        return {}
    runs = {}
    for line in path.read_text().splitlines():
        try:
            run = json.loads(line)
        except json.JSONDecodeError:  # the line being written when it stopped
            continue
        runs[(run["method"], run["task"], run["seed"])] = run
    return runs


if __name__ == "__main__":
    main()
