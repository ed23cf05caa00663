"""How the algorithms' defaults were chosen: ``python -m benchmarks.defaults ALGORITHM``.

ALGORITHM is ``tpe``, ``bayes`` or ``genetic``.

Runs one algorithm (ask/tell, no cross-validation, so hundreds of runs take
minutes) on the synthetic tasks of the benchmark for several values of each
option, one option at a time around the defaults, and reports the mean
log10 regret (best value found minus the optimum) at 30 and 60
evaluations (``--budgets`` for others), with the peer implementing the
same algorithm as reference.  Results:
``benchmarks/results/<algorithm>_defaults.md``, or
``<algorithm>_defaults-<largest budget>.md`` for other budgets: the long
searches' check is ``python -m benchmarks.defaults bayes --budgets 100 150
200 300 --seeds 5 --variants "defaults (acq_func=gp_hedge, clip=10)"
"hyperparameter fit restarted at every point"``; the GP's length-scale
prior, ``python -m benchmarks.defaults bayes --seeds 120 --variants
"defaults (acq_func=gp_hedge, clip=10)" "length_prior=dimension-scaled
(before 2026-12-04)" --name bayes_prior``; the acquisitions' observation
noise, the same with ``"observation_noise=False (before 2026-12-06)"``,
``--seeds 40 --name bayes_observation_noise``, and in batches of four
(``--batch 4``: the kriging believer's pending points), ``--seeds 20
--name bayes_observation_noise-batch4``; HEBO's kernel and noise prior
(``benchmarks/results/peers/hebo-ablations/README.md``), ``--seeds 20
--variants "defaults (acq_func=gp_hedge, clip=10)" "kernel=matern32
(HEBO's)" "noise prior of HEBO" "kernel and noise prior of HEBO" --name
bayes_hebo_gp``; the length-scale prior's peak
(``benchmarks/results/peers/length-peak/README.md``), ``--seeds 40
--variants "defaults (acq_func=gp_hedge, clip=10)" "length_peak=1 everywhere
(before 2026-12-06)" "length_peak=0.3 everywhere" --name
bayes_length_peak``.  Each table is followed by every
variant's difference from the first, paired by seed, with its interval.
"""

import argparse
import math
import time
import warnings
from pathlib import Path

import numpy as np
from joblib import Parallel, delayed

from sk_hpo import Categorical, Integer, SearchSpace
from sk_hpo._bayes import GPOptimizer
from sk_hpo._genetic import GeneticAlgorithm
from sk_hpo._tpe import TPE
from sk_hpo.testing import FUNCTIONS, minimise

from .gp_variants import GP_VARIANTS, CopulaWarping, LatentAcquisition, LogWarping, with_gp
from .run import command_line

RESULTS = Path(__file__).resolve().parent / "results"
BUDGETS = (30, 60)


def _optuna_values(problem, seed, n):
    import optuna
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

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


def _skopt_values(problem, seed, n):
    """scikit-optimize's Optimizer as its BayesSearchCV sets it up."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        import skopt

        def convert(dim):
            if isinstance(dim, Categorical):
                return skopt.space.Categorical(list(dim.categories))
            kind = skopt.space.Integer if isinstance(dim, Integer) else skopt.space.Real
            return kind(dim.low, dim.high, prior=dim.prior)

        names = list(problem.search_space)
        optimizer = skopt.Optimizer(
            [convert(problem.search_space[name]) for name in names], random_state=seed,
            n_initial_points=10, acq_func="gp_hedge",
        )
        values = []
        for _ in range(n):
            x = optimizer.ask()
            values.append(problem(dict(zip(names, x))))
            optimizer.tell(x, values[-1])
    return values


def _bayes_restarting_at_every_point(problem, seed, n):
    """The GP's hyperparameter fit restarted (from the prior's centre and a
    random start, besides the previous fit) at every new point, as before
    restarts every ``n // 50`` points from 100 points on."""
    return minimise(_GPRestartingAtEveryPoint(SearchSpace(problem.search_space), seed), problem, n)


class _GPRestartingAtEveryPoint(GPOptimizer):
    restart_divisor = math.inf


def _hooked(cls, **hooks):
    """A variant that sets class-level hooks of the algorithm (choices the
    library makes and does not expose): ``(subclass, {})``."""
    return type(f"{cls.__name__}Variant", (cls,), hooks), {}


