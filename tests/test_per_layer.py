"""Per-layer parameters (``PerLayer``) and stepped integers, without Keras."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, RegressorMixin

from sk_hpo import (
    BayesSearchCV,
    GeneticSearchCV,
    Integer,
    PerLayer,
    RandomSearchCV,
    Real,
    SearchSpace,
    TPESearchCV,
)
from sk_hpo._bayes import GPOptimizer
from sk_hpo._genetic import GeneticAlgorithm
from sk_hpo._optimizer import RandomSampler
from sk_hpo._search_space import Point
from sk_hpo._tpe import TPE
from sk_hpo.testing import dummy_data, minimise

SPACE = {
    "n_layers": Integer(1, 4),
    "units": PerLayer(Integer(8, 128, step=8)),
    "dropout": PerLayer(Real(0.0, 0.5)),
}
TARGET = (96, 32, 16, 8)


def network_loss(params):
    """A stand-in for a network's validation loss: best with 3 layers of 96, 32, 16."""
    n = params["n_layers"]
    loss = 0.5 * abs(n - 3)
    for i in range(n):
        loss += ((params[f"units_{i}"] - TARGET[i]) / 64) ** 2
        loss += (params[f"dropout_{i}"] - 0.1 * i) ** 2
    return loss


class LayeredModel(RegressorMixin, BaseEstimator):
    """Takes ``units_i`` / ``dropout_i`` as a Keras builder does; scores ``-network_loss``."""

    def __init__(self, n_layers=1, **layers):
        self.n_layers = n_layers
        for name, value in layers.items():
            setattr(self, name, value)

    def get_params(self, deep=True):
        return {k: v for k, v in vars(self).items() if not k.endswith("_") or k[:-1].isdigit()}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, X, y=None):
        self.layers_ = [k for k in vars(self) if k.startswith("units_")]
        return self

    def score(self, X, y=None):
        return -network_loss(self.get_params())


def test_per_layer_expands_into_one_conditional_parameter_per_layer():
    space = SearchSpace(SPACE)
    branch = space.branches[0]
    assert branch.names == [
        "dropout_0", "dropout_1", "dropout_2", "dropout_3", "n_layers",
        "units_0", "units_1", "units_2", "units_3",
    ]  # fmt: skip
    # Layer 0 always exists (at least one layer); layer i needs i + 1 layers.
    assert branch.conditions[0] is None and branch.conditions[5] is None
    assert branch.conditions[6] == (4, 2) and branch.conditions[8] == (4, 4)
    seen = set()
    for point in space.sample(200, np.random.default_rng(0)):
        params = space.to_params(point)
        n = params["n_layers"]
        seen.add(n)
        assert sorted(k for k in params if k.startswith("units_")) == [
            f"units_{i}" for i in range(n)
        ]
        assert all(params[f"units_{i}"] % 8 == 0 for i in range(n))
        back = space.to_point(params)
        assert space.key(back) == space.key(point) and space.to_params(back) == params
    assert seen == {1, 2, 3, 4}


