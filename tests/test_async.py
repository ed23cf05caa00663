"""The asynchronous mode: a new candidate whenever a worker frees."""

import os
import sqlite3
import textwrap
import time
import warnings

import numpy as np
import pytest
from joblib import parallel_backend
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from sk_hpo import (
    BayesSearchCV,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo._asha import ASHA
from sk_hpo._bayes import GPOptimizer
from sk_hpo._genetic import GeneticAlgorithm
from sk_hpo._search_space import SearchSpace
from sk_hpo._tpe import TPE
from sk_hpo.callbacks import NoImprovementStopper
from sk_hpo.testing import (
    FUNCTIONS,
    FunctionEstimator,
    assert_same_cv_results,
    dummy_data,
)

BRANIN = FUNCTIONS["branin"].search_space
SEARCHES = {
    "random": (RandomSearchCV, {}),
    "tpe": (TPESearchCV, {"n_startup_trials": 4}),
    "bayes": (BayesSearchCV, {"n_initial_points": 4}),
    "genetic": (GeneticSearchCV, {"population_size": 4}),
}


def make(kind, n_iter, **params):
    cls, defaults = SEARCHES[kind]
    params = {"cv": 2, "random_state": 0, "asynchronous": True, **defaults, **params}
    return cls(FunctionEstimator("branin"), BRANIN, n_iter=n_iter, **params)


class SleepyClassifier(ClassifierMixin, BaseEstimator):
    """Fits in ``delay`` seconds (1.5 if ``a == slow_at``); scores ``-(a - 0.3)**2``;
    records each fit's start and end."""

    log = []

    def __init__(self, a=0.0, delay=0.01, fail=False, slow_at=None):
        self.a = a
        self.delay = delay
        self.fail = fail
        self.slow_at = slow_at

    def fit(self, X, y):
        start = time.monotonic()
        if self.fail:
            raise ValueError("this candidate cannot be fitted")
        delay = 1.5 if self.a == self.slow_at else self.delay
        time.sleep(delay)
        self.classes_ = np.unique(y)
        type(self).log.append((self.a, delay, start, time.monotonic()))
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y):
        return -((self.a - 0.3) ** 2)


@pytest.fixture
def sleepy():
    SleepyClassifier.log = []
    yield SleepyClassifier
    SleepyClassifier.log = []


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_n_iter_is_exact_with_8_workers_and_nothing_is_fitted_twice(kind, sleepy, iris):
    X, y = iris
    cls, defaults = SEARCHES[kind]
    search = cls(
        SleepyClassifier(), {"a": Real(0, 1), "delay": [0.005, 0.02, 0.05]}, n_iter=21, cv=2,
        n_jobs=8, asynchronous=True, random_state=0, refit=False, **defaults,
    )  # fmt: skip
    with parallel_backend("threading"):
        search.fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 21
    keys = {(p["a"], p["delay"]) for p in params}
    assert len(keys) == 21  # distinct candidates
    assert len(sleepy.log) == 21 * 2  # each fitted once per split, no more
    assert sorted(keys) == sorted({(a, d) for a, d, _, _ in sleepy.log})


def test_cv_results_have_scikit_learns_shape_for_the_same_candidates(iris):
    X, y = iris
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"]}
    with parallel_backend("threading"):
        search = TPESearchCV(SVC(), space, n_iter=9, n_jobs=4, asynchronous=True,
                             random_state=0, return_train_score=True).fit(X, y)  # fmt: skip
    grid = GridSearchCV(SVC(), [{k: [v] for k, v in p.items()} for p in search.cv_results_["params"]],
                        return_train_score=True).fit(X, y)  # fmt: skip
    assert_same_cv_results(search.cv_results_, grid.cv_results_)
    assert search.best_params_ == grid.best_params_
    assert search.best_estimator_.get_params()["C"] == search.best_params_["C"]