def _bayes_gp(variant=None, length_peak=None, optimizer_class=GPOptimizer):
    """The defaults with another GP (``benchmarks.gp_variants``: the
    dimension-scaled length prior used before 2026-12-04, Hvarfner et al.
    2024, median 10 in six dimensions; HEBO 0.3.6's Matérn-3/2 kernel and
    noise prior), a ``length_peak`` on every column, the one-hot columns of
    categories included (the defaults peak at 0.3 on the numeric columns
    and at 1 on the others), or another warping of the losses."""

    def run(problem, seed, n):
        optimizer = optimizer_class(SearchSpace(problem.search_space), seed)
        gp_class = GP_VARIANTS[variant] if variant is not None else None
        return minimise(with_gp(optimizer, gp_class, length_peak), problem, n)

    return run


def _bayes_polishing_jointly(problem, seed, n):
    """The three acquisitions' best candidates polished in one L-BFGS-B
    problem (the asynchronous mode's proposals), not one problem each."""
    optimizer = GPOptimizer(SearchSpace(problem.search_space), seed)
    optimizer.polish_jointly = True
    return minimise(optimizer, problem, n)


ALGORITHMS = {
    "tpe": (TPE, {
        "defaults": {},
        "n_startup_trials=5": {"n_startup_trials": 5},
        "n_startup_trials=20": {"n_startup_trials": 20},
        "n_ei_candidates=12": _hooked(TPE, n_ei_candidates=12),
        "n_ei_candidates=24 (Optuna)": _hooked(TPE, n_ei_candidates=24),
        "n_ei_candidates=96": _hooked(TPE, n_ei_candidates=96),
        "multivariate=False": {"multivariate": False},
        "prior_weight=0.5": {"prior_weight": 0.5},
        "prior_weight=2": {"prior_weight": 2.0},
        "gamma=0.25*sqrt(n)": {"gamma": lambda n: min(math.ceil(0.25 * n**0.5), 25)},
        "gamma=0.1*n (Optuna)": {"gamma": lambda n: min(math.ceil(0.1 * n), 25)},
        "consider_endpoints=True": _hooked(TPE, consider_endpoints=True),
        "n_ei_candidates=24, gamma=0.1*n (Optuna's pair)": (
            _hooked(TPE, n_ei_candidates=24)[0],
            {"gamma": lambda n: min(math.ceil(0.1 * n), 25)},
        ),
        "optuna.TPESampler (reference)": _optuna_values,
    }),
    "bayes": (GPOptimizer, {
        "defaults (acq_func=gp_hedge, clip=10)": {},
        "acq_func=EI": {"acq_func": "EI"},
        "acq_func=PI": {"acq_func": "PI"},
        "acq_func=LCB": {"acq_func": "LCB"},
        "clip=None": {"clip": None},
        "clip=3": {"clip": 3},
        "warping=copula": _bayes_gp(optimizer_class=CopulaWarping),
        "warping=log": _bayes_gp(optimizer_class=LogWarping),
        "n_initial_points=5": {"n_initial_points": 5},
        "n_initial_points=20": {"n_initial_points": 20},
        "xi=0": {"xi": 0.0},
        "n_candidates=250": {"n_candidates": 250},
        "n_polish=0": {"n_polish": 0},
        "initial_point_generator=random": {"initial_point_generator": "random"},
        "skopt.Optimizer, gp_hedge (reference)": _skopt_values,
        "hyperparameter fit restarted at every point": _bayes_restarting_at_every_point,
        "acquisitions polished jointly (asynchronous mode)": _bayes_polishing_jointly,
        "length_prior=dimension-scaled (before 2026-12-04)":
            _bayes_gp("dimension-scaled"),
        "observation_noise=False (before 2026-12-06)": (LatentAcquisition, {}),
        "kernel=matern32 (HEBO's)": _bayes_gp("matern32"),
        "noise prior of HEBO": _bayes_gp("hebo-noise-prior"),
        "kernel and noise prior of HEBO": _bayes_gp("hebo-gp"),
        "length_peak=1 everywhere (before 2026-12-06)": _bayes_gp(length_peak=1.0),
        "length_peak=0.3 everywhere": _bayes_gp(length_peak=0.3),
    }),
    "genetic": (GeneticAlgorithm, {
        "defaults (tournament_size=5)": {},
        "tournament_size=3 (sklearn-genetic-opt)": {"tournament_size": 3},
        "tournament_size=2": {"tournament_size": 2},
        "population_size=6": {"population_size": 6},
        "population_size=16": {"population_size": 16},
        "crossover_probability=0.5": {"crossover_probability": 0.5},
        "mutation_probability=0.5": {"mutation_probability": 0.5},
        "elitism=3": {"elitism": 3},
        "elitism=population (mu+lambda)": {"elitism": 10},
        "mutation_step=0.25": {"mutation_step": 0.25},
        "adaptive_mutation=False": _hooked(GeneticAlgorithm, adaptive_mutation=False),
    }),
}


