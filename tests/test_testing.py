import numpy as np
import pytest

from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

KNOWN_MINIMA = {
    "branin": {"x0": np.pi, "x1": 2.275},
    "hartmann6": dict(zip([f"x{i}" for i in range(6)],
                          [0.20169, 0.150011, 0.476874, 0.275332, 0.311652, 0.6573])),
    "rosenbrock10": {f"x{i}": 1.0 for i in range(10)},
    "levy10": {f"x{i}": 1.0 for i in range(10)},
    "mixed": {"x0": 10**1.5, "n0": 17, "c0": "b"},
}


@pytest.mark.parametrize("name", sorted(FUNCTIONS))
def test_functions_reach_their_stated_optimum_and_not_below(name):
    problem = FUNCTIONS[name]
    assert problem(KNOWN_MINIMA[name]) == pytest.approx(problem.optimum, abs=1e-4)
    from sk_hpo import SearchSpace

    space = SearchSpace(problem.search_space)
    rng = np.random.default_rng(0)
    values = [problem(space.to_params(p)) for p in space.sample(2000, rng)]
    assert min(values) >= problem.optimum - 1e-9


def test_function_estimator_scores_minus_the_function():
    X, y = dummy_data()
    est = FunctionEstimator("mixed", **KNOWN_MINIMA["mixed"]).fit(X, y)
    assert est.score(X, y) == pytest.approx(0.0)
    est.set_params(c0="d")
    assert est.score(X, y) == pytest.approx(-2.0)
