"""scikit-optimize's BayesSearchCV surface: fit(callback=), total_iterations, optimizer_results_."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.model_selection import RandomizedSearchCV
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, GeneticSearchCV, Real, TPESearchCV
from sk_hpo.callbacks import optimize_result

SPACE = {"gamma": Real(1e-4, 1.0, prior="log-uniform"), "C": Real(1e-2, 1e2, prior="log-uniform")}


@pytest.fixture(scope="module")
def iris():
    return load_iris(return_X_y=True)


def test_a_fit_callback_sees_the_results_and_stops_the_search(iris, recording):
    seen = []

    def stop_after_five(result):
        seen.append(result)
        return len(result.x_iters) >= 5

    search = BayesSearchCV(recording(), {"a": Real(0, 1)}, n_iter=12, cv=2, random_state=0)
    search.fit(*iris, callback=stop_after_five)
    assert len(search.cv_results_["params"]) == 5
    assert len(recording.fits) == 5 * 2 + 1  # 5 candidates, 2 folds, the refit: no callback in fit
    last = seen[-1]
    np.testing.assert_array_equal(last.func_vals, -search.cv_results_["mean_test_score"])
    assert last.x_iters == [[p["a"]] for p in search.cv_results_["params"]]
    assert last.fun == -search.best_score_ and last.x == [search.best_params_["a"]]


def test_x_iters_follow_the_sorted_parameter_names(iris):
    search = TPESearchCV(SVC(), SPACE, n_iter=4, cv=2, random_state=0).fit(*iris)
    result = optimize_result(search.cv_results_)
    assert result.x_iters == [[p["C"], p["gamma"]] for p in search.cv_results_["params"]]
    (stored,) = search.optimizer_results_
    np.testing.assert_array_equal(stored.func_vals, result.func_vals)
    assert stored.x_iters == result.x_iters


def test_skopt_stoppers_stop_our_search(iris):
    callbacks = pytest.importorskip("skopt.callbacks")
    calls = []
    search = BayesSearchCV(SVC(), SPACE, n_iter=30, cv=2, random_state=0)
    search.fit(*iris, callback=[calls.append, callbacks.DeltaYStopper(1.0, n_best=3)])
    # Accuracies differ by far less than 1.0: the third result stops the search.
    assert len(search.cv_results_["params"]) == 3 and len(calls) == 3


def test_skopt_plot_convergence_draws_our_results(iris):
    pytest.importorskip("matplotlib")
    plots = pytest.importorskip("skopt.plots")
    import matplotlib

    matplotlib.use("Agg")
    search = BayesSearchCV(SVC(), SPACE, n_iter=8, cv=2, random_state=0).fit(*iris)
    ax = plots.plot_convergence(*search.optimizer_results_)
    best_so_far = np.minimum.accumulate(-search.cv_results_["mean_test_score"])
    np.testing.assert_allclose(ax.lines[0].get_ydata(), best_so_far)


def test_total_iterations_is_the_budget():
    assert BayesSearchCV(SVC(), SPACE, n_iter=17).total_iterations == 17
    assert GeneticSearchCV(SVC(), SPACE, population_size=6, generations=3).total_iterations == 24


def test_a_callback_that_is_not_callable_is_refused_before_any_fit(iris, recording):
    search = BayesSearchCV(recording(), {"a": Real(0, 1)}, n_iter=3, cv=2)
    with pytest.raises(ValueError, match=r"callback\[0\] must be callable \(taking an OptimizeResult\)"):
        search.fit(*iris, callback="stop")
    assert recording.fits == []


# -- scikit-optimize's own BayesSearchCV tests, restated ----------------------
# Each test below makes the checks of one test of scikit-optimize 0.10's
# skopt/tests/test_searchcv.py, with scikit-optimize's dimension objects and
# our BayesSearchCV (that module itself ships in no release, so it cannot be
# written at test time, and its text is not ours to copy).  What differs is
# when bad input is refused: in fit, as scikit-learn's searches do, where
# scikit-optimize refuses some in __init__ (the migration guide lists it).
def _skopt_space():
    space = pytest.importorskip("skopt.space")
    return space.Real, space.Integer, space.Categorical


def _svc_space():
    SkReal, SkInteger, SkCategorical = _skopt_space()
    return {
        "C": SkReal(1e-6, 1e6, prior="log-uniform"),
        "gamma": SkReal(1e-6, 1e1, prior="log-uniform"),
        "degree": SkInteger(1, 8),
        "kernel": SkCategorical(["linear", "poly", "rbf"]),
    }


@pytest.fixture(scope="module")
def iris_split():
    from sklearn.model_selection import train_test_split

    X, y = load_iris(return_X_y=True)
    return train_test_split(X, y, train_size=0.75, random_state=0)


def test_skopt_bad_spaces_are_refused_when_fit_starts(iris, recording):
    for space in ({"C": "1 ... 100.0"}, ["C", (1.0, 1)]):
        search = BayesSearchCV(recording(), space)  # scikit-optimize refuses here
        with pytest.raises((ValueError, TypeError)):
            search.fit(*iris)
    assert recording.fits == []
    # An empty space, which scikit-optimize refuses, is one candidate (the
    # estimator as given), as scikit-learn's searches make it.
    with pytest.warns(UserWarning, match="no new candidate left after 1"):
        search = BayesSearchCV(recording(), {}, cv=2).fit(*iris)
    ours = RandomizedSearchCV(recording(), {}, n_iter=50, cv=2)
    with pytest.warns(UserWarning, match="smaller than n_iter"):
        ours.fit(*iris)
    assert search.cv_results_["params"] == ours.cv_results_["params"] == [{}]


@pytest.mark.parametrize("base_estimator", ["gp", None])
@pytest.mark.parametrize("n_jobs", [1, -1])
@pytest.mark.parametrize("n_points", [1, 3])
def test_skopt_searchcv_runs(iris_split, base_estimator, n_jobs, n_points):
    X_train, X_test, y_train, y_test = iris_split
    kwargs = None if base_estimator is None else {"base_estimator": base_estimator}
    search = BayesSearchCV(SVC(), _svc_space(), n_jobs=n_jobs, n_iter=11, n_points=n_points,
                           optimizer_kwargs=kwargs).fit(X_train, y_train)  # fmt: skip
    assert search.score(X_test, y_test) > 0.9


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_skopt_parallel_cv_is_reproducible(n_jobs):
    from sklearn.datasets import make_classification

    SkReal, SkInteger, _ = _skopt_space()
    X, y = make_classification(n_samples=1000, n_features=20, n_redundant=0, n_informative=18,
                               random_state=1, n_clusters_per_class=1)  # fmt: skip
    space = {"C": SkReal(1e-3, 1e3, prior="log-uniform"),
             "gamma": SkReal(1e-3, 1e1, prior="log-uniform"), "degree": SkInteger(1, 3)}  # fmt: skip
    runs = [BayesSearchCV(SVC(), space, n_jobs=n_jobs, n_iter=11, cv=5, random_state=42).fit(X, y)
            for _ in range(2)]  # fmt: skip
    assert runs[0].score(X, y) > 0.9
    assert runs[0].score(X, y) == runs[1].score(X, y)


def _model_spaces():
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    SkReal, SkInteger, SkCategorical = _skopt_space()
    linear = {"model": SkCategorical([LinearSVC()]), "model__C": SkReal(1e-6, 1e6, prior="log-uniform")}
    tree = {"model": SkCategorical([DecisionTreeClassifier()]),
            "model__max_depth": SkInteger(1, 32),
            "model__min_samples_split": SkReal(1e-3, 1.0, prior="log-uniform")}  # fmt: skip
    svc = {"model": SkCategorical([SVC()]), **{f"model__{k}": v for k, v in _svc_space().items()}}
    return linear, tree, svc


def test_skopt_multiple_subspaces_are_all_explored(iris_split):
    from sklearn.pipeline import Pipeline
    from sklearn.svm import LinearSVC
    from sklearn.tree import DecisionTreeClassifier

    X_train, _, y_train, _ = iris_split
    linear, tree, svc = _model_spaces()
    search = BayesSearchCV(Pipeline([("model", SVC())]), [(linear, 1), (tree, 1), svc], n_iter=2)
    search.fit(X_train, y_train)
    assert len(search.cv_results_["mean_test_score"]) == 1 + 1 + 2
    assert len(search.optimizer_results_) == 3
    for result, cls in zip(search.optimizer_results_, (LinearSVC, DecisionTreeClassifier, SVC)):
        assert isinstance(result.x[0], cls)  # "model" sorts first


def test_skopt_clone_get_params_and_set_params(iris_split):
    from sklearn.base import clone
    from sklearn.pipeline import Pipeline

    X_train, _, y_train, _ = iris_split
    linear, tree, svc = _model_spaces()
    search = BayesSearchCV(Pipeline([("model", SVC())]), [(linear, 1), svc], n_iter=2)
    copy = clone(search)
    params, copied = search.get_params(), copy.get_params()
    assert params.keys() == copied.keys()
    assert all(isinstance(params[k], type(copied[k])) for k in params)
    search.set_params(search_spaces=[(tree, 1)])
    search.fit(X_train, y_train)
    copy.fit(X_train, y_train)
    assert len(search.cv_results_["mean_test_score"]) == 1
    assert len(copy.cv_results_["mean_test_score"]) == 1 + 2


def test_skopt_reproducibility_and_result_order(iris_split):
    from sklearn.base import clone

    X_train, _, y_train, _ = iris_split
    search = BayesSearchCV(SVC(random_state=42), _svc_space(), n_iter=11, random_state=42)
    search.fit(X_train, y_train)
    again = clone(search).fit(X_train, y_train)
    best = search.best_estimator_
    for name in ("C", "gamma", "degree", "kernel"):
        assert getattr(best, name) == getattr(again.best_estimator_, name)
    for result in (search.optimizer_results_[0], again.optimizer_results_[0]):
        # The parameters in the order of their names: C, degree, gamma, kernel.
        assert result.x == [best.C, best.degree, best.gamma, best.kernel]


def test_skopt_ranks_are_scikit_learns(iris_split):
    from scipy.stats import rankdata

    X_train, _, y_train, _ = iris_split
    search = BayesSearchCV(SVC(random_state=42), _svc_space(), n_iter=11, random_state=42,
                           return_train_score=True).fit(X_train, y_train)  # fmt: skip
    results = search.cv_results_
    expected = rankdata(-np.asarray(results["mean_test_score"]), method="min")
    np.testing.assert_array_equal(results["rank_test_score"], expected.astype(np.int32))
    # scikit-optimize's test also reads a rank_train_score, which scikit-learn's
    # searches do not make: cv_results_ keeps scikit-learn's columns.
    assert "mean_train_score" in results and "rank_train_score" not in results


def test_skopt_refit_over_an_assigned_best_estimator(iris_split):
    X_train, X_test, y_train, y_test = iris_split
    first = BayesSearchCV(SVC(random_state=42), _svc_space(), n_iter=11, random_state=42)
    second = BayesSearchCV(SVC(random_state=42), _svc_space(), n_iter=11, random_state=42,
                           refit=True)  # fmt: skip
    first.fit(X_train, y_train)
    second.best_estimator_ = first.best_estimator_
    second.fit(X_train, y_train)
    assert second.score(X_test, y_test) > 0.9


def test_skopt_callback_interrupts_and_the_model_is_refitted(iris):
    from sklearn.tree import DecisionTreeClassifier

    SkReal, _, _ = _skopt_space()
    calls = []

    def callback(result):
        calls.append(result)
        return len(calls) > 2

    search = BayesSearchCV(DecisionTreeClassifier(),
                           {"max_depth": [3], "min_samples_split": SkReal(0.1, 0.9)}, n_iter=5)  # fmt: skip
    search.fit(*iris, callback=callback)
    assert len(calls) == 3
    search.score(*iris)


def test_skopt_total_iterations_of_subspaces():
    from sklearn.tree import DecisionTreeClassifier

    search = BayesSearchCV(DecisionTreeClassifier(),
                           [({"max_depth": (1, 32)}, 10), {"min_samples_split": Real(0.1, 0.9)}],
                           n_iter=5)  # fmt: skip
    assert search.total_iterations == 10 + 5


def test_skopt_parameters_reach_the_estimator_as_python_types():
    from sklearn.base import BaseEstimator
    from sklearn.datasets import make_classification

    class TypeCheck(BaseEstimator):
        def __init__(self, float_param=0.0, int_param=0, str_param=""):
            self.float_param = float_param
            self.int_param = int_param
            self.str_param = str_param

        def fit(self, X, y):
            assert isinstance(self.float_param, float)
            assert isinstance(self.int_param, int)
            assert isinstance(self.str_param, str)
            return self

        def score(self, X, y):
            return self.float_param + self.int_param

    X, y = make_classification(10, 4, random_state=0)
    space = {"float_param": [0.0, 1.0], "int_param": [0, 10], "str_param": ["one", "two", "three"]}
    search = BayesSearchCV(TypeCheck(), space, n_iter=11, cv=2).fit(X, y)
    assert search.best_score_ == 11.0