def _regrets(algorithm, function, variant, seed, budgets=BUDGETS, batch=None):
    problem = FUNCTIONS[function]
    make, variants = ALGORITHMS[algorithm]
    option = variants[variant]
    if callable(option):
        if batch:
            raise SystemExit(f"--batch: variant {variant!r} runs its own loop, one at a time")
        values = option(problem, seed, max(budgets))
    else:
        if isinstance(option, tuple):  # (a subclass setting hooks, options)
            make, option = option
        optimizer = make(SearchSpace(problem.search_space), seed, **option)
        # A genetic algorithm is asked for whole generations, as its search does.
        batch = batch or getattr(optimizer, "population_size", 1)
        values = minimise(optimizer, problem, max(budgets), batch)
    best = np.minimum.accumulate(values)
    return [max(best[b - 1] - problem.optimum, 1e-12) for b in budgets]


def _paired_differences(regrets, functions, variants, seeds, b, resamples=2000):
    """Table lines: each variant minus the first (the defaults), paired by
    seed, with a 95% bootstrap interval over the seeds."""
    lines = [
        f"\nEach variant minus `{variants[0]}`, paired by seed (negative: the variant "
        "is better), with a 95% interval from resampling the seeds:\n",
        "| variant | " + " | ".join(functions) + " |",
        "|---" * (len(functions) + 1) + "|",
    ]
    rng = np.random.default_rng(0)
    picks = rng.integers(0, seeds, size=(resamples, seeds))
    for variant in variants[1:]:
        cells = []
        for f in functions:
            diff = np.array([
                np.log10(regrets[(f, variant, s)][b]) - np.log10(regrets[(f, variants[0], s)][b])
                for s in range(seeds)
            ])
            low, high = np.percentile(diff[picks].mean(axis=1), [2.5, 97.5])
            cells.append(f"{diff.mean():+.2f} [{low:+.2f}, {high:+.2f}]")
        lines.append(f"| {variant} | " + " | ".join(cells) + " |")
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("algorithm", choices=sorted(ALGORITHMS))
    parser.add_argument("--seeds", type=int, default=None,
                        help="30 for tpe and genetic, 10 for bayes")
    parser.add_argument("--variants", nargs="*", help="variant names (default: all)")
    parser.add_argument("--budgets", type=int, nargs="+", default=list(BUDGETS),
                        help="evaluations at which regret is reported (default: 30 60); "
                        "other budgets write <algorithm>_defaults-<largest>.md")
    parser.add_argument("--batch", type=int, default=None,
                        help="candidates asked at a time (default: 1; genetic: a "
                        "generation); only variants that are options")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--name", default=None,
                        help="results file name without .md (default: <algorithm>_defaults)")
    args = parser.parse_args(argv)
    budgets = tuple(sorted(args.budgets))
    seeds = args.seeds or (10 if args.algorithm == "bayes" else 30)
    variants = args.variants or list(ALGORITHMS[args.algorithm][1])
    functions = list(FUNCTIONS)
    jobs = [(args.algorithm, f, v, s) for f in functions for v in variants for s in range(seeds)]
    start = time.perf_counter()
    out = Parallel(n_jobs=2)(delayed(_regrets)(*job, budgets, args.batch) for job in jobs)
    regrets = {job[1:]: r for job, r in zip(jobs, out)}
    lines = [
        f"# {args.algorithm} defaults: mean log10 regret over {seeds} seeds (lower is better)\n",
        ("One option changed at a time from the defaults; "
         f"`{command_line('benchmarks.defaults', argv)}`.\n"),
    ]
    for b, budget in enumerate(budgets):
        lines.append(f"\n## After {budget} evaluations\n")
        lines.append("| variant | " + " | ".join(functions) + " | mean |")
        lines.append("|---" * (len(functions) + 2) + "|")
        for variant in variants:
            row = [
                np.mean([np.log10(regrets[(f, variant, s)][b]) for s in range(seeds)])
                for f in functions
            ]
            cells = " | ".join(f"{v:.3f}" for v in row)
            lines.append(f"| {variant} | {cells} | **{np.mean(row):.3f}** |")
        lines += _paired_differences(regrets, functions, variants, seeds, b)
    lines.append(f"\n({time.perf_counter() - start:.0f} s)\n")
    text = "\n".join(lines)
    args.out.mkdir(parents=True, exist_ok=True)
    suffix = "" if budgets == BUDGETS else f"-{max(budgets)}"
    suffix += f"-batch{args.batch}" if args.batch else ""
    name = args.name or f"{args.algorithm}_defaults{suffix}"
    (args.out / f"{name}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
