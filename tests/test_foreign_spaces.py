"""scikit-optimize's dimensions and Optuna's distributions in any search's space."""

import numpy as np
import pytest
from sklearn.datasets import load_iris
from sklearn.svm import SVC

from sk_hpo import (
    BayesSearchCV,
    Categorical,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo._space import to_dimension
from sk_hpo.testing import FunctionEstimator, dummy_data

SEARCHES = [BayesSearchCV, TPESearchCV, GeneticSearchCV, RandomSearchCV]


def test_skopt_dimensions_read_as_ours():
    space = pytest.importorskip("skopt.space")
    assert to_dimension("C", space.Real(1e-6, 1e6, prior="log-uniform", base=2)) == Real(
        1e-6, 1e6, prior="log-uniform")
    assert to_dimension("n", space.Integer(1, 50)) == Integer(1, 50)
    assert to_dimension("n", space.Integer(2, 64, prior="log-uniform")) == Integer(
        2, 64, prior="log-uniform")
    categorical = to_dimension("k", space.Categorical(["a", "b", "c"], prior=[0.2, 0.3, 0.5]))
    assert categorical == Categorical(["a", "b", "c"]) and list(categorical.prior) == [0.2, 0.3, 0.5]


def test_optuna_distributions_read_as_ours():
    distributions = pytest.importorskip("optuna.distributions")
    read = {
        "lr": to_dimension("lr", distributions.FloatDistribution(1e-4, 1e-1, log=True)),
        "rate": to_dimension("rate", distributions.FloatDistribution(0.0, 0.5, step=0.1)),
        "units": to_dimension("units", distributions.IntDistribution(32, 256, step=32)),
        "depth": to_dimension("depth", distributions.IntDistribution(1, 64, log=True)),
        "act": to_dimension("act", distributions.CategoricalDistribution(["relu", None, 3])),
    }
    assert read["lr"] == Real(1e-4, 1e-1, prior="log-uniform")
    assert read["rate"] == Real(0.0, 0.5, step=0.1)
    assert read["units"] == Integer(32, 256, step=32)
    assert read["depth"] == Integer(1, 64, prior="log-uniform")
    assert read["act"] == Categorical(["relu", None, 3])


def test_bad_foreign_objects_are_refused_naming_the_parameter():
    space = pytest.importorskip("skopt.space")
    with pytest.raises(ValueError, match="parameter 's': scikit-optimize's Space is not a dimension"):
        to_dimension("s", space.Space([space.Real(0, 1)]))
    # scikit-optimize refuses this one itself; one made by hand reaches our checks.
    fake = _Fake("skopt.space.space", "Real", low=0.0, high=1.0, prior="log-uniform")
    with pytest.raises(ValueError, match="parameter 'C': .*log-uniform.*low > 0"):
        to_dimension("C", fake)
    fake = _Fake("optuna.distributions", "BogusDistribution")
    with pytest.raises(ValueError, match="parameter 'b': Optuna's BogusDistribution is not"):
        to_dimension("b", fake)


class _Fake:
    """An object of another library's class, by module and name."""

    def __init__(self, module, name, **attributes):
        self.__class__ = type(name, (_Fake,), {"__module__": module})
        vars(self).update(attributes)


@pytest.mark.parametrize("cls", SEARCHES)
def test_every_search_searches_an_optuna_space(cls):
    distributions = pytest.importorskip("optuna.distributions")
    space = {
        "x0": distributions.FloatDistribution(1e-3, 1e3, log=True),
        "n0": distributions.IntDistribution(1, 49, step=3),
        "c0": distributions.CategoricalDistribution(["a", "b", "c", "d"]),
    }
    search = cls(FunctionEstimator("mixed"), space, n_iter=24, cv=2, random_state=0)
    search.fit(*dummy_data())
    params = search.cv_results_["params"]
    assert len(params) == 24
    assert all(1e-3 <= p["x0"] <= 1e3 and (p["n0"] - 1) % 3 == 0 and p["c0"] in "abcd" for p in params)
    # The optimum on this grid: x0 = 10 ** 1.5, n0 = 16 (or 19), c0 = "b", a
    # score of -0.01, which the Gaussian process finds within the budget.
    assert np.isfinite(search.best_score_)
    if cls is BayesSearchCV:
        assert search.best_score_ == pytest.approx(-0.01, abs=1e-3)
        assert search.best_params_["n0"] in (16, 19) and search.best_params_["c0"] == "b"


@pytest.mark.parametrize("cls", SEARCHES)
def test_every_search_searches_a_skopt_space_on_real_data(cls):
    space = pytest.importorskip("skopt.space")
    X, y = load_iris(return_X_y=True)
    search = cls(SVC(), {"C": space.Real(1e-2, 1e2, prior="log-uniform"),
                         "kernel": space.Categorical(["rbf", "linear"])},
                 n_iter=8, cv=3, random_state=0)  # fmt: skip
    search.fit(X, y)
    assert len(search.cv_results_["params"]) == 8 and search.best_score_ > 0.9


def test_a_real_step_keeps_candidates_on_the_grid():
    rate = Real(0.0, 0.5, step=0.1).check()
    values = rate.from_unit(np.linspace(0, 1, 101))
    assert set(np.round(values, 12)) == {0.0, 0.1, 0.2, 0.3, 0.4, 0.5}
    for bad, message in ((0.0, "step must be a number"), (0.7, "step must be a number")):
        with pytest.raises(ValueError, match=message):
            Real(0.0, 0.5, step=bad).check()
    with pytest.raises(ValueError, match="a step needs prior='uniform'"):
        Real(1e-3, 1.0, prior="log-uniform", step=0.1).check()
