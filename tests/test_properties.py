"""Property-based tests of the space transforms and of every algorithm's proposals."""

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sk_hpo import Categorical, Integer, Real, SearchSpace
from sk_hpo._bayes import GPOptimizer
from sk_hpo._genetic import GeneticAlgorithm
from sk_hpo._optimizer import RandomSampler
from sk_hpo._tpe import TPE

finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False)
unit = st.floats(0.0, 1.0)


@st.composite
def reals(draw):
    prior = draw(st.sampled_from(["uniform", "log-uniform"]))
    if prior == "log-uniform":
        low = draw(st.floats(1e-8, 1e4))
        high = low * draw(st.floats(1.001, 1e6))
    else:
        low = draw(finite)
        high = low + draw(st.floats(1e-3, 1e6))
    return Real(low, high, prior)


@st.composite
def integers(draw):
    prior = draw(st.sampled_from(["uniform", "log-uniform"]))
    low = draw(st.integers(1 if prior == "log-uniform" else -1000, 1000))
    return Integer(low, low + draw(st.integers(1, 10_000)), prior)


categories = st.lists(
    st.one_of(st.integers(), st.text(max_size=5), st.none(), st.booleans(), st.tuples(st.integers())),
    min_size=1,
    max_size=8,
    unique_by=repr,
).filter(lambda values: len({(type(v), v) for v in values}) == len(values))
categoricals = categories.map(Categorical)
dimensions = st.one_of(reals(), integers(), categoricals)


@given(reals(), st.lists(unit, min_size=1, max_size=20))
def test_real_values_stay_in_bounds_and_round_trip(dim, us):
    values = dim.from_unit(np.array(us))
    assert np.all((values >= dim.low) & (values <= dim.high))
    back = dim.to_unit(values)
    assert np.all((back >= 0) & (back <= 1))
    np.testing.assert_allclose(dim.from_unit(back), values, rtol=1e-9, atol=1e-9 * (dim.high - dim.low))


@given(integers(), st.lists(unit, min_size=1, max_size=20))
def test_integers_are_integers_in_bounds_and_round_trip_exactly(dim, us):
    values = dim.from_unit(np.array(us))
    assert values.dtype.kind == "i"
    assert np.all((values >= dim.low) & (values <= dim.high))
    np.testing.assert_array_equal(dim.from_unit(dim.to_unit(values)), values)


@given(integers(), st.data())
def test_every_integer_of_the_range_round_trips(dim, data):
    value = data.draw(st.integers(dim.low, dim.high))
    assert int(dim.from_unit(dim.to_unit(value))) == value


@given(categoricals, st.data())
def test_categories_round_trip_exactly(dim, data):
    value = data.draw(st.sampled_from(dim.categories))
    decoded = dim.from_unit(dim.to_unit(value))
    assert decoded is value or (type(decoded), decoded) == (type(value), value)


@given(dimensions, st.integers(0, 2**32 - 1))
def test_sampled_values_are_members_of_the_dimension(dim, seed):
    values = dim.rvs(30, np.random.default_rng(seed))
    for value in values:
        if isinstance(dim, Categorical):
            assert dim.categories[dim.index(value)] is value
        else:
            assert dim.low <= value <= dim.high


spaces = st.lists(
    st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), dimensions, min_size=1, max_size=4),
    min_size=1,
    max_size=3,
)

OPTIMIZERS = {
    "random": lambda space, seed: RandomSampler(space, seed),
    "tpe": lambda space, seed: TPE(space, seed, n_startup_trials=3),
    "bayes": lambda space, seed: GPOptimizer(space, seed, n_initial_points=3, n_candidates=50),
    "genetic": lambda space, seed: GeneticAlgorithm(space, seed, population_size=3),
}


def assert_member(space, point):
    assert 0 <= point.branch < space.n_branches
    branch = space.branches[point.branch]
    assert len(point.x) == branch.n_dims
    params = space.to_params(space.canonical(point))
    assert list(params) == branch.names
    for name, dim in zip(branch.names, branch.dimensions):
        value = params[name]
        if isinstance(dim, Categorical):
            dim.index(value)  # raises if not a category
        else:
            assert dim.low <= value <= dim.high
            if isinstance(dim, Integer):
                assert isinstance(value, int)
    again = space.to_point(params)  # raises if params are not a point of the space
    assert space.branches[again.branch].names == branch.names


@pytest.mark.parametrize("name", list(OPTIMIZERS))
@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(spaces, st.integers(0, 2**31 - 1), st.lists(st.one_of(finite, st.just(math.inf)), min_size=8, max_size=8))
def test_every_algorithm_proposes_members_of_the_space(name, specs, seed, losses):
    space = SearchSpace(specs)
    optimizer = OPTIMIZERS[name](space, seed)
    for i in range(0, len(losses), 2):
        points = optimizer.ask(2)
        assert len(points) == 2
        for point in points:
            assert_member(space, point)
        optimizer.tell(points, losses[i : i + 2])
