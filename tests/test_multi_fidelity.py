"""Multi-fidelity searches: successive halving and Hyperband with a model (resource=)."""

import numpy as np
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import HalvingRandomSearchCV, KFold
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from sk_hpo import BayesSearchCV, RandomSearchCV, Real, TPESearchCV
from sk_hpo._hyperband import Hyperband, bracket_sizes
from sk_hpo._search_space import SearchSpace
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

BRANIN = FUNCTIONS["branin"]
SEARCHES = [TPESearchCV, BayesSearchCV]


def _search(cls=TPESearchCV, **params):
    defaults = {
        "n_iter": 9, "resource": "n_steps", "min_resources": 1, "max_resources": 9,
        "cv": KFold(2), "random_state": 0,
    }  # fmt: skip
    return cls(FunctionEstimator("branin", step_noise=50.0), BRANIN.search_space,
               **{**defaults, **params})  # fmt: skip


def _rows(results, level):
    return np.flatnonzero(results["iter"] == level)


@pytest.mark.parametrize("cls", SEARCHES)
def test_rungs_promote_the_best_third_and_the_best_comes_from_full_resource(cls):
    search = _search(cls).fit(*dummy_data())
    results = search.cv_results_
    assert search.n_resources_ == [1, 3, 9]
    assert search.n_candidates_ == [9, 3, 1]
    assert search.n_brackets_ == 1
    np.testing.assert_array_equal(results["iter"], [0] * 9 + [1] * 3 + [2])
    np.testing.assert_array_equal(results["n_resources"], [1] * 9 + [3] * 3 + [9])
    assert [p["n_steps"] for p in results["params"]] == list(results["n_resources"])

    def without_resource(i):
        return {k: v for k, v in results["params"][i].items() if k != "n_steps"}

    for level in (0, 1):
        rows, next_rows = _rows(results, level), _rows(results, level + 1)
        best = rows[np.argsort(-results["mean_test_score"][rows], kind="stable")][: len(next_rows)]
        assert [without_resource(i) for i in best] == [without_resource(i) for i in next_rows]

    assert search.best_index_ == 12
    assert search.best_params_["n_steps"] == 9
    assert search.best_estimator_.n_steps == 9
    assert search.best_score_ == pytest.approx(-search.best_estimator_.value())


def test_cv_results_have_the_columns_of_scikit_learns_halving_search():
    X, y = dummy_data(8)
    ours = _search(return_train_score=True).fit(X, y)
    halving = HalvingRandomSearchCV(
        FunctionEstimator("branin", step_noise=50.0),
        {"x0": [-5.0, 0.0, 5.0], "x1": [0.0, 1.0, 2.0]},
        resource="n_steps", min_resources=1, max_resources=9, n_candidates=9,
        cv=KFold(2), return_train_score=True, random_state=0,
    ).fit(X, y)  # fmt: skip
    theirs = halving.cv_results_
    assert set(ours.cv_results_) - set(theirs) == {"bracket"}
    assert set(theirs) - set(ours.cv_results_) == set()
    for key in ("iter", "n_resources"):
        assert ours.cv_results_[key].dtype.kind == theirs[key].dtype.kind == "i"


def test_n_samples_trains_each_rung_on_a_growing_subsample():
    X, y = dummy_data(90)
    seen = []

    class Recording(FunctionEstimator):
        def fit(self, X, y=None):
            seen.append(len(X))
            return super().fit(X, y)

    search = TPESearchCV(
        Recording("branin"), BRANIN.search_space, n_iter=9, resource="n_samples",
        min_resources=10, factor=3, cv=KFold(3), random_state=0,
    ).fit(X, y)  # fmt: skip
    assert search.n_resources_ == [10, 30, 90]
    assert search.max_resources_ == 90
    # Each split trains on its share (2/3) of the rung's samples; the refit on all.
    assert seen == [6] * 27 + [20] * 9 + [60] * 3 + [90]
    assert "n_samples" not in search.best_params_