def test_a_slow_candidate_does_not_hold_up_the_others(sleepy, iris):
    """Rows come in completion order; fast candidates run while a slow one does."""
    X, y = iris
    search = RandomSearchCV(
        SleepyClassifier(slow_at=0.5), {"a": Real(0, 1)}, n_iter=8, cv=2, n_jobs=4,
        asynchronous=True, random_state=0, refit=False, initial_params=[{"a": 0.5}],
    )  # fmt: skip
    with parallel_backend("threading"):
        search.fit(X, y)
    params = search.cv_results_["params"]
    assert params[-1] == {"a": 0.5}  # started first, finished last
    slow = [entry for entry in sleepy.log if entry[1] == 1.5]
    fast = [entry for entry in sleepy.log if entry[1] == 0.01]
    assert len(slow) == 2 and len(fast) == 14
    # Every fast fit started and ended while the first slow split was running.
    slow_start, slow_end = min(s for *_, s, _ in slow), min(e for *_, _, e in slow)
    assert sum(slow_start <= start and end <= slow_end for *_, start, end in fast) >= 7
    # In batches of n_points=2, the slow candidate's batch mate waits for it.
    sleepy.log.clear()
    with parallel_backend("threading"):
        search.set_params(asynchronous=False, n_points=2).fit(X, y)
    assert search.cv_results_["params"][0] == {"a": 0.5}


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_one_worker_is_reproducible(kind):
    X, y = dummy_data()
    first = make(kind, 24, n_jobs=1).fit(X, y)
    second = make(kind, 24, n_jobs=1).fit(X, y)
    assert first.cv_results_["params"] == second.cv_results_["params"]
    if kind != "genetic":  # (the genetic search's steady state breeds otherwise)
        # With one worker, each candidate is told before the next is asked: the batch
        # mode with one candidate per batch, exactly.
        batches = make(kind, 24, n_jobs=1, asynchronous=False, n_points=1).fit(X, y)
        assert first.cv_results_["params"] == batches.cv_results_["params"]


def test_loky_backend_runs_the_fits_in_other_processes(iris):
    X, y = iris
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"]}
    with parallel_backend("loky"):
        search = BayesSearchCV(SVC(), space, n_iter=8, n_jobs=2, asynchronous=True,
                               random_state=0, n_initial_points=4).fit(X, y)  # fmt: skip
    assert len(search.cv_results_["params"]) == 8
    assert search.best_score_ > 0.95
    # With several workers the GP polishes its acquisitions in one problem;
    # with one, as batches of one do (test_one_worker_is_reproducible).
    assert search.optimizer_.polish_jointly


def test_a_stopper_stops_after_the_candidate_that_met_it(sleepy, iris):
    X, y = iris
    seen = []

    def stop_after_five(state):
        seen.append(state.n_evaluated)
        return state.n_evaluated >= 5

    search = TPESearchCV(SleepyClassifier(), {"a": Real(0, 1)}, n_iter=40, cv=2, n_jobs=4,
                         asynchronous=True, random_state=0, callbacks=stop_after_five)  # fmt: skip
    with parallel_backend("threading"):
        search.fit(X, y)
    n = len(search.cv_results_["params"])
    assert seen[:5] == [1, 2, 3, 4, 5]  # called after every candidate
    # No new candidate starts after the stop; those running finish and are kept.
    assert 5 <= n <= 5 + 4
    assert hasattr(search, "best_estimator_")


def test_no_improvement_stopper_counts_candidates(iris):
    X, y = iris
    search = RandomSearchCV(SleepyClassifier(), {"a": [0.3, 0.0, 0.1, 0.9, 1.0, 0.8, 0.95]},
                            n_iter=7, cv=2, n_jobs=1, asynchronous=True, random_state=0,
                            callbacks=NoImprovementStopper(n_generations=2))  # fmt: skip
    search.fit(X, y)
    assert len(search.cv_results_["params"]) < 7


def test_an_all_failing_start_raises_scikit_learns_error(sleepy, iris):
    X, y = iris
    search = RandomSearchCV(SleepyClassifier(fail=True), {"a": Real(0, 1)}, n_iter=30, cv=2,
                            n_jobs=4, asynchronous=True, random_state=0)  # fmt: skip
    with parallel_backend("threading"), pytest.warns(FitFailedWarning), \
            pytest.raises(ValueError, match="fits failed"):  # fmt: skip
        search.fit(X, y)


