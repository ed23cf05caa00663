"""Persistent searches: storage, resume, fingerprints, interrupts, seeding."""

import sqlite3
import textwrap
import warnings

import numpy as np
import pytest
from sklearn.base import clone

from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, Real, TPESearchCV
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

BRANIN = FUNCTIONS["branin"].search_space
SEARCHES = {
    "random": (RandomSearchCV, {"n_points": 2}),
    "tpe": (TPESearchCV, {"n_points": 2, "n_startup_trials": 4}),
    "bayes": (BayesSearchCV, {"n_points": 2, "n_initial_points": 4}),
    "genetic": (GeneticSearchCV, {"population_size": 4}),
}


def make(kind, n_iter, **params):
    cls, defaults = SEARCHES[kind]
    params = {"cv": 2, "random_state": 0, **defaults, **params}
    return cls(FunctionEstimator("branin"), BRANIN, n_iter=n_iter, **params)


def stored_rows(path, study=None):
    with sqlite3.connect(path) as db:
        query = (
            "SELECT c.number, c.params, c.status, c.error FROM candidates c "
            "JOIN studies s ON s.id = c.study_id"
        )
        args = ()
        if study is not None:
            query, args = query + " WHERE s.name = ?", (study,)
        return db.execute(query + " ORDER BY c.number", args).fetchall()


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_resumed_search_continues_as_if_it_had_never_stopped(kind, tmp_path, fits):
    X, y = dummy_data()
    uninterrupted = make(kind, 12).fit(X, y)
    path = tmp_path / "search.db"
    first = make(kind, 8, storage=path).fit(X, y)
    assert len(stored_rows(path)) == 8 and first.n_resumed_ == 0
    fits.clear()
    resumed = make(kind, 12, storage=path).fit(X, y)
    assert resumed.n_resumed_ == 8
    # Only the 4 new candidates were fitted, 2 splits each.
    assert len(fits) == 4 * 2
    assert not {fit for fit in fits} & {(p["x0"], p["x1"]) for p in first.cv_results_["params"]}
    assert resumed.cv_results_["params"] == uninterrupted.cv_results_["params"]
    assert set(resumed.cv_results_) == set(uninterrupted.cv_results_)
    for key in ("mean_test_score", "split0_test_score", "rank_test_score"):
        np.testing.assert_array_equal(resumed.cv_results_[key], uninterrupted.cv_results_[key])
    assert resumed.best_params_ == uninterrupted.best_params_
    assert len(stored_rows(path)) == 12


def test_complete_study_refits_the_best_without_any_cv_fit(tmp_path, fits):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    first = make("tpe", 6, storage=path, return_train_score=True,
                 scoring={"neg": "neg_mean_squared_error", "r2": "r2"}, refit="neg").fit(X, y)  # fmt: skip
    fits.clear()
    again = make("tpe", 6, storage=path, return_train_score=True,
                 scoring={"neg": "neg_mean_squared_error", "r2": "r2"}, refit="neg").fit(X, y)  # fmt: skip
    assert fits == [] and again.n_resumed_ == 6
    assert again.multimetric_ and again.best_params_ == first.best_params_
    assert set(again.cv_results_) == set(first.cv_results_)
    for key, column in first.cv_results_.items():
        if "time" not in key:
            np.testing.assert_array_equal(again.cv_results_[key], column)
    assert again.best_estimator_.x0 == first.best_params_["x0"]


def test_each_study_of_a_shared_file_resumes_on_its_own(tmp_path):
    X, y = dummy_data()
    path = tmp_path / "shared.db"
    make("tpe", 4, storage=path).fit(X, y)
    make("bayes", 6, storage=path).fit(X, y)
    make("tpe", 2, storage=path, study_name="other").fit(X, y)
    assert len(stored_rows(path, "TPESearchCV")) == 4
    assert len(stored_rows(path, "BayesSearchCV")) == 6
    assert len(stored_rows(path, "other")) == 2
    assert make("tpe", 6, storage=path).fit(X, y).n_resumed_ == 4


@pytest.mark.parametrize(
    "change, message",
    [
        ({"search_spaces": {"x0": Real(-5, 10), "x1": Real(0, 14)}}, "search space: stored"),
        ({"estimator": FunctionEstimator("branin", c0="b")}, "estimator: stored"),
        ({"cv": 3}, "cv: stored"),
        ({"scoring": "r2"}, "scoring: stored"),
    ],
)
def test_a_study_made_for_another_search_is_refused_before_any_fit(tmp_path, fits, change, message):
    X, y = dummy_data(6)
    path = tmp_path / "search.db"
    make("tpe", 4, storage=path).fit(X, y)
    fits.clear()
    with pytest.raises(ValueError, match="made for a different search") as info:
        make("tpe", 8, storage=path).set_params(**change).fit(X, y)
    assert message in str(info.value) and "resume=False" in str(info.value)
    assert fits == []
    fresh = make("tpe", 3, storage=path, resume=False).set_params(**change).fit(X, y)
    assert fresh.n_resumed_ == 0 and len(stored_rows(path)) == 3


