import numpy as np
import pytest
from sklearn.base import clone

from sk_hpo import Categorical, Integer, Real, SearchSpace, TPESearchCV
from sk_hpo._optimizer import RandomSampler
from sk_hpo._parzen import ParzenEstimator
from sk_hpo._search_space import Point
from sk_hpo._tpe import TPE, default_gamma
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data, minimise

# numpy < 2 calls it trapz
_trapezoid = getattr(np, "trapezoid", None) or np.trapz


@pytest.mark.parametrize("name", ["branin", "hartmann6", "mixed"])
def test_tpe_concentrates_near_the_optimum_better_than_random(name):
    problem = FUNCTIONS[name]
    space = SearchSpace(problem.search_space)
    tpe_best, random_best, tpe_late, random_late = [], [], [], []
    for seed in range(8):
        tpe = minimise(TPE(space, seed), problem, 40)
        rand = minimise(RandomSampler(space, seed), problem, 40)
        tpe_best.append(tpe.min() - problem.optimum)
        random_best.append(rand.min() - problem.optimum)
        # Where the model proposes: the median of its last 20 proposals.
        tpe_late.append(np.median(tpe[20:]) - problem.optimum)
        random_late.append(np.median(rand[20:]) - problem.optimum)
    assert np.mean(tpe_best) < 0.7 * np.mean(random_best)
    assert np.median(tpe_late) < 0.5 * np.median(random_late)


def test_integers_and_log_reals_are_proposed_as_valid_values():
    space = SearchSpace({"n": Integer(1, 1000, prior="log-uniform"), "lr": Real(1e-5, 1e-1, "log-uniform")})
    tpe = TPE(space, 0, n_startup_trials=5)

    def loss(params):
        return (np.log10(params["lr"]) + 3) ** 2 + (np.log10(params["n"]) - 2) ** 2

    for _ in range(30):
        point = tpe.ask(1)[0]
        params = space.to_params(point)
        assert type(params["n"]) is int and 1 <= params["n"] <= 1000
        assert 1e-5 <= params["lr"] <= 1e-1
        # The optimizer's own proposals are already canonical.
        np.testing.assert_allclose(space.canonical(point).x, point.x)
        tpe.tell([point], [loss(params)])
    best = space.to_params(tpe.points[int(np.argmin(tpe.losses))])
    assert 30 <= best["n"] <= 300 and 1e-4 <= best["lr"] <= 1e-2


def test_failed_evaluations_are_bad_observations():
    space = SearchSpace({"x": Real(0, 1)})
    tpe = TPE(space, 0)
    # Fails on the right half, which random search would sample half the time.
    for _ in range(40):
        point = tpe.ask(1)[0]
        x = space.to_params(point)["x"]
        tpe.tell([point], [np.inf if x > 0.5 else (x - 0.3) ** 2])
    late = [space.to_params(p)["x"] for p in tpe.points[20:]]
    assert np.mean(np.array(late) > 0.5) <= 0.2
    assert abs(space.to_params(tpe.points[int(np.argmin(tpe.losses))])["x"] - 0.3) < 0.03


def test_nan_losses_count_as_failures():
    space = SearchSpace({"x": Real(0, 1)})
    tpe = TPE(space, 0, n_startup_trials=3)
    points = tpe.ask(3)
    tpe.tell(points, [np.nan, 1.0, 2.0])
    assert np.isinf(tpe.losses[0])
    assert len(tpe.ask(1)) == 1


def test_batches_are_distinct_and_spread_out():
    problem = FUNCTIONS["branin"]
    space = SearchSpace(problem.search_space)
    tpe = TPE(space, 0)
    minimise(tpe, problem, 20)
    batch = tpe.ask(8)
    xs = np.array([p.x for p in batch])
    assert len({tuple(x) for x in xs}) == 8
    distances = np.linalg.norm(xs[:, None] - xs[None], axis=2)[np.triu_indices(8, 1)]
    assert distances.min() > 1e-3
    # Without the liar the same model would be queried 8 times; the liar
    # pushes later points away from earlier ones.
    assert np.median(distances) > 0.05