def test_failing_candidates_are_kept_and_error_score_raise_raises(iris):
    X, y = iris
    space = {"a": Real(0, 1), "fail": [True, False]}
    search = TPESearchCV(SleepyClassifier(), space, n_iter=12, cv=2, n_jobs=3,
                         asynchronous=True, random_state=0)  # fmt: skip
    with parallel_backend("threading"), pytest.warns(FitFailedWarning):
        search.fit(X, y)
    failed = [p["fail"] for p in search.cv_results_["params"]]
    scores = search.cv_results_["mean_test_score"]
    assert any(failed) and not all(failed)
    assert np.isnan(scores[np.array(failed)]).all()
    assert not search.best_params_["fail"]
    with parallel_backend("threading"), pytest.raises(ValueError, match="cannot be fitted"):
        search.set_params(error_score="raise").fit(X, y)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_non_finite_scores_are_warned_once_per_fit_as_scikit_learn_does(iris, asynchronous):
    X, y = iris
    search = RandomSearchCV(SleepyClassifier(), {"a": Real(0, 1), "fail": [True, False]},
                            n_iter=12, n_points=2, cv=2, n_jobs=2, random_state=0,
                            asynchronous=asynchronous)  # fmt: skip
    with parallel_backend("threading"), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"]).any()
    non_finite = [w for w in caught if "non-finite" in str(w.message)]
    assert len(non_finite) == 1
    assert any(issubclass(w.category, FitFailedWarning) for w in caught)


def test_multimetric_refit_in_asynchronous_mode(iris):
    X, y = iris
    search = BayesSearchCV(SVC(), {"C": Real(1e-3, 1e2, prior="log-uniform")}, n_iter=8,
                           scoring=["accuracy", "f1_macro"], refit="f1_macro", n_jobs=2,
                           asynchronous=True, random_state=0, n_initial_points=4)  # fmt: skip
    with parallel_backend("threading"):
        search.fit(X, y)
    f1 = search.cv_results_["mean_test_f1_macro"]
    assert search.best_index_ == int(np.argmax(f1))
    assert search.best_score_ == f1.max()


def test_gp_and_tpe_proposals_account_for_points_still_running():
    space = SearchSpace({"x": Real(0, 1), "y": Real(0, 1)})
    rng = np.random.default_rng(0)
    for optimizer in (GPOptimizer(space, 0, n_initial_points=4), TPE(space, 0, n_startup_trials=4)):
        points = space.sample(8, rng)
        optimizer.tell(points, [(p.x[0] - 0.3) ** 2 + (p.x[1] - 0.6) ** 2 for p in points])
        first = optimizer.ask(1)[0]
        second = optimizer.ask(1)[0]  # the first is still running
        assert len(optimizer.pending) == 2
        assert not np.allclose(first.x, second.x)
        optimizer.tell([first, second], [0.1, 0.2])
        assert len(optimizer.pending) == 0


def test_steady_state_genetic_search_breeds_without_waiting_for_a_generation():
    space = SearchSpace({"x": Real(0, 1), "y": Real(0, 1)})
    ga = GeneticAlgorithm(space, 0, population_size=4, steady_state=True)

    def loss(p):
        return (p.x[0] - 0.3) ** 2 + (p.x[1] - 0.6) ** 2

    design = ga.ask(4)
    assert ga.more_results(design)["generation"] == [0, 0, 0, 0]
    ga.tell(design[:2], [loss(p) for p in design[:2]])  # two still running
    extra = ga.ask(1)[0]  # the population is not formed yet: another design point
    assert ga.more_results([extra])["generation"] == [0]
    ga.tell(design[2:], [loss(p) for p in design[2:]])  # 4 told: the first population
    assert len(ga.population) == 4 and ga.generation == 1
    children = ga.ask(3)  # bred at once, while the extra design point still runs
    assert ga.more_results(children)["generation"] == [1, 1, 1]
    ga.tell([extra] + children[:2], [loss(p) for p in [extra] + children[:2]])
    assert ga.generation == 1  # 3 told since the renewal: not yet 4
    ga.tell(children[2:], [loss(children[2])])
    assert ga.generation == 2  # renewed by whichever 4 were told, without a wait
    best = min(loss(p) for p in design + [extra] + children)
    assert min(value for _, value in ga.population) == best  # elitism keeps the best
    for _ in range(40):
        point = ga.ask(1)[0]
        ga.tell([point], [loss(point)])
        best = min(best, loss(point))
        assert min(value for _, value in ga.population) <= best + 1e-12 or ga.children
    generations = [e["generation"] for e in ga.history]
    assert generations == list(range(len(generations))) and generations[-1] >= 10
    assert sum(e["n_individuals"] for e in ga.history) == 48


