import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_iris

from sk_hpo import Categorical, GeneticSearchCV, Integer, Real, SearchSpace
from sk_hpo._genetic import GeneticAlgorithm, _reflect
from sk_hpo._optimizer import RandomSampler
from sk_hpo._search_space import Point
from sk_hpo.callbacks import NoImprovementStopper
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data, minimise


@pytest.mark.parametrize("name", ["branin", "hartmann6", "mixed"])
def test_population_improves_over_generations_and_beats_random(name):
    problem = FUNCTIONS[name]
    space = SearchSpace(problem.search_space)
    ga_regret, random_regret = [], []
    for seed in range(6):
        ga = GeneticAlgorithm(space, seed, population_size=10)
        values = minimise(ga, problem, 80, 10)
        rand = minimise(RandomSampler(space, seed), problem, 80, 10)
        ga_regret.append(values.min() - problem.optimum)
        random_regret.append(rand.min() - problem.optimum)
        generations = values.reshape(8, 10)
        # The last generation's median is far better than the first's.
        assert np.median(generations[-1]) < np.median(generations[0])
        means = [entry["mean_loss"] for entry in ga.history]
        assert means[-1] < means[0]
    assert np.median(ga_regret) < 0.5 * np.median(random_regret)


def test_children_respect_their_branch():
    space = SearchSpace([
        {"kind": ["a"], "u": Real(0, 1)},
        {"kind": ["b"], "v": Real(0, 1), "w": Integer(0, 20), "c": Categorical(["x", "y"])},
    ])
    ga = GeneticAlgorithm(space, 0, population_size=12, crossover_probability=1.0,
                          mutation_probability=0.0)
    # A population of both branches with recognisable values.
    a_points = [space.canonical(Point(0, np.array([0.5, 0.1 + 0.01 * i]))) for i in range(6)]
    b_points = [space.canonical(Point(1, np.array([0.25, 0.5, 0.9, 0.8]))) for _ in range(6)]
    ga.population = [(p, float(i)) for i, p in enumerate(a_points + b_points)]
    ga.generation = 1
    template = space.to_params(b_points[0])
    n_blended = 0
    for _ in range(300):
        child, _ = ga._breed()
        params = space.to_params(child)
        assert set(params) == set(space.branches[child.branch].names)
        assert len(child.x) == space.branches[child.branch].n_dims
        if child.branch == 1:
            # Parents of branch b all share these values, so a child differs from
            # them only by the one mutation a copied (not crossed) child gets.
            assert sum(params[k] != template[k] for k in template) <= 1
        else:
            assert params["kind"] == "a"
            n_blended += 0.1 < params["u"] < 0.15
    assert n_blended > 20  # blends of the branch-a parents' values


def test_branch_mutation_moves_a_child_into_the_other_branch_cleanly():
    space = SearchSpace([{"kind": ["a"], "u": Real(0, 1)}, {"kind": ["b"], "v": Real(0, 1)}])
    ga = GeneticAlgorithm(space, 1, population_size=4, mutation_probability=1.0)
    points = [space.canonical(Point(0, np.array([0.5, u]))) for u in (0.1, 0.2, 0.3, 0.4)]
    ga.population = [(p, 1.0) for p in points]
    ga.generation = 1
    children = [ga._breed()[0] for _ in range(200)]
    moved = [c for c in children if c.branch == 1]
    assert 20 < len(moved) < 180
    assert all(set(space.to_params(c)) == {"kind", "v"} for c in moved)


def test_mutation_step_adapts_by_the_one_fifth_rule():
    problem = FUNCTIONS["hartmann6"]
    space = SearchSpace(problem.search_space)
    ga = GeneticAlgorithm(space, 0, population_size=8)
    minimise(ga, problem, 160, 8)
    steps = [entry["mutation_step"] for entry in ga.history]
    assert len(set(steps)) > 3
    assert all(0.01 <= s <= 0.5 for s in steps)
    fixed = GeneticAlgorithm(space, 0, population_size=8)
    fixed.adaptive_mutation = False  # the benchmarks' variant
    minimise(fixed, problem, 80, 8)
    assert {entry["mutation_step"] for entry in fixed.history} == {0.1}


def test_reflect_keeps_coordinates_in_the_unit_interval():
    for u, expected in [(-0.2, 0.2), (1.3, 0.7), (0.4, 0.4), (2.5, 0.5), (-1.25, 0.75)]:
        assert _reflect(u) == pytest.approx(expected)


def test_same_seed_same_generations():
    problem = FUNCTIONS["mixed"]
    space = SearchSpace(problem.search_space)
    runs = [minimise(GeneticAlgorithm(space, 5), problem, 40, 10) for _ in range(2)]
    np.testing.assert_array_equal(runs[0], runs[1])
    assert not np.array_equal(runs[0], minimise(GeneticAlgorithm(space, 6), problem, 40, 10))


# -- the search ----------------------------------------------------------------


def test_no_candidate_is_fitted_twice(recording):
    X, y = load_iris(return_X_y=True)
    # 4 x 3 = 12 candidates: generations of 6 soon breed known ones.
    search = GeneticSearchCV(
        recording(), {"a": Integer(0, 3), "b": ["x", "y", "z"]}, population_size=6,
        n_iter=12, cv=3, random_state=0,
    ).fit(X, y)
    fitted = [(f["a"], f["b"]) for f in recording.fits[:-1]]  # the last is the refit
    assert len(fitted) == 12 * 3
    assert len(set(fitted)) == 12
    assert search.n_duplicates_ > 0
    assert search.best_params_ == {"a": 0, "b": "x"}  # score -(a - 0.3)^2, minus 0.1 for "y"