def test_initial_params_start_first_and_verbose_reports_levels(capsys):
    seed = {"x0": 3.14159, "x1": 2.275}  # a global minimum of branin
    search = _search(initial_params=[seed], verbose=1).fit(*dummy_data())
    assert search.cv_results_["params"][0] == pytest.approx({**seed, "n_steps": 1})
    err = capsys.readouterr().err  # the progress bar
    assert "13/13" in err and "bracket 0, n_steps=9, best" in err


def test_hyperband_cycles_through_brackets_starting_at_every_level():
    search = _search(n_iter=30, hyperband=True, min_resources=1, max_resources=9).fit(*dummy_data())
    results = search.cv_results_
    first_level = {
        b: results["iter"][results["bracket"] == b].min() for b in np.unique(results["bracket"])
    }
    # Brackets start at levels 0, 1, 2, then again at 0.
    assert list(first_level.values())[:4] == [0, 1, 2, 0]
    assert results["n_resources"][search.best_index_] == 9
    # Every bracket's last rung is at full resource.
    for b in first_level:
        assert results["n_resources"][results["bracket"] == b].max() == 9


def test_bracket_sizes_follow_successive_halving():
    assert bracket_sizes(27, 4, 3) == [27, 9, 3, 1]
    assert bracket_sizes(10, 3, 3) == [10, 3, 1]
    assert bracket_sizes(2, 3, 3) == [2, 1, 1]
    space = SearchSpace(BRANIN.search_space)
    plan = Hyperband(space, n_levels=3, factor=3, n_candidates=30, n_min=5, hyperband=True)
    # Hyperband's n = ceil((K+1)/(s+1) * factor^s) per bracket: 9, 5 (at level 1), 3 (level 2).
    assert [plan._bracket_plan(b) for b in range(4)] == [(0, 9, 3), (1, 5, 2), (2, 3, 1), (0, 9, 3)]
    assert plan.planned_evaluations() == (9 + 3 + 1) + (5 + 1) + 3 + (9 + 3 + 1) + (4 + 1)


def test_new_candidates_come_from_the_highest_level_with_enough_results():
    space = SearchSpace(BRANIN.search_space)
    hyperband = Hyperband(space, n_levels=3, factor=3, n_candidates=100, n_min=4, seed=0)
    told = []

    class Model:
        def __init__(self):
            self.points = None

        def tell(self, points, losses):
            told.append(len(points))

        def ask(self, n):
            return space.sample(n, np.random.default_rng(len(told)))

    hyperband.make_optimizer = lambda seed: Model()
    assert hyperband._model_level() is None
    level, points = hyperband.ask(9)
    assert told == []  # the space-filling start: no model yet
    hyperband.tell(points, np.arange(9.0))
    assert hyperband._model_level() == 0
    level, points = hyperband.ask(3)
    assert level == 1 and len(points) == 3  # the 3 best, promoted
    hyperband.tell(points, [1.0, 2.0, 3.0])
    level, points = hyperband.ask(1)
    assert level == 2
    hyperband.tell(points, [1.0])
    hyperband.results[1][0].extend(points * 3)
    hyperband.results[1][1].extend([1.0, 1.0, 1.0])
    assert hyperband._model_level() == 1  # 3 + 3 results at level 1 >= 4
    hyperband.ask(2)
    assert told == [6]