def test_genetic_search_generation_column_in_asynchronous_mode():
    X, y = dummy_data()
    search = make("genetic", 24, n_jobs=1).fit(X, y)
    generations = search.cv_results_["generation"]
    assert list(generations[:4]) == [0, 0, 0, 0]
    assert generations.max() >= 2
    assert search.history_["generation"] == sorted(set(generations.tolist()))


def test_asha_promotes_without_waiting_for_the_rung_to_fill():
    space = SearchSpace({"x": Real(0, 1)})
    asha = ASHA(space, n_levels=3, factor=3, n_candidates=9, n_min=100, seed=0)
    running = []
    for _ in range(4):  # four workers take four new candidates
        level, _, point = asha.ask(running)
        assert level == 0
        running.append(point)
    # Three finish: the best of them is in the rung's top third and is promoted at once,
    # while the fourth still runs and six of the nine have not started.
    for point, loss in zip(running[:3], (0.5, 0.1, 0.9)):
        asha.tell(point, 0, 0, loss)
    level, _, promoted = asha.ask(running[3:])
    assert level == 1 and promoted is running[1]
    # Nothing more to promote with 3 results: a new candidate starts.
    level, _, _ = asha.ask(running[3:] + [promoted])
    assert level == 0


def test_asha_ends_with_a_candidate_at_full_resource():
    X, y = dummy_data()
    search = TPESearchCV(
        FunctionEstimator("branin", n_steps=27), BRANIN, n_iter=6, cv=2, random_state=0,
        resource="n_steps", min_resources=1, factor=3, asynchronous=True, n_jobs=1,
        n_startup_trials=3,
    )  # fmt: skip
    search.fit(X, y)
    results = search.cv_results_
    assert set(results) >= {"iter", "n_resources", "bracket"}
    assert max(results["n_resources"]) == 27
    assert search.best_params_["n_steps"] == 27
    assert (np.asarray(results["iter"]) == 0).sum() == 6  # n_iter candidates started
    assert search.n_candidates_[-1] >= 1


@pytest.mark.parametrize("hyperband", [False, True])
def test_asha_search_with_workers(hyperband, iris):
    X, y = iris
    search = BayesSearchCV(
        SleepyClassifier(), {"a": Real(0, 1)}, n_iter=15, cv=2, random_state=0, n_jobs=4,
        resource="delay", min_resources=1, max_resources=9, factor=3, hyperband=hyperband,
        asynchronous=True, n_initial_points=4,
    )  # fmt: skip
    # delay is the resource here: 1 to 9 (the estimator sleeps that many ms per unit).
    search.set_params(estimator=_MilliSleepy())
    with parallel_backend("threading"):
        search.fit(X, y)
    results = search.cv_results_
    levels = np.asarray(results["iter"])
    assert search.n_brackets_ == (3 if hyperband else 1)
    assert len(set(np.asarray(results["bracket"]).tolist())) == search.n_brackets_
    assert search.best_params_["delay"] == 9
    # Promotions: no candidate is evaluated twice at one level.
    pairs = [(p["a"], p["delay"]) for p in results["params"]]
    assert len(pairs) == len(set(pairs))
    assert (levels > 0).any()


class _MilliSleepy(SleepyClassifier):
    def __init__(self, a=0.0, delay=9, fail=False, slow_at=None):
        super().__init__(a=a, delay=delay, fail=fail, slow_at=slow_at)

    def fit(self, X, y):
        time.sleep(self.delay / 1000)
        self.classes_ = np.unique(y)
        return self


def test_bad_backend_is_refused_before_any_fit(iris, sleepy):
    from joblib import register_parallel_backend
    from joblib._parallel_backends import ThreadingBackend

    class OtherBackend(ThreadingBackend):
        pass

    register_parallel_backend("sk_hpo_test_other", OtherBackend)
    X, y = iris
    search = RandomSearchCV(SleepyClassifier(), {"a": Real(0, 1)}, n_iter=3, n_jobs=2,
                            asynchronous=True)  # fmt: skip
    with parallel_backend("sk_hpo_test_other"), \
            pytest.raises(ValueError, match="asynchronous=True runs its fits on"):  # fmt: skip
        search.fit(X, y)
    assert sleepy.log == []