def test_cv_results_have_a_generation_column_and_history_a_row_per_generation():
    X, y = dummy_data()
    search = GeneticSearchCV(
        FunctionEstimator("hartmann6"), FUNCTIONS["hartmann6"].search_space, cv=2,
        population_size=8, generations=5, random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 48
    np.testing.assert_array_equal(results["generation"], np.repeat(np.arange(6), 8))
    history = search.history_
    assert search.n_generations_ == 6 and history["generation"] == list(range(6))
    assert history["n_evaluated"] == [8, 16, 24, 32, 40, 48]
    assert np.all(np.diff(history["best_score"]) >= 0)
    assert history["best_score"][-1] == pytest.approx(search.best_score_)
    first = results["mean_test_score"][:8]
    assert history["mean_score"][0] == pytest.approx(first.mean())
    assert history["min_score"][0] == pytest.approx(first.min())
    assert history["std_score"][0] == pytest.approx(first.std())
    assert history["mean_score"][-1] > history["mean_score"][0]
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(history).shape == (6, 10)
    assert pd.DataFrame(results)["generation"].tolist() == list(results["generation"])


def test_n_iter_wins_over_generations():
    X, y = dummy_data()
    space = FUNCTIONS["branin"].search_space
    with pytest.warns(UserWarning, match="n_iter wins and generations is ignored"):
        search = GeneticSearchCV(
            FunctionEstimator("branin"), space, n_iter=25, generations=10, population_size=10,
            cv=2, random_state=0,
        ).fit(X, y)
    assert len(search.cv_results_["params"]) == 25
    np.testing.assert_array_equal(search.cv_results_["generation"], [0] * 10 + [1] * 10 + [2] * 5)
    default = GeneticSearchCV(FunctionEstimator("branin"), space, cv=2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        default.fit(X, y)
    assert len(default.cv_results_["params"]) == 50 and default.n_generations_ == 5


def test_stoppers_work_per_generation():
    X, y = dummy_data()
    # A flat function: nothing ever improves on the first generation.
    space = {"n0": Integer(1, 50), "c0": ["a"], "x0": [31.622776601683793]}
    search = GeneticSearchCV(
        FunctionEstimator("mixed"), space, population_size=5, generations=20, cv=2,
        random_state=0, callbacks=NoImprovementStopper(n_generations=2),
    ).fit(X, y)
    # Generation 0 finds the best of its 5; improvement stops within 2 more ... or
    # continues while the integer still improves; it never runs all 21.
    assert search.n_generations_ < 21
    scores = search.cv_results_["mean_test_score"]
    generations = search.cv_results_["generation"]
    last = generations.max()
    assert scores[generations > last - 2].max() <= scores[generations <= last - 2].max()


def test_failed_fits_do_not_stop_the_search(recording):
    X, y = load_iris(return_X_y=True)
    search = GeneticSearchCV(
        recording(fail_when=lambda a, b: a > 0.6), {"a": Real(0, 1), "b": ["x", "y"]},
        population_size=6, generations=3, cv=2, random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert np.isnan(scores).any() and len(scores) == 24
    assert abs(search.best_params_["a"] - 0.3) < 0.1
    assert search.history_["n_failed"][0] >= 1


def test_parallel_generations_match_sequential_ones():
    X, y = dummy_data()
    space = FUNCTIONS["mixed"].search_space
    runs = [
        GeneticSearchCV(FunctionEstimator("mixed"), space, population_size=6, generations=3,
                        cv=2, n_jobs=n_jobs, random_state=3).fit(X, y)
        for n_jobs in (1, 2)
    ]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    twin = clone(runs[0]).fit(X, y)
    assert twin.cv_results_["params"] == runs[0].cv_results_["params"]
    assert "n_points" not in runs[0].get_params()


@pytest.mark.parametrize(
    "params, message",
    [
        ({"population_size": 1}, "'population_size' parameter"),
        ({"generations": -1}, "'generations' parameter"),
        ({"crossover_probability": 1.5}, "'crossover_probability' parameter"),
        ({"mutation_probability": -0.1}, "'mutation_probability' parameter"),
        ({"tournament_size": 0}, "'tournament_size' parameter"),
        ({"elitism": 11}, "'elitism' parameter of GeneticSearchCV must be <= population_size=10, got 11"),
        ({"mutation_step": 0.0}, "'mutation_step' parameter"),
        ({"n_iter": 0}, "'n_iter' parameter"),
    ],
)
def test_genetic_parameters_are_checked_before_any_fit(params, message, recording):
    X, y = load_iris(return_X_y=True)
    search = GeneticSearchCV(recording(), {"a": Real(0, 1)}, cv=2, **params)
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)
    assert recording.fits == []


def test_no_improvement_stopper_needs_exactly_one_window():
    with pytest.raises(ValueError, match="exactly one of n_evaluations and n_generations"):
        NoImprovementStopper()
    with pytest.raises(ValueError, match="exactly one"):
        NoImprovementStopper(5, n_generations=2)
    with pytest.raises(ValueError, match="n_generations must be a positive integer"):
        NoImprovementStopper(n_generations=0)
