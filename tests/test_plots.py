"""sk_hpo.plots renders for every kind of search, ours and scikit-learn's."""

import numpy as np
import pytest

matplotlib = pytest.importorskip("matplotlib")
import matplotlib.image  # noqa: E402
matplotlib.use("Agg")

from sklearn.datasets import load_iris
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import GridSearchCV, HalvingRandomSearchCV, KFold
from sklearn.svm import SVC

from sk_hpo import (
    BayesSearchCV,
    Categorical,
    GeneticSearchCV,
    Integer,
    Real,
    TPESearchCV,
)
from sk_hpo.plots import plot_convergence, plot_importance, plot_pair, plot_parameters
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

SPACE = {"C": Real(1e-2, 1e2, "log-uniform"), "gamma": Real(1e-3, 1e1, "log-uniform"),
         "kernel": Categorical(["rbf", "sigmoid"]), "degree": Integer(1, 4)}  # fmt: skip


def _fitted():
    X, y = load_iris(return_X_y=True)
    common = {"n_iter": 10, "cv": 3, "random_state": 0}
    return {
        "tpe": TPESearchCV(SVC(), SPACE, **common).fit(X, y),
        "bayes": BayesSearchCV(SVC(), SPACE, **common).fit(X, y),
        "genetic": GeneticSearchCV(SVC(), SPACE, population_size=5, **common).fit(X, y),
        "grid": GridSearchCV(SVC(), {"C": [0.1, 1, 10, 100], "kernel": ["rbf", "linear"]}, cv=3).fit(X, y),
        "halving": HalvingRandomSearchCV(
            SVC(), {"C": list(np.logspace(-2, 2, 9)), "kernel": ["rbf", "linear"]},
            n_candidates=9, cv=3, random_state=0, min_resources=30,
        ).fit(X, y),
    }


@pytest.fixture(scope="module")
def fitted():
    return _fitted()


@pytest.mark.parametrize("kind", ["tpe", "bayes", "genetic", "grid", "halving"])
def test_every_plot_renders_a_png(fitted, kind, tmp_path):
    search = fitted[kind]
    ax = plot_convergence(search)
    fig = plot_parameters(search)
    ax_pair = plot_pair(search, "C", "kernel")
    ax_imp = plot_importance(search)
    for i, figure in enumerate([ax.figure, fig, ax_pair.figure, ax_imp.figure]):
        path = tmp_path / f"{kind}_{i}.png"
        figure.savefig(path)
        # Something drawn, not an empty canvas (a PNG's byte size depends on
        # the libraries that compress it, so the pixels are counted instead).
        pixels = matplotlib.image.imread(path)[..., :3]
        assert np.mean(np.any(pixels < 0.9, axis=-1)) > 0.01, path.name
    matplotlib.pyplot.close("all")


def test_plot_pair_without_names_shows_the_two_most_important_parameters():
    # The score depends on x0 and x1 (Branin); x2 and x3 are searched but unused.
    from sk_hpo import RandomSearchCV
    from sk_hpo.testing import FunctionEstimator, dummy_data

    space = {"x0": Real(-5, 10), "x1": Real(0, 15), "x2": Real(0, 1), "x3": Real(0, 1)}
    search = RandomSearchCV(FunctionEstimator("branin"), space, n_iter=40, cv=2,
                            random_state=0).fit(*dummy_data())  # fmt: skip
    ax = plot_pair(search)
    assert {ax.get_xlabel(), ax.get_ylabel()} == {"x0", "x1"}
    ax = plot_pair(search, y="x3")  # one given: the other is the most important one
    assert ax.get_ylabel() == "x3" and ax.get_xlabel() in ("x0", "x1")
    matplotlib.pyplot.close("all")


def test_convergence_overlays_searches_and_draws_the_best_so_far(fitted):
    ax = plot_convergence(fitted["tpe"], fitted["bayes"], labels=["TPE", "GP"])
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["TPE", "GP"]
    y = ax.lines[0].get_ydata()
    scores = fitted["tpe"].cv_results_["mean_test_score"]
    np.testing.assert_allclose(y, np.maximum.accumulate(scores))
    matplotlib.pyplot.close("all")


def test_log_parameters_get_log_axes_and_categories_groups(fitted):
    fig = plot_parameters(fitted["tpe"], names=["C", "kernel", "degree"])
    c_ax, kernel_ax, degree_ax = fig.axes[:3]
    assert c_ax.get_xscale() == "log" and degree_ax.get_xscale() == "linear"
    assert [t.get_text() for t in kernel_ax.get_xticklabels()] == ["rbf", "sigmoid"]
    matplotlib.pyplot.close("all")


def test_importance_finds_the_parameter_that_matters():
    problem = FUNCTIONS["branin"]
    space = {**problem.search_space, "x2": Real(0, 1)}  # x2 does not enter branin
    search = TPESearchCV(FunctionEstimator("branin"), space, n_iter=40, cv=KFold(2),
                         random_state=0).fit(*dummy_data())  # fmt: skip
    ax = plot_importance(search)
    labels = [t.get_text() for t in ax.get_yticklabels()]
    importance = dict(zip(labels, [bar.get_width() for bar in ax.patches]))
    assert set(importance) == {"x0", "x1", "x2"}
    assert importance["x2"] < min(importance["x0"], importance["x1"])
    assert sum(importance.values()) == pytest.approx(1.0)
    matplotlib.pyplot.close("all")


def test_bad_inputs_are_named():
    with pytest.raises(ValueError, match="needs a fitted search"):
        plot_convergence(TPESearchCV(SVC(), SPACE))
    search = _fitted()["tpe"]
    with pytest.raises(ValueError, match=r"unknown parameter 'c'; the search has"):
        plot_pair(search, "c", "kernel")
    with pytest.raises(ValueError, match=r"metric='f1' is not in cv_results_"):
        plot_convergence(search, metric="f1")