_KILLED_SEARCH = textwrap.dedent(
    """
    import sys
    from joblib import parallel_backend
    from sk_hpo import TPESearchCV
    from sk_hpo.testing import FUNCTIONS, FunctionEstimator, assert_same_cv_results, dummy_data

    X, y = dummy_data()
    with parallel_backend("threading"):
        TPESearchCV(FunctionEstimator("branin", fit_delay=0.05), FUNCTIONS["branin"].search_space,
                    n_iter=40, n_jobs=3, cv=2, random_state=0, n_startup_trials=4,
                    asynchronous=True, storage=sys.argv[1]).fit(X, y)
    """
)


def _stored_params(path):
    with sqlite3.connect(path) as db:
        return [row[0] for row in db.execute("SELECT params FROM candidates ORDER BY number")]


def test_sigkill_loses_only_the_candidates_in_flight_and_resume_refits_none(
        tmp_path, fits, kill_when_stored):  # fmt: skip
    X, y = dummy_data()
    path = tmp_path / "killed.db"
    kill_when_stored(_KILLED_SEARCH, path, 7)
    n_stored = len(_stored_params(path))
    assert 7 <= n_stored < 40  # every candidate stored as it finished, not by batches

    fits.clear()
    with parallel_backend("threading"):
        resumed = TPESearchCV(FunctionEstimator("branin", fit_delay=0.05), BRANIN, n_iter=40,
                              n_jobs=3, cv=2,
                              random_state=0, n_startup_trials=4, asynchronous=True,
                              storage=path).fit(X, y)  # fmt: skip
    assert resumed.n_resumed_ == n_stored
    assert len(fits) == (40 - n_stored) * 2  # nothing stored was fitted again
    params = resumed.cv_results_["params"]
    assert len(params) == 40
    keys = {(p["x0"], p["x1"]) for p in params}
    assert len(keys) == 40


def test_asynchronous_search_on_a_dask_cluster(dask_client, iris):
    from distributed import get_task_stream

    X, y = iris
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"],
             "degree": Integer(1, 3)}  # fmt: skip
    search = TPESearchCV(SVC(), space, n_iter=10, n_jobs=-1, cv=3, asynchronous=True,
                         random_state=0, n_startup_trials=4)  # fmt: skip
    with parallel_backend("dask"), get_task_stream(dask_client) as tasks:
        search.fit(X, y)
    assert len(search.cv_results_["params"]) == 10
    assert search.best_score_ > 0.95
    workers = {task["worker"] for task in tasks.data}
    # The cluster's workers asked directly (scheduler_info() answers from a
    # cache that holds no workers when its refresh times out on a busy machine).
    assert workers == set(dask_client.run(os.getpid))  # both workers fitted
    names = [task["key"] for task in tasks.data]
    assert sum("fit_and_score" in str(name) for name in names) == 10 * 3


def test_after_the_first_candidates_each_proposal_knows_every_fit_finished_before_it():
    from concurrent.futures import Future

    from sk_hpo._async import Ticket, run_asynchronously

    class Context:
        base_estimator = SVC()
        splits = ((None, None),)

    class Pool:  # four workers; a fit finishes while each proposal is made
        backend, n_workers, context = "threading", 4, Context()

        def __init__(self):
            self.futures = []

        def submit(self, *args):
            self.futures.append(Future())
            return self.futures[-1]

        def finish_one(self):
            pending = [f for f in self.futures if not f.done()]
            if pending:
                pending[0].set_result({})

        def wait(self, futures):
            self.finish_one()
            return [f for f in futures if f.done()]

        close = staticmethod(lambda futures=(), wait=True: None)

    class Run:
        def __init__(self, pool):
            self.pool, self.asked, self.told, self.calls = pool, 0, 0, []

        def next_candidates(self, running, n):
            finished = sum(f.done() for f in self.pool.futures)
            self.calls.append((n, finished - self.told))
            self.pool.finish_one()
            if self.asked >= 20:
                return []
            n = min(n, 20 - self.asked)
            self.asked += n
            return [Ticket(self.asked - n + i, None, {}, {}, 1) for i in range(n)]

        def finish(self, ticket):
            self.told += 1
            return False

    pool = Pool()
    run = Run(pool)
    assert run_asynchronously(run, pool) is False
    assert run.told == 20
    # The places of every worker and its queued fit at once, then one at a
    # time, each proposal made with every finished fit told.
    assert run.calls[0] == (8, 0)
    assert run.calls[1:13] == [(1, 0)] * 12
