"""Run the benchmark: ``python -m benchmarks.run [--quick]``.

Suites (all by default):

- quality: every method on every task, same budgets and seeds; the best
  CV score after each budget, normalised per task so that 0 is the median
  of random search at that budget and 100 the best score known; for each
  sk_hpo search and peer, the difference of their mean scores with a
  bootstrap interval over seeds.  Also the time each search spent outside
  fitting models.
- overhead: a 10-dimensional function whose estimator costs nothing to
  fit; the time per candidate at 10, 50, 100 and 200 candidates, and the
  wall time relative to RandomizedSearchCV.
- parallel: n_jobs=2 with n_points=2 against sequential.

Run only when named in ``--suites`` (each takes 15-25 minutes on 2 cores and
needs the ``keras`` extra; the default suites take about 95 with 15 seeds):

- keras: the Keras architecture search on the digits, every method
  (``benchmarks/keras_search.py``, also ``python -m benchmarks.keras_search``);
- multi-fidelity: successive halving with a model against full-resource
  searches and HalvingRandomSearchCV (``benchmarks/multi_fidelity.py``).

Results go to ``benchmarks/results/`` as JSON (raw), Markdown (tables) and a
PNG of the convergence curves (``benchmarks/plots.py``).  ``--render A.json
B.json`` pools the quality suites of runs on different seeds (``--first-seed``)
into one set of tables.
"""

import argparse
import json
import os
import platform
import shlex
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402
from joblib import Parallel, delayed  # noqa: E402

from . import methods as M  # noqa: E402
from .plots import convergence_png  # noqa: E402
from .tasks import get_tasks, normalised  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def _one_run(method, task, n_iter, seed, n_jobs=1, n_points=1):
    import warnings

    warnings.simplefilter("ignore")
    try:
        out = M.run(method, task, n_iter, seed, n_jobs=n_jobs, n_points=n_points)
    except M.Unavailable as exc:
        return {"method": method, "task": task.name, "seed": seed, "error": str(exc)}
    except Exception as exc:  # a peer that crashes is a result to report
        error = f"{type(exc).__name__}: {str(exc)[:300]}"
        return {"method": method, "task": task.name, "seed": seed, "error": error}
    scores = np.asarray(out["scores"], dtype=float)
    return {
        "method": method,
        "task": task.name,
        "seed": seed,
        "scores": [None if not np.isfinite(s) else float(s) for s in scores],
        "wall": out["wall"],
        "fit": out["fit"],
    }


def _best_after(scores, budget):
    values = np.array([np.nan if s is None else s for s in scores[:budget]], dtype=float)
    return np.nanmax(values) if np.isfinite(values).any() else np.nan


def quality(tasks, methods, budgets, seeds, n_jobs, extra_jobs=()):
    """All runs of the quality suite; ``extra_jobs`` share the same workers."""
    jobs = [delayed(_one_run)(m, t, max(budgets), s) for t in tasks for m in methods for s in seeds]
    # The longest jobs first, so that the two workers finish together.
    out = Parallel(n_jobs=n_jobs, verbose=5)(list(extra_jobs) + jobs)
    return out[len(extra_jobs) :], out[: len(extra_jobs)]


def quality_table(tasks, methods, budgets, runs):
    table = {}
    for task in tasks:
        task_runs = [r for r in runs if r["task"] == task.name and "scores" in r]
        optimum = task.optimum
        if optimum is None:
            optimum = max(_best_after(r["scores"], max(budgets)) for r in task_runs)
        for budget in budgets:
            random_best = [
                _best_after(r["scores"], budget) for r in task_runs if r["method"] == M.BASELINE
            ]
            random_median = float(np.median(random_best))
            for method in methods:
                mine = [r for r in task_runs if r["method"] == method]
                if not mine:
                    continue
                values = [
                    normalised(_best_after(r["scores"], budget), random_median, optimum)
                    for r in mine
                ]
                table[(task.name, method, budget)] = {
                    # The median over seeds: one unlucky seed of a skewed
                    # task would otherwise outweigh the rest.
                    "normalised": float(np.nanmedian(values)),
                    "normalised_mean": float(np.nanmean(values)),
                    "values": values,  # per seed
                    "best": float(np.nanmean([_best_after(r["scores"], budget) for r in mine])),
                    "overhead": float(np.mean([r["wall"] - r["fit"] for r in mine])),
                    "wall": float(np.mean([r["wall"] for r in mine])),
                }
    return table