@pytest.mark.parametrize("cls", SEARCHES)
def test_multi_fidelity_search_finds_the_optimum_cheaper(cls):
    """On branin with a misranking low budget, the search still ends near the optimum,
    with much less total resource than evaluating every candidate in full, and ahead
    of random search given the same total resource.

    Over five seeds, as one seed is a lottery: even at full resource the score keeps
    an error of up to 10/27, and a value moved by an ulp (another CPU or numpy) draws
    another.  Seeds 0-11 measured on 2026-12-04: medians 0.37 (TPE) and 0.22 (GP)
    below the optimum, the worst seed 0.72; random search with the same resource,
    4.8 below.
    """
    best, random_best = [], []
    for seed in range(5):
        search = _search(cls, n_iter=60, min_resources=1, max_resources=27, random_state=seed)
        search.estimator.step_noise = 10.0  # at 1 step, errors up to 10: many rankings flip
        search.fit(*dummy_data())
        spent = np.sum(search.cv_results_["n_resources"])
        assert spent < 60 * 27 / 3
        best.append(search.best_score_)
        random = RandomSearchCV(
            FunctionEstimator("branin", n_steps=27, step_noise=10.0), BRANIN.search_space,
            n_iter=int(spent // 27), cv=KFold(2), random_state=seed,
        ).fit(*dummy_data())  # fmt: skip
        random_best.append(random.best_score_)
    assert np.median(best) > -BRANIN.optimum - 1.0
    assert np.median(best) > np.median(random_best)


def test_pipeline_parallel_and_reproducible():
    pipe = Pipeline([("scale", StandardScaler()), ("f", FunctionEstimator("branin", step_noise=50.0))])
    space = {"f__" + k: v for k, v in BRANIN.search_space.items()}

    def run(n_jobs):
        return TPESearchCV(
            pipe, space, n_iter=9, n_points=3, resource="f__n_steps", min_resources=1,
            max_resources=9, cv=KFold(2), n_jobs=n_jobs, random_state=3,
        ).fit(*dummy_data())  # fmt: skip

    one, two = run(1), run(2)
    assert one.cv_results_["params"] == two.cv_results_["params"]
    assert one.best_estimator_.named_steps["f"].n_steps == 9


def test_stored_multi_fidelity_search_resumes_exactly(tmp_path):
    storage = tmp_path / "mf.db"
    full = _search(n_iter=20).fit(*dummy_data())

    stops = iter(range(100))

    def stop_after_four_batches(state):
        return next(stops) == 3

    _search(n_iter=20, storage=storage, callbacks=stop_after_four_batches).fit(*dummy_data())
    resumed = _search(n_iter=20, storage=storage).fit(*dummy_data())
    assert 0 < resumed.n_resumed_ < len(full.cv_results_["params"])
    for key in ("params", "iter", "n_resources", "bracket", "mean_test_score"):
        assert list(resumed.cv_results_[key]) == list(full.cv_results_[key]), key
    assert resumed.best_params_ == full.best_params_


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"resource": "n_step"}, r"resource='n_step': the estimator has no parameter 'n_step'"),
        ({"resource": "x0"}, r"resource='x0' is also searched in search_spaces"),
        ({"factor": 1}, r"The 'factor' parameter .* must be a float in the range \(1.0, inf\)"),
        ({"min_resources": 9}, r"min_resources=9 must be less than max_resources=9"),
        ({"min_resources": 5, "max_resources": 9}, r"leave a single resource level"),
        ({"max_resources": "auto"}, r"max_resources='auto' takes the estimator's n_steps=None"),
        ({"resource": "n_samples", "max_resources": 50}, r"max_resources=50 is more than the 4 samples"),
        ({"min_resources": "exhaust"}, r"The 'min_resources' parameter"),
    ],
)
def test_bad_resource_settings_are_refused_before_any_fit(params, message):
    fits = []

    class Counting(FunctionEstimator):
        def fit(self, X, y=None):
            fits.append(1)
            return super().fit(X, y)

    search = _search(**params)
    search.estimator = Counting("branin")
    with pytest.raises(ValueError, match=message):
        search.fit(*dummy_data())
    assert fits == []


def test_real_estimator_with_max_iter_in_a_pipeline():
    from sklearn.datasets import load_digits
    from sklearn.linear_model import SGDClassifier
    from sklearn.pipeline import make_pipeline

    X, y = load_digits(return_X_y=True)
    search = BayesSearchCV(
        make_pipeline(StandardScaler(), SGDClassifier(max_iter=27, tol=None, random_state=0)),
        {"sgdclassifier__alpha": Real(1e-6, 1e-1, "log-uniform")},
        n_iter=9, resource="sgdclassifier__max_iter", min_resources=3, cv=3, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert search.n_resources_ == [3, 9, 27]
    assert search.max_resources_ == 27  # "auto": the estimator's own max_iter
    final = search.best_estimator_[-1]
    assert final.max_iter == final.n_iter_ == 27
    assert search.best_score_ > 0.9
