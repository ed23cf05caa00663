"""How TPESearchCV's defaults were chosen: ``python -m benchmarks.tpe_defaults``.

Runs the TPE algorithm (ask/tell, no cross-validation, so hundreds of runs
take seconds) on the synthetic tasks of the benchmark for several values of
each option, one option at a time around the defaults, and reports the mean
log10 regret (best value found minus the optimum) at 30 and 60
evaluations.  Results: ``benchmarks/results/tpe_defaults.md``.
"""

import argparse
import math
import time
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from sk_hpo import SearchSpace
from sk_hpo._tpe import TPE
from sk_hpo.testing import FUNCTIONS

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (30, 60)

VARIANTS = {
    "defaults": {},
    "n_startup_trials=5": {"n_startup_trials": 5},
    "n_startup_trials=20": {"n_startup_trials": 20},
    "n_ei_candidates=12": {"n_ei_candidates": 12},
    "n_ei_candidates=24 (Optuna)": {"n_ei_candidates": 24},
    "n_ei_candidates=96": {"n_ei_candidates": 96},
    "multivariate=False": {"multivariate": False},
    "prior_weight=0.5": {"prior_weight": 0.5},
    "prior_weight=2": {"prior_weight": 2.0},
    "gamma=0.25*sqrt(n)": {"gamma": lambda n: min(math.ceil(0.25 * n**0.5), 25)},
    "gamma=0.1*n (Optuna)": {"gamma": lambda n: min(math.ceil(0.1 * n), 25)},
    "consider_endpoints=True": {"consider_endpoints": True},
    "n_ei_candidates=24, gamma=0.1*n (Optuna's pair)": {
        "n_ei_candidates": 24,
        "gamma": lambda n: min(math.ceil(0.1 * n), 25),
    },
    "optuna.TPESampler (reference)": None,
}


def _optuna_values(problem, seed, n):
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    from sk_hpo import Categorical, Integer

    optuna.logging.set_verbosity(optuna.logging.ERROR)

    def convert(dim):
        if isinstance(dim, Categorical):
            return CategoricalDistribution(list(dim.categories))
        kind = IntDistribution if isinstance(dim, Integer) else FloatDistribution
        return kind(dim.low, dim.high, log=dim.prior == "log-uniform")

    space = {name: convert(dim) for name, dim in problem.search_space.items()}
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    values = []
    for _ in range(n):
        trial = study.ask(space)
        values.append(problem(trial.params))
        study.tell(trial, values[-1])
    return values


def _regrets(function, variant, seed):
    problem = FUNCTIONS[function]
    if VARIANTS[variant] is None:
        values = _optuna_values(problem, seed, max(BUDGETS))
    else:
        space = SearchSpace(problem.search_space)
        tpe = TPE(space, seed, **VARIANTS[variant])
        values = []
        while len(values) < max(BUDGETS):
            point = tpe.ask(1)[0]
            value = problem(space.to_params(point))
            tpe.tell([point], [value])
            values.append(value)
    best = np.minimum.accumulate(values)
    return [max(best[b - 1] - problem.optimum, 1e-12) for b in BUDGETS]


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=30)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    functions = list(FUNCTIONS)
    jobs = [(f, v, s) for f in functions for v in VARIANTS for s in range(args.seeds)]
    start = time.perf_counter()
    out = Parallel(n_jobs=2)(delayed(_regrets)(*job) for job in jobs)
    regrets = {job: r for job, r in zip(jobs, out)}
    lines = [
        "# TPE defaults: mean log10 regret over "
        f"{args.seeds} seeds (lower is better)\n",
        "One option changed at a time from the defaults; `python -m benchmarks.tpe_defaults`.\n",
    ]
    for b, budget in enumerate(BUDGETS):
        lines.append(f"\n## After {budget} evaluations\n")
        lines.append("| variant | " + " | ".join(functions) + " | mean |")
        lines.append("|---" * (len(functions) + 2) + "|")
        for variant in VARIANTS:
            row = [
                np.mean([np.log10(regrets[(f, variant, s)][b]) for s in range(args.seeds)])
                for f in functions
            ]
            cells = " | ".join(f"{v:.3f}" for v in row)
            lines.append(f"| {variant} | {cells} | **{np.mean(row):.3f}** |")
    lines.append(f"\n({time.perf_counter() - start:.0f} s)\n")
    text = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "tpe_defaults.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
