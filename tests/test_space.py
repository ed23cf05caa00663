import numpy as np
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.svm import SVC

from sk_hpo import Categorical, Distribution, Integer, Real, SearchSpace
from sk_hpo._search_space import Point
from sk_hpo._space import to_dimension


def test_real_maps_bounds_and_log_midpoint():
    dim = Real(1e-3, 1e3, prior="log-uniform")
    np.testing.assert_allclose(dim.to_unit([1e-3, 1.0, 1e3]), [0.0, 0.5, 1.0])
    np.testing.assert_allclose(dim.from_unit([0.0, 0.5, 1.0]), [1e-3, 1.0, 1e3])
    values = np.array([0.25, 3.0, 999.0])
    np.testing.assert_allclose(dim.from_unit(dim.to_unit(values)), values)
    assert Real(-2, 2).from_unit(1.5) == 2.0  # clipped into the bounds


@pytest.mark.parametrize("prior", ["uniform", "log-uniform"])
def test_integer_round_trips_exactly_and_gives_each_value_its_share(prior):
    dim = Integer(1, 12, prior=prior)
    values = np.arange(1, 13)
    assert dim.from_unit(dim.to_unit(values)).tolist() == values.tolist()
    counts = np.bincount(dim.rvs(60_000, np.random.default_rng(0)), minlength=13)[1:]
    if prior == "uniform":
        expected = np.full(12, 1 / 12)
    else:
        edges = np.log(np.arange(0.5, 13.0))
        expected = np.diff(edges) / (edges[-1] - edges[0])
    np.testing.assert_allclose(counts / counts.sum(), expected, atol=0.01)


def test_categorical_round_trips_arbitrary_objects():
    svc = SVC()
    categories = ["a", None, (64, 32), svc, 3, 2.5, True]
    dim = Categorical(categories)
    decoded = dim.from_unit(dim.to_unit(categories))
    assert decoded[3] is svc
    assert list(decoded) == categories
    assert [type(v) for v in decoded] == [type(v) for v in categories]
    assert dim.from_unit(dim.to_unit((64, 32))) == (64, 32)
    with pytest.raises(ValueError, match="'z' is not one of the categories"):
        dim.to_unit("z")


def test_categorical_prior_weights_sampling():
    dim = Categorical(["a", "b"], prior=[0.9, 0.1])
    draws = dim.rvs(10_000, np.random.default_rng(0))
    assert 0.88 < np.mean(draws == "a") < 0.92


@pytest.mark.parametrize(
    "spec, expected",
    [
        ([1, 2, 3], Categorical([1, 2, 3])),
        (("rbf", "linear"), Categorical(["rbf", "linear"])),
        (np.array([0.1, 0.2]), Categorical([0.1, 0.2])),
        ((1e-3, 1e3, "log-uniform"), Real(1e-3, 1e3, prior="log-uniform")),
        ((1, 100, "log-uniform"), Integer(1, 100, prior="log-uniform")),
        ((0.0, 1, "uniform"), Real(0.0, 1)),
        (stats.uniform(1, 2), Real(1.0, 3.0)),
        (stats.loguniform(1e-3, 1e2), Real(1e-3, 1e2, prior="log-uniform")),
        (stats.reciprocal(1e-3, 1e2), Real(1e-3, 1e2, prior="log-uniform")),
        (stats.randint(1, 5), Integer(1, 4)),
        (stats.randint(0, 10, loc=5), Integer(5, 14)),
    ],
)
def test_user_forms_convert_to_the_matching_dimension(spec, expected):
    dim = to_dimension("p", spec)
    assert dim == expected
    assert dim.name == "p"


def test_continuous_scipy_distribution_keeps_its_law():
    dist = stats.expon(scale=100)
    dim = to_dimension("C", dist)
    assert isinstance(dim, Distribution)
    draws = dim.rvs(5000, np.random.default_rng(0))
    assert stats.kstest(draws, dist.cdf).pvalue > 0.01
    np.testing.assert_allclose(dim.from_unit(dim.to_unit([1.0, 50.0])), [1.0, 50.0])