# Candidates beyond which a method's overhead run is not extended: its time
# per candidate grows with the cube of the candidates, and one run to 200
# (about 750 s on 2 cores) would not fit the full suite's time limit.  Past
# the cap its optimizer is measured warm-started instead (WARM_STARTED).
OVERHEAD_CAP = {"skopt.BayesSearchCV": 100}
WARM_STARTED = {"skopt.BayesSearchCV": M.skopt_seconds_per_candidate}
_WARM_STEPS = 8


def _overhead_run(method, n_iter):
    """One search of ``n_iter`` candidates with timestamps of every fit."""
    from .tasks import _synthetic

    task = _synthetic("levy10", quick=True)
    task.make_estimator = lambda: M.TimedFunctionEstimator("levy10")
    fits = M.TimedFunctionEstimator.fit_times
    del fits[:]
    run = _one_run(method, task, n_iter, 0)
    n_splits = task.cv.get_n_splits()
    run["starts"] = [t - fits[0] for t in fits[::n_splits]] if fits else []
    return run


def _warm_started_run(method, n):
    """The time per candidate of ``method``'s optimizer told ``n`` points first."""
    from sk_hpo.testing import FUNCTIONS

    try:
        seconds = WARM_STARTED[method](FUNCTIONS["levy10"], n - _WARM_STEPS // 2, _WARM_STEPS)
    except Exception as exc:  # noqa: BLE001 - a failing peer is a result
        return {"method": method, "task": "levy10", "seed": 0, "error": str(exc)[:300]}
    return {"method": method, "warm": {str(n): seconds}}


def overhead(methods, sizes):
    """Jobs measuring the time per candidate at each of ``sizes``."""
    # A few candidates past the last size, for the window around it.
    jobs = [
        delayed(_overhead_run)(method, min(max(sizes), OVERHEAD_CAP.get(method, max(sizes))) + 5)
        for method in methods
    ]
    jobs += [
        delayed(_warm_started_run)(method, n)
        for method in methods if method in WARM_STARTED
        for n in sizes if n > OVERHEAD_CAP.get(method, max(sizes))
    ]
    return jobs


def _overhead_table(runs, sizes):
    table = {}
    for run in runs:
        for n, seconds in run.get("warm", {}).items():
            table[(run["method"], int(n))] = {
                "per_candidate": seconds, "elapsed": np.nan, "warm": True,
            }
        starts = np.asarray(run.get("starts", []))
        for n in sizes:
            if len(starts) <= n:
                continue
            window = np.diff(starts[max(1, n - 5) : n + 5])
            table[(run["method"], n)] = {
                "per_candidate": float(np.mean(window)),
                "elapsed": float(starts[n]),
            }
    return table


def parallel(tasks, methods, budget, seeds):
    """Each method sequential and with 2 workers (2 candidates per batch)."""
    runs = []
    for task in tasks:
        for method in methods:
            for seed in seeds:
                for n_jobs in (1, 2):
                    run = _one_run(method, task, budget, seed, n_jobs=n_jobs, n_points=n_jobs)
                    run["n_jobs"] = n_jobs
                    runs.append(run)
    return runs


def parallel_table(tasks, methods, budget, runs):
    table = {}
    for task in tasks:
        ok = [r for r in runs if r["task"] == task.name and "scores" in r]
        optimum = task.optimum
        if optimum is None:
            optimum = max(_best_after(r["scores"], budget) for r in ok)
        random_median = float(np.median(
            [_best_after(r["scores"], budget) for r in ok
             if r["method"] == M.BASELINE and r["n_jobs"] == 1]))
        for method in methods:
            for n_jobs in (1, 2):
                mine = [r for r in ok if r["method"] == method and r["n_jobs"] == n_jobs]
                if mine:
                    table[(task.name, method, n_jobs)] = {
                        "normalised": float(np.nanmedian([
                            normalised(_best_after(r["scores"], budget), random_median, optimum)
                            for r in mine])),
                        "wall": float(np.mean([r["wall"] for r in mine])),
                    }
    return table


def _markdown_errors(runs):
    failures = {}
    for r in runs:
        if "error" in r:
            failures.setdefault((r["method"], r["error"]), []).append(f"{r['task']}/{r['seed']}")
    return "".join(
        f"\n- {method} failed on {len(where)} run(s) ({', '.join(where[:4])}"
        f"{', ...' if len(where) > 4 else ''}): {error}"
        for (method, error), where in sorted(failures.items())
    )


def _markdown_parallel(tasks, methods, budget, table):
    lines = [f"\n### {budget} candidates, sequential against n_jobs=2 with n_points=2 "
             "(wall seconds, normalised score)\n",
             "| task | method | wall n_jobs=1 | wall n_jobs=2 | speed-up | score n_jobs=1 | score n_jobs=2 |",
             "|---|---|---|---|---|---|---|"]
    for task in tasks:
        for method in methods:
            one, two = table.get((task.name, method, 1)), table.get((task.name, method, 2))
            if one and two:
                lines.append(
                    f"| {task.name} | {method} | {one['wall']:.1f} | {two['wall']:.1f} | "
                    f"{one['wall'] / two['wall']:.2f} | {one['normalised']:.1f} | "
                    f"{two['normalised']:.1f} |")
    return "\n".join(lines)


def _seed_text(seeds):
    if seeds[0] == 0:
        return f"{len(seeds)} seeds"
    return f"seeds {seeds[0]}-{seeds[-1]}"


def _markdown_quality(tasks, methods, budgets, table, seeds):
    lines = []
    for budget in budgets:
        lines.append(f"\n### Normalised score at {budget} candidates "
                     f"(median over {_seed_text(seeds)}; 0 = median random search, "
                     "100 = best known)\n")
        present = [m for m in methods if any((t.name, m, budget) in table for t in tasks)]
        lines.append("| task | " + " | ".join(present) + " |")
        lines.append("|---" * (len(present) + 1) + "|")
        for task in tasks:
            cells = [f"{table[(task.name, m, budget)]['normalised']:.1f}"
                     if (task.name, m, budget) in table else "n/a" for m in present]
            lines.append(f"| {task.name} | " + " | ".join(cells) + " |")
        means = []
        for m in present:
            values = [table[(t.name, m, budget)]["normalised"] for t in tasks
                      if (t.name, m, budget) in table]
            means.append(f"**{np.nanmean(values):.1f}**")
        lines.append("| **mean over tasks** | " + " | ".join(means) + " |")
        common = [t for t in tasks if all((t.name, m, budget) in table for m in present)]
        if 0 < len(common) < len(tasks):
            cells = [f"**{np.nanmean([table[(t.name, m, budget)]['normalised'] for t in common]):.1f}**"
                     for m in present]
            lines.append(f"| **mean over the {len(common)} tasks every method completed** | "
                         + " | ".join(cells) + " |")
    lines.append(_markdown_peer_differences(tasks, methods, budgets, table))
    budget = max(budgets)
    present = [m for m in methods if any((t.name, m, budget) in table for t in tasks)]
    lines.append(f"\n### Seconds outside model fitting per search of {budget} candidates "
                 "(wall time minus fit and score times; mean over tasks and seeds)\n")
    lines.append("| method | overhead s | ratio to OptunaSearchCV | wall s |")
    lines.append("|---|---|---|---|")
    ref = np.mean([table[(t.name, "OptunaSearchCV", budget)]["overhead"] for t in tasks
                   if (t.name, "OptunaSearchCV", budget) in table] or [np.nan])
    for m in present:
        over = np.mean([table[(t.name, m, budget)]["overhead"] for t in tasks
                        if (t.name, m, budget) in table])
        wall = np.mean([table[(t.name, m, budget)]["wall"] for t in tasks
                        if (t.name, m, budget) in table])
        ratio = f"{over / ref:.2f}" if np.isfinite(ref) else "n/a"
        lines.append(f"| {m} | {over:.2f} | {ratio} | {wall:.2f} |")
    return "\n".join(lines)


N_RESAMPLES = 2000


def _mean_of_medians(per_task, picks):
    """Mean over tasks of the median over the seeds ``picks`` selects in each."""
    return np.mean([np.nanmedian(np.asarray(v)[p], axis=-1) for v, p in zip(per_task, picks)], axis=0)


def peer_difference(ours, peer, rng, n_resamples=N_RESAMPLES):
    """The tables' statistic of ``ours`` minus ``peer``, and how much the seeds move it.

    ``ours`` and ``peer`` hold, per task, the normalised score of each seed.
    Seeds are resampled with replacement within each task and each method
    (the runs of two methods share no randomness).  Returns the difference,
    the 2.5 and 97.5 percentiles of the resampled differences, and the share
    of resamples in which ``ours`` is at least ``peer``.
    """
    observed = _mean_of_medians(ours, [slice(None)] * len(ours)) - _mean_of_medians(
        peer, [slice(None)] * len(peer)
    )
    resampled = [
        _mean_of_medians(side, [rng.integers(len(v), size=(n_resamples, len(v))) for v in side])
        for side in (ours, peer)
    ]
    diffs = resampled[0] - resampled[1]
    low, high = np.percentile(diffs, [2.5, 97.5])
    return float(observed), float(low), float(high), float(np.mean(diffs >= 0))


def _markdown_peer_differences(tasks, methods, budgets, table):
    ours = [m for m in methods if m.startswith("sk_hpo.")]
    peers = [m for m in methods if not m.startswith("sk_hpo.") and m != M.BASELINE]
    rows = []
    rng = np.random.default_rng(0)
    for budget in budgets:
        for mine in ours:
            for peer in peers:
                common = [t.name for t in tasks
                          if (t.name, mine, budget) in table and (t.name, peer, budget) in table]
                if not common:
                    continue
                diff, low, high, share = peer_difference(
                    [table[(t, mine, budget)]["values"] for t in common],
                    [table[(t, peer, budget)]["values"] for t in common], rng,
                )
                rows.append(f"| {budget} | {mine} | {peer} | {len(common)} | {diff:+.1f} | "
                            f"[{low:+.1f}, {high:+.1f}] | {share:.2f} |")
    if not rows:
        return ""
    heading = ("\n### sk_hpo against each peer: difference of the mean normalised score, "
               "and how much the seeds move it\n")
    legend = (f"Over the tasks both completed. Interval and share from {N_RESAMPLES} resamples "
              "of the seeds of each task and method (with replacement): an interval that "
              "contains 0 means these seeds cannot tell the two apart.\n")
    header = ("| candidates | sk_hpo search | peer | tasks | difference | 95% interval | "
              "share of resamples with sk_hpo ahead or level |")
    return "\n".join([heading, legend, header, "|---|---|---|---|---|---|---|", *rows])


def _markdown_overhead(methods, sizes, table):
    lines = ["\n### Seconds per candidate on levy10 (an estimator that costs nothing to "
             "fit, cv=2): the mean gap between candidates around the n-th\n"]
    present = [m for m in methods if any((m, n) in table for n in sizes)]
    lines.append("| method | " + " | ".join(f"at {n}" for n in sizes) +
                 f" | time to {max(sizes)} | ratio to {M.BASELINE} |")
    lines.append("|---" * (len(sizes) + 3) + "|")
    last = max((n for n in sizes if (M.BASELINE, n) in table), default=None)
    floor = table.get((M.BASELINE, last), {}).get("elapsed", np.nan)
    for m in present:
        cells = [f"{table[(m, n)]['per_candidate'] * 1000:.1f} ms"
                 + (" (warm-started)" if table[(m, n)].get("warm") else "")
                 if (m, n) in table else
                 f"not run (capped at {OVERHEAD_CAP.get(m)})" for n in sizes]
        elapsed = table.get((m, last), {}).get("elapsed", np.nan)
        total = f"{elapsed:.2f} s | {elapsed / floor:.2f}" if np.isfinite(elapsed) else "n/a | n/a"
        lines.append(f"| {m} | " + " | ".join(cells) + f" | {total} |")
    if any(v.get("warm") for v in table.values()):
        lines.append(
            "\n(warm-started): past its cap, scikit-optimize's optimizer, set up as its "
            f"BayesSearchCV sets it up, is told n - {_WARM_STEPS // 2} random points at "
            f"once and timed over {_WARM_STEPS} ask/tell steps; a whole search to 200 "
            "would take about 750 s.")
    ours = [m for m in present if m.startswith("sk_hpo.")]
    peers = [m for m in present if not m.startswith("sk_hpo.") and m != M.BASELINE]
    if ours and peers:
        lines.append("\n### Time per candidate: peer / sk_hpo (above 1: sk_hpo is cheaper)\n")
        lines.append("| sk_hpo search | peer | " + " | ".join(f"at {n}" for n in sizes) + " |")
        lines.append("|---" * (len(sizes) + 2) + "|")
        for mine in ours:
            for peer in peers:
                cells = [f"{table[(peer, n)]['per_candidate'] / table[(mine, n)]['per_candidate']:.1f}"
                         if (peer, n) in table and (mine, n) in table else "n/a" for n in sizes]
                lines.append(f"| {mine} | {peer} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def command_line(module, argv):
    """The command that ran ``module``'s ``main(argv)``, for the results header."""
    return f"python -m {module} {shlex.join(sys.argv[1:] if argv is None else argv)}".rstrip()


def _versions():
    from importlib.metadata import PackageNotFoundError, version

    names = ["sk_hpo", "scikit-learn", "numpy", "scipy", "optuna", "optuna-integration",
             "scikit-optimize", "sklearn-genetic-opt", "hyperopt", "torch", "smac", "ConfigSpace"]
    found = [f"Python {platform.python_version()}"]
    for name in names:
        try:
            found.append(f"{name} {version(name)}")
        except PackageNotFoundError:
            found.append(f"{name} not installed")
    return ", ".join(found)


# Seeds of the full run.  With 5, one CV sample on one task moves a method's
# mean score by several points, and the bootstrap interval of the difference
# to scikit-optimize spanned 47 points at 60 candidates (-17.7 to +29.0).
FULL_SEEDS = 15


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few tasks and seeds (< 3 min)")
    parser.add_argument("--suites", default=None,
                        help="comma-separated: quality, overhead, parallel, keras, multi-fidelity "
                        "(default: quality, overhead, parallel; quick: quality, overhead)")
    parser.add_argument("--tasks", nargs="*", help="task names (default: all of the mode)")
    parser.add_argument("--methods", nargs="*", default=None,
                        help="default: all of the suite's methods")
    parser.add_argument("--seeds", type=int, default=None,
                        help=f"how many seeds (default {FULL_SEEDS}; quick: 3)")
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds start here (default 0): check a tuned default on seeds "
                        "other than the reported ones; results go to <mode>-seedsA-B.*")
    parser.add_argument("--n-jobs", type=int, default=2, help="runs in parallel")
    parser.add_argument("--out", type=Path, default=None,
                        help="default: benchmarks/results; with --render: the first "
                        "results' directory")
    parser.add_argument("--render", type=Path, nargs="+", default=None, metavar="JSON",
                        help="measure nothing: rewrite the tables and plot of a results JSON; "
                        "of several, pool their quality suites: of different seeds into "
                        "<mode>-seedsA-B.*, of the same seeds side by side (the methods "
                        "the first lacks: a peer added later) into <mode>-plus-<methods>.*")
    parser.add_argument("--replace", nargs="+", default=(), metavar="METHOD",
                        help="with --render: take METHOD from the first results only and "
                        "leave it out of the others (a method rerun after a change)")
    parser.add_argument("--keep-seeds", type=int, nargs="+", default=None, metavar="SEED",
                        help="with --render: only these seeds of every results file (to put "
                        "a method run on fewer seeds beside the others)")
    args = parser.parse_args(argv)
    if args.keep_seeds and not args.render:
        parser.error("--keep-seeds needs --render")
    if args.replace and not (args.render and len(args.render) > 1):
        parser.error("--replace needs --render with several results")
    if args.first_seed < 0:
        parser.error(f"--first-seed must be >= 0, got {args.first_seed}")
    if args.render:
        raws = [json.loads(path.read_text()) for path in args.render]
        out = args.out or args.render[0].parent
        try:
            if args.keep_seeds:
                raws = keep_seeds(raws, args.keep_seeds)
            raws = replace(raws, args.replace)
        except ValueError as exc:
            parser.error(str(exc))
        if len(raws) > 1 or args.keep_seeds:
            try:
                raw = pool(raws, command_line("benchmarks.run", argv))
            except ValueError as exc:
                parser.error(str(exc))
            out.mkdir(parents=True, exist_ok=True)
            (out / f"{raw['mode']}.json").write_text(json.dumps(raw, indent=1))
        else:
            raw = raws[0]
            out.mkdir(parents=True, exist_ok=True)
        print(render(raw, out))
        return 0
    args.out = args.out or RESULTS

    quick = args.quick
    separate = {"keras": "keras_search", "multi-fidelity": "multi_fidelity"}
    if args.suites and set(args.suites.split(",")) & set(separate):
        import importlib

        others = sorted(set(args.suites.split(",")) - set(separate))
        if others:
            parser.error(f"--suites {','.join(others)} cannot run together with {sorted(separate)}")
        for suite in args.suites.split(","):
            module = importlib.import_module(f".{separate[suite]}", __package__)
            module.main(_separate_suite_argv(parser, args, suite))
        return 0
    args.methods = args.methods or list(M.METHODS)
    tasks = get_tasks(args.tasks, quick=quick)
    n_seeds = args.seeds if args.seeds else (3 if quick else FULL_SEEDS)
    seeds = list(range(args.first_seed, args.first_seed + n_seeds))
    mode = "quick" if quick else "full"
    if args.first_seed:
        mode += f"-seeds{seeds[0]}-{seeds[-1]}"
    suites = (args.suites or ("quality,overhead" if quick else "quality,overhead,parallel"))
    suites = suites.split(",")
    raw = {
        "mode": mode, "seeds": seeds,
        "command": command_line("benchmarks.run", argv),
        "budgets": [30] if quick else [30, 60],
        "sizes": [10, 50] if quick else [10, 50, 100, 200],
        "versions": _versions(), "date": time.strftime("%Y-%m-%d"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "tasks": [t.name for t in tasks], "methods": args.methods, "seconds": {},
    }
    started = time.perf_counter()
    overhead_jobs = overhead(args.methods, raw["sizes"]) if "overhead" in suites else []
    runs, overhead_runs = quality(
        tasks if "quality" in suites else [], args.methods, raw["budgets"], seeds, args.n_jobs,
        overhead_jobs,
    )
    if "quality" in suites:
        raw["quality"] = runs
    if "overhead" in suites:
        raw["overhead"] = overhead_runs
    raw["seconds"]["quality and overhead"] = time.perf_counter() - started
    if "parallel" in suites:
        t0 = time.perf_counter()
        raw["parallel"] = parallel(get_tasks(PARALLEL_TASKS), args.methods, 30, seeds[:3])
        raw["seconds"]["parallel"] = time.perf_counter() - t0
    raw["seconds"]["total"] = time.perf_counter() - started
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{raw['mode']}.json").write_text(json.dumps(raw, indent=1))
    print(render(raw, args.out))
    return 0


def _separate_suite_argv(parser, args, suite):
    """The options of ``main`` passed on to the module of the keras or multi-fidelity suite."""
    unsupported = {
        "--first-seed": args.first_seed != 0,
        "--tasks": suite == "keras" and args.tasks is not None,
        "--methods": suite == "multi-fidelity" and args.methods is not None,
        "--quick": suite == "keras" and args.quick,
    }
    given = [option for option, used in unsupported.items() if used]
    if given:
        parser.error(f"--suites {suite} does not take {', '.join(given)}")
    argv = ["--out", str(args.out), "--n-jobs", str(args.n_jobs)]
    if args.seeds:
        argv += ["--seeds", str(args.seeds)]
    if args.tasks is not None:
        argv += ["--tasks", *args.tasks]
    if args.methods is not None:
        argv += ["--methods", *args.methods]
    if args.quick:
        argv.append("--quick")
    return argv


PARALLEL_TASKS = ["svm-synthetic-acc", "hgb-diabetes-mse"]


def pool(raws, command):
    """One results dict with the quality runs of ``raws``.

    Runs of different seeds: only the methods and tasks every one of them
    ran are kept.  Runs of the same seeds (``side_by_side``): every method,
    on the tasks all of them ran.  The other suites are left out, as their
    measurements are not repeated per seed.
    """
    if len({tuple(sorted(raw["seeds"])) for raw in raws}) == 1:
        return side_by_side(raws, command)
    seeds = [s for raw in raws for s in raw["seeds"]]
    if len(set(seeds)) < len(seeds):
        raise ValueError(f"--render: the results share seeds ({sorted(seeds)}); pool different seeds")
    missing = [i for i, raw in enumerate(raws) if "quality" not in raw]
    if missing:
        raise ValueError(f"--render: result {missing[0] + 1} has no quality suite to pool")
    methods = [m for m in raws[0]["methods"] if all(m in raw["methods"] for raw in raws)]
    tasks = [t for t in raws[0]["tasks"] if all(t in raw["tasks"] for raw in raws)]
    budgets = sorted(set.intersection(*(set(raw["budgets"]) for raw in raws)))
    seeds = sorted(seeds)
    base = raws[0]["mode"].split("-seeds")[0]
    quality = [r for raw in raws for r in raw["quality"] if r["method"] in methods and r["task"] in tasks]
    seconds = sum(raw["seconds"].get("quality and overhead", 0.0) for raw in raws)
    return {
        **{key: raws[0][key] for key in ("versions", "date", "machine", "sizes")},
        "mode": f"{base}-seeds{seeds[0]}-{seeds[-1]}", "seeds": seeds, "command": command,
        "budgets": budgets, "tasks": tasks, "methods": methods, "quality": quality,
        "seconds": {"quality and overhead": seconds, "total": seconds},
    }


def keep_seeds(raws, seeds):
    """``raws`` with only the quality runs of ``seeds``, which each must hold."""
    kept = []
    for i, raw in enumerate(raws):
        missing = sorted(set(seeds) - set(raw["seeds"]))
        if missing:
            raise ValueError(f"--keep-seeds: results {i + 1} has no seed {missing[0]}")
        if "quality" not in raw:
            raise ValueError(f"--keep-seeds: results {i + 1} has no quality suite")
        mode = f"{raw['mode'].split('-seeds')[0]}-seeds{min(seeds)}-{max(seeds)}"
        kept.append({**raw, "seeds": sorted(seeds), "mode": mode,
                     "quality": [r for r in raw["quality"] if int(r["seed"]) in seeds]})
    return kept


def replace(raws, methods):
    """``raws`` with ``methods`` left out of all but the first: a method
    rerun after a change replaces its earlier runs."""
    for method in methods:
        if method not in raws[0]["methods"]:
            raise ValueError(f"--replace {method}: the first results did not run it")
    return raws[:1] + [
        {**raw, "methods": [m for m in raw["methods"] if m not in methods],
         "quality": [r for r in raw["quality"] if r["method"] not in methods]}
        for raw in raws[1:]
    ]


def side_by_side(raws, command):
    """The methods of ``raws`` (runs of the same seeds) in one results dict.

    A method several of them ran is taken from the first, and must have the
    same scores in all, up to another machine's arithmetic (``_same_scores``;
    the baseline, random search, is deterministic): two
    runs whose shared methods differ were not made under the same
    conditions, and their normalised scores would not compare.
    """
    tasks = [t for t in raws[0]["tasks"] if all(t in raw["tasks"] for raw in raws)]
    methods, quality, added = [], [], []
    first = {}
    for i, raw in enumerate(raws):
        for run in raw["quality"]:
            if run["task"] not in tasks:
                continue
            key = (run["method"], run["task"], run["seed"])
            if key in first:
                if first[key][0] != i and not _same_scores(first[key][1]["scores"], run["scores"]):
                    raise ValueError(
                        f"--render: {run['method']} on {run['task']}, seed {run['seed']}, has "
                        f"different scores in results {first[key][0] + 1} and {i + 1}"
                    )
                continue
            first[key] = (i, run)
            quality.append(run)
        for method in raw["methods"]:
            if method not in methods:
                methods.append(method)
                if i:
                    added.append(method)
    budgets = sorted(set.intersection(*(set(raw["budgets"]) for raw in raws)))
    base = raws[0]["mode"]
    seconds = sum(raw["seconds"].get("quality and overhead", 0.0) for raw in raws)
    return {
        **{key: raws[0][key] for key in ("machine", "sizes")},
        # Each part's date and versions: the methods added later ran later.
        "date": " and ".join(dict.fromkeys(raw["date"] for raw in raws)),
        "versions": " / ".join(dict.fromkeys(raw["versions"] for raw in raws)),
        # A variant's name has a colon ("variant:..."): not in a file name.
        "mode": f"{base}-plus-" + "-".join(m.replace(":", "_") for m in added) if added else base,
        "seeds": sorted(raws[0]["seeds"]), "command": command, "budgets": budgets,
        "tasks": tasks, "methods": methods, "quality": quality,
        "seconds": {"quality and overhead": seconds, "total": seconds},
    }


def _same_scores(a, b):
    """Whether two runs' best-so-far curves agree up to another machine's arithmetic.

    Runs made on different CPUs (or numpy builds) differ in the last bits,
    an iterative fit (lbfgs on the digits) by up to 2e-4 relative, and a
    badly converging network's accuracy by more (0.68 against 0.61 for one
    MLP of random search on the digits, seed 0, 2026-12-03 against
    2026-12-04); the best score so far, what the tables normalise, agreed
    within 1e-3 there.  Another task, splitter or sampler differs by far more.
    """
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        return False
    best_a = np.fmax.accumulate(np.where(np.isnan(a), -np.inf, a))
    best_b = np.fmax.accumulate(np.where(np.isnan(b), -np.inf, b))
    return bool(np.allclose(best_a, best_b, rtol=1e-3, atol=1e-12))


def _default_command(mode):
    # Results written before the command was recorded.
    return "python -m benchmarks.run" + (" --quick" if mode == "quick" else "")


def render(raw, out):
    """Write ``<mode>.md`` and the convergence PNG of ``raw`` into ``out``; the text."""
    mode, methods = raw["mode"], raw["methods"]
    tasks = get_tasks(raw["tasks"])
    budgets, seeds, sizes = raw["budgets"], raw["seeds"], raw["sizes"]
    seconds = raw["seconds"]
    report = [f"# sk_hpo benchmark ({mode})\n",
              f"{raw['date']}, {raw['machine']}, "
              f"`{raw.get('command', _default_command(mode))}`; "
              f"{raw['versions']}."]
    if "quality" in raw:
        runs = raw["quality"]
        table = quality_table(tasks, methods, budgets, runs)
        report.append("\n## Sample efficiency")
        report.append(_markdown_quality(tasks, methods, budgets, table, seeds))
        report.append(_markdown_errors(runs))
        png = convergence_png(tasks, methods, runs, max(budgets), out / f"{mode}_convergence.png")
        if png:
            report.append(f"\n![Normalised score against fitted candidates]({png.name})\n")
    if "overhead" in raw:
        report.append("\n## Overhead")
        report.append(_markdown_overhead(methods, sizes, _overhead_table(raw["overhead"], sizes)))
        report.append(_markdown_errors(raw["overhead"]))
    report.append(f"\n(quality and overhead suites: {seconds['quality and overhead']:.0f} s)")
    if "parallel" in raw:
        parallel_tasks = get_tasks(PARALLEL_TASKS)
        table = parallel_table(parallel_tasks, methods, 30, raw["parallel"])
        report.append("\n## Parallel")
        report.append(_markdown_parallel(parallel_tasks, methods, 30, table))
        report.append(_markdown_errors(raw["parallel"]))
        report.append(f"\n(suite time {seconds['parallel']:.0f} s)")
    text = "\n".join(report) + f"\n\nTotal {seconds['total']:.0f} s.\n"
    (out / f"{mode}.md").write_text(text)
    return text


if __name__ == "__main__":
    sys.exit(main())
