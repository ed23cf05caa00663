"""Time per suggestion as a search grows: ``python -m benchmarks.scaling``.

Every algorithm, ours and the peers', minimises Hartmann-6 (a function that
costs nothing to evaluate) through its own loop, one evaluation at a time,
up to 3000 evaluations; a timestamp is taken at each evaluation.  The time
per suggestion at ``n`` candidates is the mean gap between the evaluations
just before the ``n``-th (a window of ``n / 10``, at least 5), so it is what
a user pays per candidate at that point of a long search, not an average
since the start.  Ours run as bare ask/tell algorithms with their searches'
defaults (``_make_optimizer``), the peers through their own APIs:

- Optuna's ``TPESampler`` and ``GPSampler`` (``study.optimize``);
- hyperopt's TPE (``fmin``);
- SMAC3's ``HyperparameterOptimizationFacade`` (``ask`` / ``tell``).

A method is stopped once it has spent ``--max-seconds`` (default 180) in
one run, and its later sizes are reported as not reached, with the number
of candidates it got to.  Results in ``benchmarks/results/scaling.{json,md}``.
"""

import argparse
import json
import logging
import os
import tempfile
import time
import warnings
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np

from sk_hpo import BayesSearchCV, GeneticSearchCV, SearchSpace, TPESearchCV
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, minimise

from .run import _versions, command_line

RESULTS = Path(__file__).resolve().parent / "results"
PROBLEM = FUNCTIONS["hartmann6"]
SIZES = (100, 300, 1000, 3000)


class _OutOfTime(Exception):
    pass


class _Clock:
    """Timestamps of the evaluations; raises once the run's time is spent."""

    def __init__(self, max_seconds):
        self.max_seconds = max_seconds
        self.start = time.perf_counter()
        self.stamps = []

    def __call__(self, params):
        now = time.perf_counter()
        if now - self.start > self.max_seconds:
            raise _OutOfTime
        self.stamps.append(now - self.start)
        return PROBLEM(params)


def _ours(cls):
    def run(n, seed, clock):
        space = SearchSpace(PROBLEM.search_space)
        optimizer = cls(FunctionEstimator("hartmann6"), PROBLEM.search_space)._make_optimizer(
            space, seed)
        batch = getattr(optimizer, "population_size", 1) if cls is GeneticSearchCV else 1
        minimise(optimizer, clock, n, batch_size=batch)

    return run


def _optuna(sampler):
    def run(n, seed, clock):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.ERROR)
        study = optuna.create_study(sampler=sampler(seed))

        def objective(trial):
            return clock({name: trial.suggest_float(name, dim.low, dim.high)
                          for name, dim in PROBLEM.search_space.items()})  # fmt: skip

        study.optimize(objective, n_trials=n, catch=())

    return run


def _optuna_gp(seed):
    import torch  # noqa: F401 -- GPSampler needs it
    from optuna.samplers import GPSampler

    return GPSampler(seed=seed)


def _optuna_tpe(seed):
    from optuna.samplers import TPESampler

    return TPESampler(seed=seed)


def _hyperopt(n, seed, clock):
    import hyperopt
    from hyperopt import hp

    space = {name: hp.uniform(name, dim.low, dim.high) for name, dim in PROBLEM.search_space.items()}
    hyperopt.fmin(clock, space, algo=hyperopt.tpe.suggest, max_evals=n,
                  rstate=np.random.default_rng(seed), show_progressbar=False)  # fmt: skip


def _smac(n, seed, clock):
    from ConfigSpace import ConfigurationSpace, Float
    from smac import HyperparameterOptimizationFacade, Scenario
    from smac.runhistory.dataclasses import TrialValue

    configspace = ConfigurationSpace(seed=seed)
    configspace.add([Float(name, (dim.low, dim.high)) for name, dim in PROBLEM.search_space.items()])
    with tempfile.TemporaryDirectory() as directory:
        scenario = Scenario(configspace, deterministic=True, n_trials=n, seed=seed,
                            output_directory=Path(directory) / "smac")  # fmt: skip
        smac = HyperparameterOptimizationFacade(scenario, lambda config, seed=0: 0.0,
                                                overwrite=True, logging_level=logging.ERROR)  # fmt: skip
        while len(clock.stamps) < n:
            info = smac.ask()
            smac.tell(info, TrialValue(cost=clock(dict(info.config))))


