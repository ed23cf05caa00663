"""scikit-optimize's sub-spaces: ``search_spaces=[(space_a, n_a), space_b]``."""

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, Real, TPESearchCV
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

SVC_SPACE = {"model": [SVC()], "model__C": Real(1e-3, 1e3, prior="log-uniform")}
LR_SPACE = {"model": [LogisticRegression(max_iter=500)], "model__C": Real(1e-3, 1e3, prior="log-uniform")}
# Branin on two halves of its domain: its three minima lie at x0 = -pi, pi and 9.42.
LEFT = {"x0": Real(-5, 0), "x1": Real(0, 15)}
RIGHT = {"x0": Real(0, 10), "x1": Real(0, 15)}


@pytest.mark.parametrize("cls", [BayesSearchCV, TPESearchCV, RandomSearchCV])
def test_each_subspace_gets_its_count_in_turn(cls, iris):
    pipe = Pipeline([("model", SVC())])
    search = cls(pipe, [(SVC_SPACE, 6), LR_SPACE], n_iter=4, cv=3, n_points=4, random_state=0)
    assert search.total_iterations == 10  # 6, then n_iter for the entry that gives none
    search.fit(*iris)
    models = [type(p["model"]).__name__ for p in search.cv_results_["params"]]
    assert models == ["SVC"] * 6 + ["LogisticRegression"] * 4  # a batch never spans two
    first, second = search.optimizer_results_
    assert len(first.x_iters) == 6 and len(second.x_iters) == 4
    np.testing.assert_array_equal(
        np.concatenate([first.func_vals, second.func_vals]),
        -search.cv_results_["mean_test_score"],
    )
    assert search.best_score_ == max(-first.fun, -second.fun)


@pytest.mark.parametrize("cls", [BayesSearchCV, TPESearchCV])
def test_each_subspace_is_searched_by_a_model_of_its_own(cls):
    X, y = dummy_data()
    spaces = [(LEFT, 30), (RIGHT, 30)]
    search = cls(FunctionEstimator("branin"), spaces, cv=2, random_state=0).fit(X, y)
    left, right = search.optimizer_results_
    assert all(x0 <= 0 for x0, _ in left.x_iters) and all(x0 >= 0 for x0, _ in right.x_iters)
    # Both halves hold a minimum of 0.3979 (Branin spans 0.4 to 308 there);
    # each sub-search gets near its own.
    assert left.fun < 0.3979 + 0.5 and right.fun < 0.3979 + 0.5
    again = cls(FunctionEstimator("branin"), spaces, cv=2, random_state=0).fit(X, y)
    assert again.cv_results_["params"] == search.cv_results_["params"]


def test_a_stopped_search_resumes_each_subspace_where_it_stopped(tmp_path):
    X, y = dummy_data()
    spaces, path = [(LEFT, 5), (RIGHT, 3)], tmp_path / "study.db"
    whole = TPESearchCV(FunctionEstimator("branin"), spaces, cv=2, n_points=2, random_state=0)
    whole.fit(X, y)
    first = TPESearchCV(FunctionEstimator("branin"), spaces, cv=2, n_points=2, random_state=0,
                        storage=path)  # fmt: skip
    first.fit(X, y, callback=lambda result: len(result.x_iters) >= 4)
    assert len(first.cv_results_["params"]) == 4
    resumed = TPESearchCV(FunctionEstimator("branin"), spaces, cv=2, n_points=2, random_state=0,
                          storage=path).fit(X, y)  # fmt: skip
    assert resumed.n_resumed_ == 4
    assert resumed.cv_results_["params"] == whole.cv_results_["params"]


def test_skopt_plot_convergence_draws_each_subspace(iris):
    pytest.importorskip("matplotlib")
    plots = pytest.importorskip("skopt.plots")
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    pipe = Pipeline([("model", SVC())])
    search = RandomSearchCV(pipe, [(SVC_SPACE, 3), (LR_SPACE, 2)], cv=2, random_state=0).fit(*iris)
    _, ax = plt.subplots()
    plots.plot_convergence(*search.optimizer_results_, ax=ax)
    drawn = [list(line.get_ydata()) for line in ax.lines]
    assert [len(y) for y in drawn] == [3, 2]
    plt.close("all")


@pytest.mark.parametrize(
    "spaces, message",
    [
        ([(LEFT, 0), RIGHT], r"search_spaces\[0\]\[1\] \(the sub-space's n_iter\) must be a positive int, got 0"),
        ([(LEFT, 2.5), RIGHT], r"search_spaces\[0\]\[1\] .* got 2.5"),
        ([(LEFT, 3), [RIGHT]], r"search_spaces\[1\] must be a dict or a \(dict, n_iter\) pair, got \[\{"),
        ([(LEFT, 3, 1)], r"search_spaces\[0\] must be a dict or a \(dict, n_iter\) pair, got a tuple of 3"),
    ],
)
def test_a_bad_subspace_is_refused_before_any_fit(spaces, message, recording):
    with pytest.raises(ValueError, match=message):
        BayesSearchCV(recording(), spaces).fit(*dummy_data())
    assert recording.fits == []


def test_searches_with_a_schedule_of_their_own_refuse_subspaces(recording):
    X, y = dummy_data()
    for search in (GeneticSearchCV(recording(), [(LEFT, 4), RIGHT]),
                   TPESearchCV(FunctionEstimator("branin", n_steps=9), [(LEFT, 4), RIGHT],
                               resource="n_steps", max_resources=9)):  # fmt: skip
        with pytest.raises(ValueError, match="cannot search scikit-optimize's \\(space, n_iter\\)"):
            search.fit(X, y)
    assert recording.fits == []
    # A list of dicts alone stays one conditional space: n_iter candidates in all.
    one = TPESearchCV(FunctionEstimator("branin"), [LEFT, RIGHT], n_iter=6, cv=2, random_state=0)
    assert one.total_iterations == 6
    assert len(one.fit(X, y).optimizer_results_) == 1
    assert FUNCTIONS["branin"].optimum == pytest.approx(0.397887, abs=1e-6)