def test_a_candidate_is_its_active_values_only():
    space = SearchSpace(SPACE)
    one_layer = space.to_point({"n_layers": 1, "units_0": 64, "dropout_0": 0.2})
    x = one_layer.x.copy()
    x[[1, 2, 6, 7]] = [0.9, 0.1, 0.3, 0.7]  # dormant values of layers 1 and 2
    other = space.canonical(Point(0, x))
    assert space.key(other) == space.key(one_layer)
    assert space.to_params(other) == {"n_layers": 1, "units_0": 64, "dropout_0": 0.2}
    # 1 + 16 + 16**2 + ... candidates per dropout-free count: finite only without Reals.
    assert SearchSpace({"n_layers": [0, 2], "units": PerLayer([8, 16])}).size == 1 + 4


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_layers": 1, "units_0": 64, "dropout_0": 0.2, "units_1": 32}, "not a point"),
        ({"n_layers": 2, "units_0": 64, "dropout_0": 0.2}, "not a point"),
        ({"n_layers": 1, "units_0": 60, "dropout_0": 0.2}, "steps"),
    ],
)
def test_a_parameter_dict_must_have_exactly_its_layers(params, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace(SPACE).to_point(params)


@pytest.mark.parametrize(
    ("space", "message"),
    [
        ({"units": PerLayer(Integer(8, 64))}, "no parameter 'n_layers'"),
        ({"model__depth": Integer(1, 3), "model__units": PerLayer(Integer(8, 64))},
         "no parameter 'model__n_layers'"),
        ({"n_layers": Real(1, 3), "units": PerLayer(Integer(8, 64))}, "must be an Integer"),
        ({"n_layers": [1, 2], "units": PerLayer(Integer(8, 64)), "units_1": [3]},
         "also gives on its own"),
        ({"n_layers": [1, 2], "units": PerLayer(Integer(64, 8))}, "'units_0'.*low must be < high"),
    ],
)
def test_per_layer_mistakes_name_the_parameter(space, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace(space)


def test_count_can_be_named_and_can_allow_no_layer():
    space = SearchSpace({"model__depth": [0, 1, 2], "model__width": PerLayer([8, 16], count="model__depth")})
    names = {tuple(sorted(space.to_params(p))) for p in space.sample(60, np.random.default_rng(1))}
    assert names == {
        ("model__depth",),
        ("model__depth", "model__width_0"),
        ("model__depth", "model__width_0", "model__width_1"),
    }


def test_integer_step():
    units = Integer(32, 512, step=32)
    assert units.n_levels == 16
    values = units.from_unit(np.linspace(0, 1, 1001))
    assert set(values.tolist()) == set(range(32, 513, 32))
    assert np.array_equal(units.from_unit(units.to_unit(np.arange(32, 513, 32))), np.arange(32, 513, 32))
    # Each value owns an equal share of the unit interval.
    counts = np.bincount((values - 32) // 32)
    assert counts.min() >= 62 and counts.max() <= 64
    assert Integer(0, 10, step=4).n_levels == 3  # 0, 4, 8
    for bad, message in [
        (Integer(1, 10, step=0), "step must be a positive integer"),
        (Integer(1, 10, step=20), "at most high - low"),
        (Integer(1, 100, prior="log-uniform", step=2), "needs prior='uniform'"),
    ]:
        with pytest.raises(ValueError, match=message):
            bad.check()


@pytest.mark.parametrize("make", [
    lambda space: TPE(space, 0, n_startup_trials=8),
    lambda space: GPOptimizer(space, 0, n_initial_points=8),
])  # fmt: skip
def test_models_ignore_the_values_of_absent_layers(make):
    # The same candidates told with different dormant coordinates give the
    # same next proposal: an absent layer's value is not data to the model.
    space = SearchSpace(SPACE)
    rng = np.random.default_rng(0)
    points = space.sample(12, rng)
    losses = [network_loss(space.to_params(p)) for p in points]
    scrambled = []
    for point in points:
        active = space.branches[0].active(point.x)[0]
        x = np.where(active, point.x, rng.random(len(point.x)))
        scrambled.append(space.canonical(Point(0, x)))
    assert [space.key(p) for p in scrambled] == [space.key(p) for p in points]
    asked = []
    for told in (points, scrambled):
        optimizer = make(space)
        optimizer.tell(told, losses)
        asked.append([space.key(p) for p in optimizer.ask(3)])
    assert asked[0] == asked[1]


def test_genetic_forced_mutation_moves_a_gene_the_child_uses():
    space = SearchSpace(SPACE)
    ga = GeneticAlgorithm(space, 0, population_size=4, mutation_probability=1e-9)
    parent = space.to_point({"n_layers": 1, "units_0": 64, "dropout_0": 0.2})
    active = space.branches[0].active(parent.x)[0]
    for _ in range(50):
        _, child = ga._mutate(0, parent.x.copy(), force=True)
        moved = child != parent.x
        assert moved.sum() == 1 and moved[active].any()


@pytest.mark.parametrize("algorithm", [
    (lambda space, seed: TPE(space, seed), 48, 1),
    (lambda space, seed: GPOptimizer(space, seed), 48, 1),
    (lambda space, seed: GeneticAlgorithm(space, seed, population_size=8), 96, 8),
])  # fmt: skip
def test_searches_find_the_best_architecture_better_than_random(algorithm):
    make, budget, batch = algorithm
    space = SearchSpace(SPACE)
    ours, random = [], []
    for seed in range(6):
        ours.append(minimise(make(space, seed), network_loss, budget, batch).min())
        random.append(minimise(RandomSampler(space, seed), network_loss, budget).min())
    assert np.mean(ours) < 0.7 * np.mean(random), (ours, random)


@pytest.mark.parametrize("search", [RandomSearchCV, TPESearchCV, BayesSearchCV, GeneticSearchCV])
def test_cv_results_mask_the_layers_a_candidate_lacks(search):
    X, y = dummy_data(6)
    kwargs = {"population_size": 6} if search is GeneticSearchCV else {}
    result = search(LayeredModel(), SPACE, n_iter=12, cv=2, random_state=0, **kwargs).fit(X, y)
    results = result.cv_results_
    layers = np.asarray(results["param_n_layers"])
    for i in range(4):
        column = results[f"param_units_{i}"]
        assert np.array_equal(np.ma.getmaskarray(column), layers <= i)
    for params, n in zip(results["params"], layers):
        assert set(params) == {"n_layers"} | {f"{p}_{i}" for p in ("units", "dropout") for i in range(n)}
    assert result.best_estimator_.get_params()["n_layers"] == result.best_params_["n_layers"]
    np.testing.assert_allclose(result.best_score_, -network_loss(result.best_params_))


def test_a_per_layer_study_resumes_and_a_changed_count_is_another_space(tmp_path):
    X, y = dummy_data(6)
    path = tmp_path / "layers.db"
    first = TPESearchCV(LayeredModel(), SPACE, n_iter=8, cv=2, random_state=0, storage=path).fit(X, y)
    again = TPESearchCV(LayeredModel(), SPACE, n_iter=12, cv=2, random_state=0, storage=path).fit(X, y)
    assert again.cv_results_["params"][:8] == first.cv_results_["params"]
    whole = TPESearchCV(LayeredModel(), SPACE, n_iter=12, cv=2, random_state=0).fit(X, y)
    assert again.cv_results_["params"] == whole.cv_results_["params"]
    other = {**SPACE, "n_layers": Integer(1, 3)}
    with pytest.raises(ValueError, match="search space"):
        TPESearchCV(LayeredModel(), other, n_iter=12, cv=2, storage=path).fit(X, y)
