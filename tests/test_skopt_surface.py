"""scikit-optimize's BayesSearchCV surface: fit(callback=), total_iterations, optimizer_results_."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
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