METHODS = {
    "sk_hpo.TPESearchCV": _ours(TPESearchCV),
    "sk_hpo.BayesSearchCV": _ours(BayesSearchCV),
    "sk_hpo.GeneticSearchCV": _ours(GeneticSearchCV),
    "optuna.TPESampler": _optuna(_optuna_tpe),
    "optuna.GPSampler": _optuna(_optuna_gp),
    "hyperopt.tpe": _hyperopt,
    "smac.HPO": _smac,
}


def per_suggestion(stamps, n):
    """Mean seconds between the evaluations just before the ``n``-th; None if not reached."""
    if len(stamps) < n:
        return None
    window = max(5, n // 10)
    return (stamps[n - 1] - stamps[n - 1 - window]) / window


def run_method(method, sizes, seed, max_seconds):
    clock = _Clock(max_seconds)
    error = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            METHODS[method](max(sizes), seed, clock)
        except _OutOfTime:
            pass
        except ImportError as exc:
            error = f"not installed: {exc}"
        except Exception as exc:  # noqa: BLE001 -- a peer that fails is a result too
            error = f"{type(exc).__name__}: {str(exc)[:200]}"
    if isinstance(error, str) and "_OutOfTime" in error:
        error = None  # a peer that wraps the exception it got from the objective
    return {"method": method, "seed": seed, "reached": len(clock.stamps),
            "seconds": clock.stamps[-1] if clock.stamps else 0.0, "error": error,
            "per_suggestion": {str(n): per_suggestion(clock.stamps, n) for n in sizes}}  # fmt: skip


def render(raw):
    sizes = raw["sizes"]
    lines = ["# Time per suggestion as a search grows\n",
             f"{raw['date']}, `{raw['command']}` ({raw['seconds']:.0f} s); {raw['versions']}.\n",
             ("Hartmann-6 at no cost per evaluation, one evaluation at a time, seed "
              f"{raw['seed']}. Milliseconds per suggestion at n candidates: the mean gap between "
              "the evaluations just before the n-th (a window of n / 10, at least 5). A method is "
              f"stopped after {raw['max_seconds']:.0f} s; `-` means it did not reach n then.\n"),
             "| method | " + " | ".join(f"ms at {n}" for n in sizes) + " | candidates reached | s |",
             "|---" * (len(sizes) + 3) + "|"]  # fmt: skip
    for run in raw["runs"]:
        if run["error"]:
            lines.append(f"| {run['method']} | " + " | ".join("" for _ in sizes)
                         + f" | {run['error']} | |")  # fmt: skip
            continue
        cells = [("-" if v is None else f"{1000 * v:.1f}")
                 for v in (run["per_suggestion"][str(n)] for n in sizes)]  # fmt: skip
        lines.append(f"| {run['method']} | " + " | ".join(cells)
                     + f" | {run['reached']} | {run['seconds']:.0f} |")  # fmt: skip
    return "\n".join(lines) + "\n"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--methods", default=",".join(METHODS))
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-seconds", type=float, default=180.0)
    parser.add_argument("--out", default="scaling")
    args = parser.parse_args(argv)
    methods = args.methods.split(",")
    unknown = [m for m in methods if m not in METHODS]
    if unknown:
        parser.error(f"unknown method(s) {unknown}; known: {list(METHODS)}")
    sizes = sorted(int(n) for n in args.sizes.split(","))
    if any(n < 6 for n in sizes):
        parser.error(f"--sizes must be at least 6 each, got {sizes}")
    start = time.perf_counter()
    runs = []
    for method in methods:
        run = run_method(method, sizes, args.seed, args.max_seconds)
        print(run, flush=True)
        runs.append(run)
    raw = {"command": command_line("benchmarks.scaling", argv), "date": time.strftime("%Y-%m-%d"),
           "versions": _versions(), "sizes": sizes, "seed": args.seed,
           "max_seconds": args.max_seconds, "runs": runs,
           "seconds": time.perf_counter() - start}  # fmt: skip
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{args.out}.json").write_text(json.dumps(raw, indent=1))
    text = render(raw)
    (RESULTS / f"{args.out}.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