def test_other_data_is_refused(tmp_path):
    X, y = dummy_data(6)
    path = tmp_path / "search.db"
    make("random", 2, storage=path).fit(X, y)
    with pytest.raises(ValueError, match=r"(?s)different search.*  X: stored ndarray\(shape=\(6, 1\)"):
        make("random", 4, storage=path).fit(np.ones((8, 1)), np.arange(8) % 2)


def test_changed_algorithm_options_resume_by_telling_the_stored_candidates(tmp_path, fits):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    first = make("bayes", 6, storage=path).fit(X, y)
    resumed = make("bayes", 9, storage=path, acq_func="EI", random_state=1).fit(X, y)
    assert resumed.n_resumed_ == 6
    assert resumed.cv_results_["params"][:6] == first.cv_results_["params"]
    assert len(resumed.optimizer_.points) == 9  # a new GP, told all 9
    assert len({tuple(p.values()) for p in resumed.cv_results_["params"]}) == 9


def test_a_local_function_setting_resumes_exactly(tmp_path):
    # The state refers to gamma= (a function is not data) and takes it from
    # the resuming search, whose parameters are described the same.
    X, y = dummy_data()
    path = tmp_path / "search.db"

    def gamma(n):
        return max(1, n // 4)

    uninterrupted = make("tpe", 10, gamma=gamma).fit(X, y)
    make("tpe", 6, storage=path, gamma=gamma).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        resumed = make("tpe", 10, storage=path, gamma=gamma).fit(X, y)
    assert resumed.n_resumed_ == 6
    assert resumed.cv_results_["params"] == uninterrupted.cv_results_["params"]


class _Opaque:
    """Not one of sk_hpo's algorithm classes: its state is not stored."""


class _TPEWithOpaque(TPESearchCV):
    def _make_optimizer(self, space, seed):
        optimizer = super()._make_optimizer(space, seed)
        optimizer.told_keys.add(_Opaque())  # a field of the state schema, holding no data
        return optimizer


def test_a_state_that_is_not_data_warns_once_and_resumes_by_retelling(tmp_path, fits):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    search = _TPEWithOpaque(
        FunctionEstimator("branin"), BRANIN, n_iter=6, n_points=2, cv=2, random_state=0,
        storage=path,
    )  # fmt: skip
    with pytest.warns(UserWarning, match="cannot be stored as data.*_Opaque") as record:
        search.fit(X, y)
    assert len([w for w in record if "stored as data" in str(w.message)]) == 1
    fits.clear()
    resumed = clone(search).set_params(n_iter=8)
    with pytest.warns(UserWarning, match="cannot be stored as data"):
        resumed.fit(X, y)
    assert resumed.n_resumed_ == 6 and len(resumed.cv_results_["params"]) == 8
    assert len(fits) == 2 * 2
    told = [key for key in resumed.optimizer_.told_keys if not isinstance(key, _Opaque)]
    assert len(told) == 8  # re-told the 6, then told the 2 new


def test_keyboard_interrupt_keeps_what_finished_and_propagates(tmp_path, fits):
    X, y = dummy_data()
    path = tmp_path / "search.db"

    def interrupt(state):
        if state.n_evaluated >= 4:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        make("bayes", 10, storage=path, callbacks=interrupt).fit(X, y)
    assert len(stored_rows(path)) == 4
    fits.clear()
    resumed = make("bayes", 10, storage=path).fit(X, y)
    assert resumed.n_resumed_ == 4 and len(fits) == 6 * 2
    assert resumed.cv_results_["params"] == make("bayes", 10).fit(X, y).cv_results_["params"]


def test_failed_fits_are_stored_with_their_error(tmp_path, recording, iris):
    X, y = iris
    path = tmp_path / "search.db"

    def fail(a, b):
        return a > 0.5

    search = RandomSearchCV(recording(fail_when=fail), {"a": Real(0, 1)}, n_iter=8,
                            random_state=0, storage=path, error_score=-1.0)  # fmt: skip
    search.fit(X, y)
    rows = stored_rows(path)
    failed = [row for row in rows if row[2] == "failed"]
    assert failed and len(failed) == sum(a > 0.5 for a in search.cv_results_["param_a"])
    assert all("invalid combination" in row[3] for row in failed)
    resumed = RandomSearchCV(recording(fail_when=fail), {"a": Real(0, 1)}, n_iter=8,
                             random_state=0, storage=path, error_score=-1.0).fit(X, y)  # fmt: skip
    np.testing.assert_array_equal(
        resumed.cv_results_["mean_test_score"], search.cv_results_["mean_test_score"]
    )


def test_stored_failures_count_toward_the_early_stop(tmp_path, recording, iris):
    X, y = iris
    path = tmp_path / "search.db"
    search = RandomSearchCV(recording(fail_when=lambda a, b: True), {"a": Real(0, 1)},
                            n_iter=30, random_state=0, storage=path)  # fmt: skip
    with pytest.raises(ValueError, match="All the 50 fits failed"):
        search.fit(X, y)
    assert len(stored_rows(path)) == 10  # FAILURE_PATIENCE, not the whole budget


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_initial_params_are_evaluated_first_and_count_toward_n_iter(kind, fits):
    X, y = dummy_data()
    optimum = {"x0": np.pi, "x1": 2.275}
    seeds = [optimum, {"x0": 0.0, "x1": 5.0}, optimum]
    search = make(kind, 10, initial_params=seeds).fit(X, y)
    params = search.cv_results_["params"]
    assert len(params) == 10
    assert params[:2] == seeds[:2]
    assert search.best_params_ == optimum
    assert len(search.optimizer_.points) >= 10  # the algorithm learnt from them
    if kind == "genetic":
        # The seeds join the first generation, which keeps a full design.
        generation = search.cv_results_["generation"]
        assert list(generation[:6]) == [0] * 6 and generation[6] == 1


def test_initial_params_resume_skips_the_seeds_already_stored(tmp_path, fits):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    seeds = [{"x0": 1.0, "x1": 1.0}, {"x0": 2.0, "x1": 2.0}, {"x0": 3.0, "x1": 3.0}]
    make("random", 4, n_points=1, storage=path, initial_params=seeds,
         callbacks=lambda state: state.n_evaluated == 2).fit(X, y)  # fmt: skip
    fits.clear()
    resumed = make("random", 4, n_points=1, storage=path, initial_params=seeds).fit(X, y)
    assert resumed.cv_results_["params"][:3] == seeds
    assert fits[:2] == [(3.0, 3.0)] * 2


_KILLED_SEARCH = textwrap.dedent(
    """
    import sys
    from sk_hpo import TPESearchCV
    from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

    X, y = dummy_data()
    TPESearchCV(FunctionEstimator("branin", fit_delay=0.05), FUNCTIONS["branin"].search_space,
                n_iter=40, n_points=2, cv=2, random_state=0, n_startup_trials=4,
                storage=sys.argv[1]).fit(X, y)
    """
)


def test_sigkill_in_the_middle_of_a_batch_loses_only_that_batch(tmp_path, fits,
                                                               kill_when_stored):
    X, y = dummy_data()
    path = tmp_path / "killed.db"
    kill_when_stored(_KILLED_SEARCH, path, 6, settle=0.1)  # into the next batch's fits
    stored = stored_rows(path)
    n_stored = len(stored)
    assert 6 <= n_stored < 40 and n_stored % 2 == 0  # whole batches only

    fits.clear()
    resumed = TPESearchCV(FunctionEstimator("branin", fit_delay=0.05), BRANIN, n_iter=40,
                          n_points=2, cv=2, random_state=0, n_startup_trials=4,
                          storage=path).fit(X, y)  # fmt: skip
    assert resumed.n_resumed_ == n_stored
    assert len(fits) == (40 - n_stored) * 2  # nothing stored was fitted again
    params = resumed.cv_results_["params"]
    assert len(params) == 40
    reference = TPESearchCV(FunctionEstimator("branin"), BRANIN, n_iter=40, n_points=2, cv=2,
                            random_state=0, n_startup_trials=4).fit(X, y)  # fmt: skip
    assert params == reference.cv_results_["params"]


def test_parallel_search_resumes_the_same(tmp_path):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    make("tpe", 6, n_jobs=2, storage=path).fit(X, y)
    resumed = make("tpe", 10, n_jobs=2, storage=path).fit(X, y)
    assert resumed.n_resumed_ == 6
    assert resumed.cv_results_["params"] == make("tpe", 10).fit(X, y).cv_results_["params"]


def test_a_study_reopened_elsewhere_stops_the_older_writer(tmp_path):
    X, y = dummy_data()
    path = tmp_path / "search.db"
    opened = []

    def reopen_once(state):
        # Another search opens the same study while this one is running.
        if not opened:
            opened.append(make("random", 2, storage=path).fit(X, y))
        return False

    with pytest.raises(RuntimeError, match="was opened by another search"):
        make("random", 6, storage=path, callbacks=reopen_once).fit(X, y)
    assert opened[0].n_resumed_ == 2  # it resumed the first batch, and owns the study
    assert len(stored_rows(path)) == 2