def test_tree_structured_space_models_each_branch_on_its_own_observations(two_branches):
    space, loss = two_branches
    tpe_share, random_share = [], []
    for seed in range(6):
        tpe = TPE(space, seed)
        rand = RandomSampler(space, seed)
        for opt in (tpe, rand):
            minimise(opt, loss, 40)
        tpe_share.append(np.mean([p.branch == 1 for p in tpe.points[20:]]))
        random_share.append(np.mean([p.branch == 1 for p in rand.points[20:]]))
        best = space.to_params(tpe.points[int(np.argmin(tpe.losses))])
        assert best["kind"] == "b" and abs(best["v"] - 0.7) < 0.15
    assert np.mean(tpe_share) > 0.75 > np.mean(random_share)


def test_same_seed_same_proposals():
    problem = FUNCTIONS["mixed"]
    space = SearchSpace(problem.search_space)
    runs = [minimise(TPE(space, 7), problem, 25, batch_size=3) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = minimise(TPE(space, 8), problem, 25, batch_size=3)
    assert not np.array_equal(runs[0], other)


def test_default_gamma_grows_with_observations_up_to_a_cap():
    assert [default_gamma(n) for n in (1, 7, 8, 100, 1000)] == [1, 2, 2, 15, 25]


def test_parzen_estimator_is_a_density():
    dims = [Real(0, 1).check(), Integer(0, 4).check(), Categorical(["a", "b", "c"]).check()]
    for dim, name in zip(dims, "xnc"):
        dim.name = name
    obs = np.array([[0.2, 0.3, 0.5], [0.8, 0.9, 0.1]])
    for multivariate in (True, False):
        pe = ParzenEstimator(obs, dims, multivariate=multivariate)
        # Integrate over the real dimension, sum over the 5 x 3 discrete cells.
        grid = np.linspace(0, 1, 2001)
        total = 0.0
        for n in range(5):
            for c in range(3):
                x = np.column_stack([grid, np.full_like(grid, (n + 0.5) / 5), np.full_like(grid, (c + 0.5) / 3)])
                total += _trapezoid(np.exp(pe.log_pdf(x)), grid)
        assert total == pytest.approx(1.0, abs=1e-3)
        sample = pe.sample(500, np.random.default_rng(0))
        assert sample.shape == (500, 3) and sample.min() >= 0 and sample.max() <= 1


def test_tpe_search_cv_finds_the_optimum_of_a_function_estimator():
    X, y = dummy_data()
    problem = FUNCTIONS["mixed"]
    search = TPESearchCV(
        FunctionEstimator("mixed"), problem.search_space, n_iter=40, cv=2, random_state=0
    ).fit(X, y)
    assert -search.best_score_ - problem.optimum < 0.3
    assert search.best_params_["c0"] == "b"
    twin = clone(search).fit(X, y)
    assert twin.cv_results_["params"] == search.cv_results_["params"]


def test_tpe_search_cv_parallel_batches_match_sequential_batches():
    X, y = dummy_data()
    space = FUNCTIONS["branin"].search_space
    runs = [
        TPESearchCV(
            FunctionEstimator("branin"), space, n_iter=16, n_points=4, n_jobs=n_jobs, cv=2,
            random_state=1,
        ).fit(X, y)
        for n_jobs in (1, 2)
    ]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    keys = [tuple(p.values()) for p in runs[0].cv_results_["params"]]
    assert len(set(keys)) == 16


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_startup_trials": 0}, "'n_startup_trials' parameter"),
        ({"gamma": 0.25}, "'gamma' parameter"),
        ({"prior_weight": 0.0}, "'prior_weight' parameter"),
    ],
)
def test_tpe_parameters_are_validated_in_fit(params, message):
    X, y = dummy_data()
    search = TPESearchCV(FunctionEstimator(), FUNCTIONS["branin"].search_space, **params)
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)


def test_proposals_of_an_exhausted_discrete_space_stop_cleanly():
    X, y = dummy_data()
    search = TPESearchCV(
        FunctionEstimator("mixed"),
        {"x0": [1.0, 10.0], "n0": Integer(16, 18), "c0": ["a", "b"]},
        n_iter=30, n_startup_trials=3, cv=2, random_state=0,
    )
    with pytest.warns(UserWarning, match="no new candidate left after 12"):
        search.fit(X, y)
    assert search.best_params_ == {"c0": "b", "n0": 17, "x0": 10.0}


def test_point_type_is_shared():
    space = SearchSpace({"x": Real(0, 1)})
    assert isinstance(TPE(space, 0).ask(1)[0], Point)
