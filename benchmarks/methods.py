"""The searches compared, each behind one function with the same contract.

``run(method, task, n_iter, seed, n_jobs, n_points)`` returns the mean CV
score of every candidate in evaluation order, the wall time of ``fit`` and
the time spent fitting and scoring models, so that overhead = wall - fits.
Peers whose package is missing are reported as unavailable, not faked.
"""

import logging
import math
import random
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np
from sklearn.model_selection import RandomizedSearchCV

from sk_hpo import (
    BayesSearchCV,
    Categorical,
    Distribution,
    GeneticSearchCV,
    Integer,
    Real,
    TPESearchCV,
)
from sk_hpo.testing import FunctionEstimator

from .gp_variants import GP_VARIANTS, with_gp


class Unavailable(Exception):
    pass


class TimedFunctionEstimator(FunctionEstimator):
    """Records when each fit starts; the searches run with n_jobs=1, so in this process."""

    fit_times = []

    def fit(self, X, y=None):
        type(self).fit_times.append(time.perf_counter())
        return super().fit(X, y)


class _DimensionSampler:
    """Lets RandomizedSearchCV draw from an sk_hpo dimension with its prior."""

    def __init__(self, dimension):
        self.dimension = dimension

    def rvs(self, random_state=None):
        rng = np.random.default_rng(random_state.randint(2**32))
        value = self.dimension.rvs(1, rng)[0]
        return value.item() if hasattr(value, "item") else value


def _fit_seconds(results, n_splits):
    return float(
        np.sum(np.asarray(results["mean_fit_time"]) + np.asarray(results["mean_score_time"]))
        * n_splits
    )


def _convert_space(task, peer, real, integer, categorical, named=False):
    """The task's space in a peer's own types.

    ``real`` and ``integer`` take ``(low, high, log)``; ``categorical`` takes
    the list of categories; with ``named``, each takes the parameter's name
    first (hyperopt's forms carry their name).
    """
    space = {}
    for name, dim in task.search_space.items():
        first = (name,) if named else ()
        if isinstance(dim, Categorical):
            space[name] = categorical(*first, list(dim.categories))
        elif isinstance(dim, (Real, Integer)):
            make = real if isinstance(dim, Real) else integer
            space[name] = make(*first, dim.low, dim.high, dim.prior == "log-uniform")
        else:
            raise Unavailable(f"no {peer} form for {dim!r}")
    return space


def _sklearn_style(search, task, n_iter):
    X, y = task.data()
    start = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - start
    results = search.cv_results_
    n_splits = task.cv.get_n_splits(X, y)
    scores = np.asarray(results["mean_test_score"], dtype=float)[:n_iter]
    return {"scores": scores, "wall": wall, "fit": _fit_seconds(results, n_splits)}


def run_random(task, n_iter, seed, n_jobs=1, n_points=1):
    space = {name: _DimensionSampler(dim) for name, dim in task.search_space.items()}
    search = RandomizedSearchCV(
        task.make_estimator(), space, n_iter=n_iter, scoring=task.scoring, cv=task.cv,
        refit=False, random_state=seed, n_jobs=n_jobs,
    )
    return _sklearn_style(search, task, n_iter)


# The genetic searches breed generations of this many candidates.
POPULATION = 10


def _ours(cls, batched=True):
    """A runner for one of our searches; ``batched``: it takes ``n_points``."""

    def run(task, n_iter, seed, n_jobs=1, n_points=1):
        batch = {"n_points": n_points} if batched else {"population_size": POPULATION}
        search = cls(
            task.make_estimator(), task.search_space, n_iter=n_iter, scoring=task.scoring,
            cv=task.cv, refit=False, random_state=seed, n_jobs=n_jobs, **batch,
        )
        return _sklearn_style(search, task, n_iter)

    return run


