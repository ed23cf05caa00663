"""The searches compared, each behind one function with the same contract.

``run(method, task, n_iter, seed, n_jobs, n_points)`` returns the mean CV
score of every candidate in evaluation order, the wall time of ``fit`` and
the time spent fitting and scoring models, so that overhead = wall - fits.
Peers whose package is missing are reported as unavailable, not faked.
"""

import math
import random
import time
import warnings

import numpy as np
from sklearn.model_selection import RandomizedSearchCV

from sk_hpo import Categorical, Distribution, Integer, Real, TPESearchCV
from sk_hpo.testing import FunctionEstimator


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


def _convert_space(task, peer, real, integer, categorical):
    """The task's space in a peer's own types.

    ``real`` and ``integer`` take ``(low, high, log)``; ``categorical`` takes
    the list of categories.
    """
    space = {}
    for name, dim in task.search_space.items():
        if isinstance(dim, Categorical):
            space[name] = categorical(list(dim.categories))
        elif isinstance(dim, (Real, Integer)):
            make = real if isinstance(dim, Real) else integer
            space[name] = make(dim.low, dim.high, dim.prior == "log-uniform")
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


def run_tpe(task, n_iter, seed, n_jobs=1, n_points=1):
    search = TPESearchCV(
        task.make_estimator(), task.search_space, n_iter=n_iter, scoring=task.scoring,
        cv=task.cv, refit=False, random_state=seed, n_jobs=n_jobs, n_points=n_points,
    )
    return _sklearn_style(search, task, n_iter)


def run_optuna(task, n_iter, seed, n_jobs=1, n_points=1):
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
        search = OptunaSearchCV(
            task.make_estimator(), space, n_trials=n_iter, scoring=task.scoring, cv=task.cv,
            refit=False, random_state=seed, n_jobs=n_jobs, verbose=0,
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
    population = 10
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


METHODS = {
    "RandomizedSearchCV": run_random,
    "skopt.BayesSearchCV": run_skopt,
    "OptunaSearchCV": run_optuna,
    "GASearchCV": run_genetic,
    "sk_hpo.TPESearchCV": run_tpe,
}
BASELINE = "RandomizedSearchCV"


def run(method, task, n_iter, seed, n_jobs=1, n_points=1):
    return METHODS[method](task, n_iter, seed, n_jobs=n_jobs, n_points=n_points)


def supported(task):
    """Whether every dimension of the task has a form in every peer."""
    return not any(isinstance(d, Distribution) for d in task.search_space.values())