def test_shared_dimension_object_is_not_renamed():
    shared = Real(0, 1)
    a, b = to_dimension("a", shared), to_dimension("b", shared)
    assert (a.name, b.name, shared.name) == ("a", "b", None)


@pytest.mark.parametrize(
    "spec, message",
    [
        ((5, 1, "uniform"), "low must be < high"),
        ((0.0, 1.0, "log-uniform"), "log-uniform' needs low > 0"),
        ((0, 10, "log-uniform"), "log-uniform' needs low >= 1"),
        ([], "categories must not be empty"),
        (stats.poisson(3), "the distribution 'poisson' is not supported"),
        ("rbf", "is not a search dimension"),
        (3.0, "3.0 is not a search dimension"),
        ((1, 2, "loguniform"), None),  # not a prior name: a categorical of 3 values
    ],
)
def test_bad_dimensions_name_the_parameter_and_value(spec, message):
    if message is None:
        assert to_dimension("alpha", spec).n_levels == 3
        return
    with pytest.raises(ValueError, match="search space parameter 'alpha'") as info:
        to_dimension("alpha", spec)
    assert message in str(info.value)


def test_bad_prior_and_bound_types():
    with pytest.raises(ValueError, match="prior='normal' is not supported"):
        Real(0, 1, prior="normal").check()
    with pytest.raises(TypeError, match="bounds must be integers"):
        Integer(0.5, 3).check()
    with pytest.raises(ValueError, match="prior must be 2 non-negative"):
        Categorical(["a", "b"], prior=[0.5, 0.6]).to_unit("a")
    with pytest.raises(ValueError, match="low must be < high"):
        Real(2, 1).from_unit(0.5)


def test_search_space_branches_round_trip():
    space = SearchSpace(
        [
            {"clf": [SVC()], "clf__C": Real(1e-2, 1e2, "log-uniform")},
            {"clf": [LogisticRegression()], "clf__penalty": ["l2", None]},
        ]
    )
    assert space.n_branches == 2
    assert space.size == np.inf
    rng = np.random.default_rng(0)
    points = space.sample(50, rng)
    assert {p.branch for p in points} == {0, 1}
    for point in points:
        params = space.to_params(point)
        assert set(params) == set(space.branches[point.branch].names)
        again = space.to_point(params)
        assert space.key(again) == space.key(point)
        assert space.to_params(again)["clf"] is params["clf"]


@pytest.mark.parametrize(
    "dimension",
    [
        Real(1e-2, 1e2, "log-uniform"),
        Real(1e-6, 1.0, "log-uniform"),
        Real(-3.0, 7.0),
        Distribution(stats.norm(1.0, 2.0)),
    ],
    ids=repr,
)
def test_real_values_read_back_a_few_ulps_off_name_the_same_candidate(dimension):
    # exp(log(v)) and ppf(cdf(v)) can move v by an ulp, by how much depending
    # on the CPU and numpy build; a dict read back must name its candidate.
    space = SearchSpace({"v": dimension})
    points = space.sample(500, np.random.default_rng(0))
    for point in points:
        value = space.to_params(point)["v"]
        for nearby in (value, np.nextafter(value, np.inf), np.nextafter(value, -np.inf)):
            again = space.to_point({"v": float(nearby)})
            assert space.key(again) == space.key(point), (value, nearby)
    # while values that differ in the 10th digit stay different candidates
    value = space.to_params(points[0])["v"]
    assert space.key(space.to_point({"v": value * (1 + 1e-9)})) != space.key(points[0])


def test_search_space_size_and_native_values():
    space = SearchSpace({"a": Integer(1, 3), "b": ["x", "y"]})
    assert space.size == 6
    params = space.to_params(Point(0, np.array([0.5, 0.9])))
    assert params == {"a": 2, "b": "y"}
    assert type(params["a"]) is int


@pytest.mark.parametrize(
    "spaces, message",
    [
        ([], "an empty list has no candidates"),
        ([{"C": [1]}, "C"], r"search_spaces\[1\] must be a dict"),
        ("C", "search_spaces must be a dict"),
        ({1: [1, 2]}, "parameter names must be non-empty strings"),
    ],
)
def test_bad_search_space_structure(spaces, message):
    with pytest.raises(ValueError, match=message):
        SearchSpace(spaces)