def run_optuna(task, n_iter, seed, n_jobs=1, n_points=1, sampler=None):
    """``OptunaSearchCV`` (Optuna's own scikit-learn search): its default TPE,
    or ``sampler(seed)`` (the GP sampler: :func:`run_optuna_gp`)."""
    try:
        import optuna
        from optuna.distributions import (
            CategoricalDistribution,
            FloatDistribution,
            IntDistribution,
        )
        from optuna_integration import OptunaSearchCV
    except ImportError as exc:
        raise Unavailable(str(exc)) from None
    optuna.logging.set_verbosity(optuna.logging.ERROR)

    space = _convert_space(
        task,
        "Optuna",
        real=lambda low, high, log: FloatDistribution(low, high, log=log),
        integer=lambda low, high, log: IntDistribution(low, high, log=log),
        categorical=CategoricalDistribution,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        chosen = {}
        if sampler is not None:  # OptunaSearchCV takes a sampler through its study
            study = optuna.create_study(direction="maximize", sampler=sampler(seed))
            chosen = {"study": study}
        search = OptunaSearchCV(
            task.make_estimator(), space, n_trials=n_iter, scoring=task.scoring, cv=task.cv,
            refit=False, random_state=seed, n_jobs=n_jobs, verbose=0, **chosen,
        )
        X, y = task.data()
        start = time.perf_counter()
        search.fit(X, y)
        wall = time.perf_counter() - start
    trials = search.trials_
    n_splits = task.cv.get_n_splits(X, y)
    scores = np.array([t.user_attrs.get("mean_test_score", np.nan) for t in trials])
    fit = sum(
        (t.user_attrs.get("mean_fit_time", 0.0) + t.user_attrs.get("mean_score_time", 0.0))
        * n_splits
        for t in trials
    )
    return {"scores": scores[:n_iter], "wall": wall, "fit": float(fit)}


def run_optuna_gp(task, n_iter, seed, n_jobs=1, n_points=1):
    """Optuna's ``GPSampler`` (Optuna >= 3.6; needs PyTorch) in ``OptunaSearchCV``."""
    try:
        import torch  # noqa: F401 -- GPSampler imports it only when it first proposes
        from optuna.samplers import GPSampler
    except ImportError as exc:
        raise Unavailable(f"Optuna's GPSampler: {exc}") from None
    return run_optuna(task, n_iter, seed, n_jobs, n_points, sampler=lambda s: GPSampler(seed=s))


def _cross_validated(task, X, y):
    """An objective for peers without a scikit-learn search: the same CV,
    scorer and error handling as the searches' (mean test score, nan if a
    fit failed), with the seconds spent fitting and scoring."""
    from sklearn.model_selection import cross_validate

    spent = []

    def score(params):
        estimator = task.make_estimator().set_params(**params)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out = cross_validate(estimator, X, y, cv=task.cv, scoring=task.scoring,
                                 error_score=np.nan)  # fmt: skip
        spent.append(float(np.sum(out["fit_time"]) + np.sum(out["score_time"])))
        return float(np.mean(out["test_score"]))

    return score, spent


def _decoded(task, categories, suggested):
    """A peer's suggestion as our parameters: a categorical given by its
    position (``categories``: name -> values) as its value, an integer as an
    ``int``."""
    params = {}
    for name, value in suggested.items():
        if name in categories:
            value = categories[name][int(value)]
        elif isinstance(task.search_space[name], Integer):
            value = int(round(value))
        params[name] = value
    return params


def run_hyperopt(task, n_iter, seed, n_jobs=1, n_points=1):
    """hyperopt's TPE (``fmin(algo=tpe.suggest)``), the original TPE, sequential."""
    try:
        import hyperopt
        from hyperopt import hp
    except ImportError as exc:
        raise Unavailable(str(exc)) from None

    space = _convert_space(
        task,
        "hyperopt",
        real=lambda name, low, high, log: (
            hp.loguniform(name, math.log(low), math.log(high)) if log
            else hp.uniform(name, low, high)
        ),
        # hyperopt's quantised forms give floats: cast in the objective.
        integer=lambda name, low, high, log: (
            hp.qloguniform(name, math.log(low), math.log(high), 1) if log
            else hp.quniform(name, low - 0.5, high + 0.5, 1)
        ),
        categorical=hp.choice,
        named=True,
    )  # fmt: skip
    integers = {name for name, dim in task.search_space.items() if isinstance(dim, Integer)}
    X, y = task.data()
    score, spent = _cross_validated(task, X, y)
    scores = []

    def objective(params):
        params = {
            k: int(np.clip(round(v), task.search_space[k].low, task.search_space[k].high))
            if k in integers else v
            for k, v in params.items()
        }  # fmt: skip
        value = score(params)
        scores.append(value)
        if not np.isfinite(value):
            return {"status": hyperopt.STATUS_FAIL}
        return {"loss": -value, "status": hyperopt.STATUS_OK}

    start = time.perf_counter()
    hyperopt.fmin(objective, space, algo=hyperopt.tpe.suggest, max_evals=n_iter,
                  rstate=np.random.default_rng(seed), show_progressbar=False)  # fmt: skip
    wall = time.perf_counter() - start
    return {"scores": np.array(scores[:n_iter]), "wall": wall, "fit": float(sum(spent))}


def run_smac(task, n_iter, seed, n_jobs=1, n_points=1):
    """SMAC3's ``HyperparameterOptimizationFacade`` (random-forest surrogate),
    sequential, with its defaults, as its documentation starts a user."""
    try:
        from ConfigSpace import Categorical as CSCategorical
        from ConfigSpace import ConfigurationSpace, Float
        from ConfigSpace import Integer as CSInteger
        from smac import HyperparameterOptimizationFacade, Scenario
    except ImportError as exc:
        raise Unavailable(str(exc)) from None

    # Categories as their positions: ConfigSpace wants plain, hashable values,
    # and some of ours are None or tuples.
    categories = {}

    def categorical(name, values):
        categories[name] = values
        return CSCategorical(name, [str(i) for i in range(len(values))])

    space = _convert_space(
        task,
        "SMAC3",
        real=lambda name, low, high, log: Float(name, (low, high), log=log),
        integer=lambda name, low, high, log: CSInteger(name, (low, high), log=log),
        categorical=categorical,
        named=True,
    )  # fmt: skip
    configspace = ConfigurationSpace(seed=seed)
    configspace.add(list(space.values()))
    X, y = task.data()
    score, spent = _cross_validated(task, X, y)
    scores = []

    def train(config, seed=0):
        value = score(_decoded(task, categories, dict(config)))
        scores.append(value)
        if not np.isfinite(value):
            raise ValueError("the fit failed")  # SMAC records a crash
        return -value

    with tempfile.TemporaryDirectory() as directory, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scenario = Scenario(configspace, deterministic=True, n_trials=n_iter, seed=seed,
                            output_directory=Path(directory) / "smac")  # fmt: skip
        smac = HyperparameterOptimizationFacade(scenario, train, overwrite=True,
                                                logging_level=logging.ERROR)  # fmt: skip
        start = time.perf_counter()
        smac.optimize()
        wall = time.perf_counter() - start
    return {"scores": np.array(scores[:n_iter]), "wall": wall, "fit": float(sum(spent))}


HEBO_PYTHON = "SK_HPO_HEBO_PYTHON"
HEBO_WORKER = Path(__file__).resolve().parent / "hebo_worker.py"
# Points HEBO draws (Sobol) before its model: its default, 1 + the number of
# parameters (3 to 11 on our tasks; ours and GPSampler's draw 10).
HEBO_INITIAL = None


def run_hebo(task, n_iter, seed, n_jobs=1, n_points=1):
    """HEBO 0.3.6 (Huawei's winner of the 2020 black-box optimisation
    challenge), sequential, through ``benchmarks/hebo_worker.py`` in its own
    environment: the Python that ``SK_HPO_HEBO_PYTHON`` names (HEBO needs
    numpy < 1.25).  Evaluation happens here, with the same CV as the others;
    the wall time includes the worker's suggestions and its start."""
    import json
    import os
    import subprocess

    python = os.environ.get(HEBO_PYTHON)
    if not python:
        raise Unavailable(
            f"HEBO needs its own environment (numpy < 1.25): set {HEBO_PYTHON} to its "
            "Python (see benchmarks/hebo_worker.py)"
        )
    categories = {}

    def categorical(name, values):
        categories[name] = values
        return {"name": name, "type": "cat", "categories": [str(i) for i in range(len(values))]}

    space = _convert_space(
        task,
        "HEBO",
        real=lambda name, low, high, log: {"name": name, "type": "pow" if log else "num",
                                           "lb": low, "ub": high},
        integer=lambda name, low, high, log: {"name": name, "type": "pow_int" if log else "int",
                                              "lb": low, "ub": high},
        categorical=categorical,
        named=True,
    )  # fmt: skip
    X, y = task.data()
    score, spent = _cross_validated(task, X, y)
    scores = []
    start = time.perf_counter()
    # The worker's stderr (HEBO's own messages, or its traceback) goes to a
    # file: read only if the worker stops, it cannot fill a pipe meanwhile.
    with tempfile.TemporaryFile(mode="w+") as errors, subprocess.Popen(
        [python, str(HEBO_WORKER)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        stderr=errors, text=True,
    ) as process:  # fmt: skip

        def call(message):
            try:
                process.stdin.write(json.dumps(message) + "\n")
                process.stdin.flush()
            except BrokenPipeError:
                pass  # stopped: said below
            line = process.stdout.readline()
            if not line:
                process.wait()
                errors.seek(0)
                tail = errors.read()[-1500:]
                raise RuntimeError(f"HEBO's worker ({python}) stopped:\n{tail}")
            return json.loads(line)

        try:
            call({"space": list(space.values()), "seed": seed, "n_initial": HEBO_INITIAL})
            for _ in range(n_iter):
                suggestion = call({"ask": True})["params"]
                value = score(_decoded(task, categories, suggestion))
                scores.append(value)
                call({"tell": suggestion, "loss": -value if np.isfinite(value) else None})
        finally:
            process.stdin.close()
    wall = time.perf_counter() - start
    return {"scores": np.array(scores[:n_iter]), "wall": wall, "fit": float(sum(spent))}


def run_skopt(task, n_iter, seed, n_jobs=1, n_points=1):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import skopt
            from skopt import BayesSearchCV
    except ImportError as exc:
        raise Unavailable(str(exc)) from None

    def prior(log):
        return "log-uniform" if log else "uniform"

    space = _convert_space(
        task,
        "scikit-optimize",
        real=lambda low, high, log: skopt.space.Real(low, high, prior=prior(log)),
        integer=lambda low, high, log: skopt.space.Integer(low, high, prior=prior(log)),
        categorical=skopt.space.Categorical,
    )
    search = BayesSearchCV(
        task.make_estimator(), space, n_iter=n_iter, scoring=task.scoring, cv=task.cv,
        refit=False, random_state=seed, n_jobs=n_jobs, n_points=n_points, error_score=np.nan,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return _sklearn_style(search, task, n_iter)
        except Exception as exc:  # the archived package breaks on new releases
            raise Unavailable(f"scikit-optimize failed: {type(exc).__name__}: {exc}") from None


def run_genetic(task, n_iter, seed, n_jobs=1, n_points=1):
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            from sklearn_genetic import GASearchCV
            from sklearn_genetic import space as ga_space
    except ImportError as exc:
        raise Unavailable(str(exc)) from None

    # sklearn-genetic-opt's Integer has no log prior: it samples uniformly.
    space = _convert_space(
        task,
        "sklearn-genetic-opt",
        real=lambda low, high, log: ga_space.Continuous(
            low, high, distribution="log-uniform" if log else "uniform"
        ),
        integer=lambda low, high, log: ga_space.Integer(low, high),
        categorical=ga_space.Categorical,
    )
    population = POPULATION
    # eaMuPlusLambda evaluates the population, then one population per generation.
    generations = max(1, math.ceil(n_iter / population) - 1)
    random.seed(seed)
    np.random.seed(seed)
    search = GASearchCV(
        task.make_estimator(), cv=task.cv, param_grid=space, scoring=task.scoring,
        population_size=population, generations=generations, n_jobs=n_jobs, verbose=False,
        refit=False, error_score=np.nan,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return _sklearn_style(search, task, n_iter)


def skopt_seconds_per_candidate(problem, n_told, n_steps, seed=0):
    """scikit-optimize's own time per candidate after ``n_told`` candidates.

    Its ``Optimizer``, set up as its ``BayesSearchCV`` sets it up, is told
    ``n_told`` random points at once (one model fit), then timed over
    ``n_steps`` ask/tell steps.  A whole search to 200 candidates would take
    about 750 s on 2 cores, more than the full suite can spend; what this
    leaves out, ``BayesSearchCV``'s bookkeeping, costs milliseconds against
    its seconds per candidate.
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import skopt
    except ImportError as exc:
        raise Unavailable(str(exc)) from None
    names = list(problem.search_space)
    space = [skopt.space.Real(d.low, d.high) for d in problem.search_space.values()]
    optimizer = skopt.Optimizer(space, random_state=seed)
    rng = np.random.default_rng(seed)
    points = [[float(rng.uniform(d.low, d.high)) for d in space] for _ in range(n_told)]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        optimizer.tell(points, [problem(dict(zip(names, p))) for p in points])
        start = time.perf_counter()
        for _ in range(n_steps):
            x = optimizer.ask()
            optimizer.tell(x, problem(dict(zip(names, x))))
    return (time.perf_counter() - start) / n_steps


METHODS = {
    "RandomizedSearchCV": run_random,
    "skopt.BayesSearchCV": run_skopt,
    "OptunaSearchCV": run_optuna,
    "optuna.GPSampler": run_optuna_gp,
    "hyperopt.tpe": run_hyperopt,
    "smac.HPO": run_smac,
    "hebo.HEBO": run_hebo,
    "GASearchCV": run_genetic,
    "sk_hpo.TPESearchCV": _ours(TPESearchCV),
    "sk_hpo.BayesSearchCV": _ours(BayesSearchCV),
    "sk_hpo.GeneticSearchCV": _ours(GeneticSearchCV, batched=False),
}
BASELINE = "RandomizedSearchCV"


class _BayesPolishingJointly(BayesSearchCV):
    """BayesSearchCV whose batches polish the acquisitions as its asynchronous
    mode does: in one L-BFGS-B problem (``GPOptimizer.polish_jointly``)."""

    def _make_optimizer(self, space, seed):
        optimizer = super()._make_optimizer(space, seed)
        optimizer.polish_jointly = True
        return optimizer


class _BayesGP(BayesSearchCV):
    """BayesSearchCV with another GP (``benchmarks.gp_variants``): HEBO
    0.3.6's choices that ours does not make, the Matérn-3/2 kernel (ours:
    5/2) and a tight log-normal prior on the noise variance of the
    standardised scores, mean log(0.01) and standard deviation 0.5 (ours:
    log(1e-3) and 2.5, which lets the noise be learned from the data); or
    the length-scale prior's peak on every column (``length_peak``, in units
    of the unit cube's side), the one-hot columns of categories included: 1
    everywhere was our GP before 2026-12-06
    (benchmarks/results/peers/length-peak)."""

    gp_variant = None  # a key of gp_variants.GP_VARIANTS
    length_peak = None  # on every column

    def _make_optimizer(self, space, seed):
        optimizer = super()._make_optimizer(space, seed)
        gp_class = GP_VARIANTS[self.gp_variant] if self.gp_variant is not None else None
        return with_gp(optimizer, gp_class, self.length_peak)


class _BayesMatern32(_BayesGP):
    gp_variant = "matern32"


class _BayesHEBONoisePrior(_BayesGP):
    gp_variant = "hebo-noise-prior"


class _BayesHEBOGP(_BayesGP):
    gp_variant = "hebo-gp"


class _BayesLengthPeak03(_BayesGP):
    length_peak = 0.3


class _BayesLengthPeak1(_BayesGP):
    length_peak = 1.0


# Variants of our searches, run only when named (--methods); as they are not
# named "sk_hpo.*", the tables set each of our searches against them as
# against a peer.
VARIANTS = {
    "variant:BayesSearchCV-polish-jointly": _ours(_BayesPolishingJointly),
    "variant:BayesSearchCV-matern32": _ours(_BayesMatern32),
    "variant:BayesSearchCV-hebo-noise-prior": _ours(_BayesHEBONoisePrior),
    "variant:BayesSearchCV-hebo-gp": _ours(_BayesHEBOGP),
    "variant:BayesSearchCV-length-peak-0.3": _ours(_BayesLengthPeak03),
    "variant:BayesSearchCV-length-peak-1": _ours(_BayesLengthPeak1),
    # The peak at 0.3 on the numeric columns alone: our defaults since
    # 2026-12-06, under the name of the run that chose them.
    "variant:BayesSearchCV-length-peak-0.3-numeric": _ours(BayesSearchCV),
}


def run(method, task, n_iter, seed, n_jobs=1, n_points=1):
    runner = METHODS[method] if method in METHODS else VARIANTS[method]
    return runner(task, n_iter, seed, n_jobs=n_jobs, n_points=n_points)


def supported(task):
    """Whether every dimension of the task has a form in every peer."""
    return not any(isinstance(d, Distribution) for d in task.search_space.values())
