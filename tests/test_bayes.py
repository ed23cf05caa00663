import numpy as np
import pytest
from joblib import parallel_backend
from scipy.optimize import approx_fprime
from scipy.stats import norm
from sklearn.base import clone
from sklearn.datasets import load_iris
from sklearn.model_selection import GridSearchCV
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, Categorical, Integer, Real, SearchSpace
from sk_hpo._acquisition import Hedge, acquisition
from sk_hpo._bayes import GPOptimizer
from sk_hpo._gp import GaussianProcess
from sk_hpo._optimizer import RandomSampler
from sk_hpo._search_space import Point
from sk_hpo._warping import warp_losses, yeo_johnson
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data, minimise

# -- the Gaussian process ------------------------------------------------------


@pytest.mark.parametrize("length_peak", [1.0, 0.3])
def test_gp_marginal_likelihood_gradient_matches_finite_differences(length_peak):
    assert_posterior_gradient(GaussianProcess(), length_peak)


def assert_posterior_gradient(gp, length_peak=1.0):
    """The GP's minus log posterior and its gradient agree with finite differences."""
    rng = np.random.default_rng(0)
    X = rng.random((25, 3))
    y = np.sin(6 * X[:, 0]) + X[:, 1] ** 2
    y = (y - y.mean()) / y.std()
    gp.length_peak = length_peak
    sq_diffs = (X[:, None] - X[None]) ** 2
    theta = np.array([0.1, -0.5, 0.8, 0.3, -3.0])
    _, grad = gp._neg_log_posterior(theta, sq_diffs, y)
    numeric = approx_fprime(theta, lambda t: gp._neg_log_posterior(t, sq_diffs, y)[0], 1e-6)
    np.testing.assert_allclose(grad, numeric, rtol=1e-4, atol=1e-4)


def _ten_hartmann6_points(seed):
    """Ten random points of Hartmann-6 and their standardised values."""
    problem = FUNCTIONS["hartmann6"]
    names = list(problem.search_space)
    X = np.random.default_rng(seed).random((10, 6))
    y = np.array([problem(dict(zip(names, x))) for x in X])
    return X, (y - y.mean()) / y.std()


def test_gp_length_scales_follow_the_prior_peak():
    # The peaked prior at length_peak = 0.3 (HEBO's length scales, a third of
    # the cube) fits scales near 0.3 where the prior at the cube's side fits
    # them near 1 to the same ten points of Hartmann-6.
    for seed in range(3):
        X, y = _ten_hartmann6_points(seed)
        medians = {}
        for peak in (0.3, 1.0):
            gp = GaussianProcess()
            gp.length_peak = peak
            gp.fit(X, y, np.random.default_rng(0))
            medians[peak] = np.median(gp.length_scales)
        assert 0.2 < medians[0.3] < 0.6
        assert medians[1.0] > 2.5 * medians[0.3]


def test_gp_learns_relevant_dimensions_and_predicts_with_gradients():
    assert_learns_relevant_dimensions(GaussianProcess())


def assert_learns_relevant_dimensions(gp):
    """The GP finds the irrelevant input, predicts well, and its gradients are right."""
    rng = np.random.default_rng(1)
    X = rng.random((40, 3))
    f = np.sin(5 * X[:, 0]) + 0.5 * X[:, 1]  # the third column is irrelevant
    y = (f - f.mean()) / f.std()
    gp.fit(X, y, rng)
    lengths = gp.length_scales
    assert lengths[2] > 3 * lengths[0]
    X_test = rng.random((200, 3))
    f_test = (np.sin(5 * X_test[:, 0]) + 0.5 * X_test[:, 1] - f.mean()) / f.std()
    mean, std = gp.predict(X_test)
    assert np.sqrt(np.mean((mean - f_test) ** 2)) < 0.1
    assert np.all(std > 0)
    x0 = X_test[:1]
    _, _, grad_mean, grad_std = gp.predict(x0, return_grad=True)
    np.testing.assert_allclose(grad_mean[0], _central(lambda x: gp.predict(x)[0], x0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(grad_std[0], _central(lambda x: gp.predict(x)[1], x0), rtol=1e-4, atol=1e-6)


def _central(f, x, h=1e-5):
    steps = np.eye(x.shape[1]) * h
    return np.array([(f(x + e)[0] - f(x - e)[0]) / (2 * h) for e in steps])


def test_gp_learns_noise_from_noisy_scores():
    rng = np.random.default_rng(2)
    X = rng.random((60, 1))
    clean = np.sin(4 * X[:, 0])
    for sd, low, high in ((0.0, 0, 1e-3), (0.3, 0.02, 0.3)):
        y = clean + sd * rng.normal(size=60)
        gp = GaussianProcess().fit(X, (y - y.mean()) / y.std(), rng)
        assert low <= gp.noise <= high, (sd, gp.noise)


def test_gp_exact_rows_remove_the_uncertainty_that_noisy_ones_keep():
    rng = np.random.default_rng(3)
    X = rng.random((10, 2))
    y = rng.normal(size=10)
    gp = GaussianProcess()
    gp.theta = np.log([0.3, 0.3, 1.0, 0.25])  # noise sd 0.5
    gp.condition(X, y, n_exact=3)
    _, std = gp.predict(X)
    assert np.all(std[-3:] < 0.01)  # fantasies: the value is known
    assert np.all(std[:-3] > 0.2)  # observations: still uncertain by the noise
    # Coincident exact rows: the covariance stays positive definite.
    gp.condition(np.vstack([X, X[-1:]]), np.append(y, y[-1]), n_exact=2)
    assert np.isfinite(gp.predict(X)[0]).all()


# -- acquisition and outputs ---------------------------------------------------


def test_log_expected_improvement_is_exact_and_finite_far_from_the_incumbent():
    mean, std, best = np.array([0.0, 1.0, 2.5]), np.array([1.0, 0.5, 2.0]), -0.3
    z = (best - mean) / std
    direct = std * (z * norm.cdf(z) + norm.pdf(z))
    value, d_mean, d_std = acquisition("EI", mean, std, best, 0.0, 0.0)
    np.testing.assert_allclose(np.exp(value), direct, rtol=1e-10)
    np.testing.assert_allclose(d_mean, -norm.cdf(z) / direct, rtol=1e-8)
    np.testing.assert_allclose(d_std, norm.pdf(z) / direct, rtol=1e-8)
    # 40 standard deviations away plain EI is 0; its log still ranks points.
    far, _, _ = acquisition("EI", np.array([40.0, 50.0]), np.ones(2), 0.0, 0.0, 0.0)
    assert np.all(np.isfinite(far)) and far[0] > far[1]
    pi, _, _ = acquisition("PI", np.array([40.0, 50.0]), np.ones(2), 0.0, 0.0, 0.0)
    assert np.all(np.isfinite(pi)) and pi[0] > pi[1]


def _noisy_bowl_optimizer():
    space = SearchSpace({"x": Real(0, 1), "y": Real(0, 1)})
    rng = np.random.default_rng(0)
    opt = GPOptimizer(space, 0)
    minimise(opt, lambda p: (p["x"] - 0.3) ** 2 + (p["y"] - 0.6) ** 2 + rng.normal(0, 0.05), 25)
    return opt


def _assert_acquisition_gradients(opt, best, x0):
    """The gradients polishing follows match central differences."""
    for name in ("EI", "PI", "LCB"):
        _, grad = opt._acquire(name, x0, best, grad=True)
        numeric = _central(lambda x, name=name: opt._acquire(name, x, best), x0)
        np.testing.assert_allclose(grad[0], numeric, rtol=1e-4, atol=1e-6)


def test_acquisitions_score_the_next_observation_with_its_gradient():
    # With observation_noise (the default) the acquisitions see the spread
    # of the next score, the latent value's plus the learned noise: at the
    # best told point, where the latent value is nearly known, EI stays
    # well above what the latent spread alone gives.
    opt = _noisy_bowl_optimizer()
    best = opt._fit()
    assert opt.gp.noise > 0.01
    rows = opt.encoding.encode(opt.points)
    at_best = rows[[int(np.argmin(opt.losses))]]
    _, latent = opt.gp.predict(at_best)
    np.testing.assert_allclose(opt._observed_std(at_best, latent), np.sqrt(latent**2 + opt.gp.noise))
    with_noise = opt._acquire("EI", at_best, best)[0]
    opt.observation_noise = False
    without = opt._acquire("EI", at_best, best)[0]
    assert with_noise > without + 0.5  # log EI
    # The gradient polishing follows, through the observation's spread.
    opt.observation_noise = True
    _assert_acquisition_gradients(opt, best, np.array([[0.42, 0.37]]))


def test_a_pending_point_takes_the_noise_of_its_neighbourhood():
    # A pending point's fantasy removes the latent uncertainty there; its
    # noise must go too, or a batch gathers round it.  The noise comes back
    # with the distance, as the kernel's correlation falls.
    opt = _noisy_bowl_optimizer()
    pending = opt.space.canonical(Point(0, np.array([0.7, 0.2])))
    opt.pend([pending])
    best = opt._fit()
    noise = opt.gp.noise
    assert noise > 0.01
    rows = np.array([[0.7, 0.2], [0.7, 0.2 + 0.05], [0.7, 0.95]])
    _, latent = opt.gp.predict(rows)
    observed = opt._observed_std(rows, latent)
    assert observed[0] == pytest.approx(latent[0], abs=1e-6)
    extra = observed**2 - latent**2
    assert 0 < extra[1] < extra[2] < noise
    # ... with its gradient, near the pending point and far from it.
    for x0 in (np.array([[0.72, 0.23]]), np.array([[0.2, 0.8]])):
        _assert_acquisition_gradients(opt, best, x0)


def _bowl_with_a_repeat(quiet_repeats=True):
    """The noisy bowl, told again with split scores: two distant candidates
    that scored the same on every split, and one that no other repeats."""
    opt = _noisy_bowl_optimizer()
    opt.quiet_repeats = quiet_repeats
    points = [opt.space.canonical(Point(0, np.array(x))) for x in ([0.8, 0.1], [0.9, 0.15], [0.05, 0.95])]
    opt.tell(points, [0.4, 0.4, 0.5], splits=[(-0.3, -0.5), (-0.3, -0.5), (-0.4, -0.6)])
    return opt


def test_candidates_that_repeat_each_other_on_every_split_quiet_the_noise_near_them():
    # Two candidates with the same score on every split are one prediction
    # fitted twice, or a plateau: the next observation near them repeats
    # it.  The noise goes there, comes back with the distance, and stays at
    # a told candidate that nothing repeats (and everywhere without the option).
    opt = _bowl_with_a_repeat()
    best = opt._fit()
    noise = opt.gp.noise
    assert noise > 0.01
    rows = np.array([[0.8, 0.1], [0.9, 0.15], [0.8, 0.1 + 0.05], [0.05, 0.95], [0.5, 0.5]])
    _, latent = opt.gp.predict(rows)
    extra = opt._observed_std(rows, latent) ** 2 - latent**2
    np.testing.assert_allclose(extra[:2], 0.0, atol=1e-9)
    assert 0 < extra[2] < extra[4] < extra[3] < noise * (1 + 1e-9)
    assert extra[3] > 0.95 * noise  # a told candidate that nothing repeats, far from the repeats
    for x0 in (np.array([[0.82, 0.13]]), np.array([[0.4, 0.5]])):
        _assert_acquisition_gradients(opt, best, x0)
    # With a pending point as well, both take their share of the noise.
    opt.pend([opt.space.canonical(Point(0, np.array([0.3, 0.3])))])
    best = opt._fit()
    _assert_acquisition_gradients(opt, best, np.array([[0.32, 0.27]]))
    _assert_acquisition_gradients(opt, best, np.array([[0.85, 0.12]]))
    # Without the option the whole noise stays.
    off = _bowl_with_a_repeat(quiet_repeats=False)
    off._fit()
    _, latent = off.gp.predict(rows[:2])
    np.testing.assert_allclose(off._observed_std(rows[:2], latent) ** 2 - latent**2, off.gp.noise)


def test_only_finite_told_split_scores_make_a_repeat():
    opt = _noisy_bowl_optimizer()
    assert opt._repeated_rows() is None  # told without splits
    a, b, c = (opt.space.canonical(Point(0, np.array(x))) for x in ([0.1, 0.2], [0.5, 0.5], [0.9, 0.9]))
    opt.tell([a, b], [np.inf, np.inf], splits=[(np.nan, 0.1), (np.nan, 0.1)])
    assert opt._repeated_rows() is None  # failures repeat nothing
    opt.tell([b, c], [0.4, 0.4], splits=[(0.6,), (0.6,)])
    assert opt._repeated_rows() is None  # one split: an equal mean, not a repeat
    opt.tell([c], [0.3], splits=[(0.2, 0.1)])
    opt.tell([a], [0.3], splits=[[0.2, 0.1]])  # lists are taken as tuples
    np.testing.assert_allclose(opt._repeated_rows(), opt.encoding.encode([c, a]))
    with pytest.raises(ValueError, match="1 points but 2 splits"):
        opt.tell([a], [0.3], splits=[(0.2,), (0.1,)])


@pytest.mark.parametrize("asynchronous", [False, True])
def test_the_engine_tells_each_candidates_scores_split_by_split(asynchronous):
    X, y = load_iris(return_X_y=True)
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "gamma": Real(1e-3, 1e1, prior="log-uniform")}
    search = BayesSearchCV(SVC(), space, n_iter=8, cv=3, random_state=0, n_jobs=2 if asynchronous else None,
                           asynchronous=asynchronous, refit=False)  # fmt: skip
    with parallel_backend("threading"):
        search.fit(X, y)
    opt, results = search.optimizer_, search.cv_results_
    assert len(opt.points) == 8  # no proposal repeated: told in the order of cv_results_
    for i, (point, splits) in enumerate(zip(opt.points, opt.splits)):
        assert opt.space.to_params(point) == results["params"][i]
        assert splits == tuple(results[f"split{k}_test_score"][i] for k in range(3))


def test_length_peak_applies_to_numeric_columns_only():
    space = SearchSpace({"x": Real(0, 1), "c": Categorical(["a", "b", "c"]), "n": Integer(1, 9)})
    opt = GPOptimizer(space, 0)
    # Columns in the order of the names: c (one-hot, three columns), n, x.
    assert list(opt.gp.length_peak) == [1.0, 1.0, 1.0, 0.3, 0.3]


def test_removed_options_are_refused_with_their_name():
    space = SearchSpace({"x": Real(0, 1)})
    for option in ("length_peak", "observation_noise", "quiet_repeats"):
        with pytest.raises(TypeError, match=option):
            GPOptimizer(space, 0, **{option: 0.5})
    for option in ("n_candidates", "n_polish"):
        with pytest.raises(TypeError, match=option):
            BayesSearchCV(FunctionEstimator(), {"x": Real(0, 1)}, **{option: 10})


def test_hedge_prefers_the_acquisition_whose_nominees_the_model_likes():
    hedge = Hedge(eta=1.0)
    rng = np.random.default_rng(0)
    for _ in range(10):
        hedge.choose(np.array([[0.0], [1.0], [2.0]]), rng)
        hedge.update(lambda nominees: nominees[:, 0])  # the model's mean
    assert np.argmax(hedge.gains) == 0
    counts = np.bincount([hedge.choose(np.zeros((3, 1)), rng) for _ in range(200)], minlength=3)
    assert counts[0] > 150


def test_warping_tames_outliers_and_failures():
    losses = np.array([0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 1.0, 1e6, np.inf, np.nan])
    y = warp_losses(losses)
    assert np.all(np.isfinite(y))
    assert y.mean() == pytest.approx(0.0, abs=1e-12) and y.std() == pytest.approx(1.0)
    finite = np.isfinite(losses)
    # Order is kept, and failures count as the worst loss seen.
    assert np.all(np.diff(y[:8]) > 0)
    assert y[8] == y[9] == y[7]
    # Without warping the seven good losses would sit within 1e-6 of each
    # other; warped, they keep a usable spread.
    plain = (losses[finite] - losses[finite].mean()) / losses[finite].std()
    assert np.ptp(plain[:7]) < 1e-5
    assert np.ptp(y[:7]) > 0.5
    assert np.all(warp_losses([np.inf, np.inf]) == 0)
    assert np.all(warp_losses([-0.92, -0.92, -0.92]) == 0)


@pytest.mark.parametrize("kind", ["normal", "skewed", "negative", "outlier"])
def test_yeo_johnson_takes_the_most_likely_power(kind):
    import scipy
    from scipy.stats import yeojohnson, yeojohnson_llf

    rng = np.random.default_rng(3)
    y = {"normal": rng.normal(size=40), "skewed": rng.lognormal(size=40) * 3,
         "negative": -rng.exponential(size=40) ** 2,
         "outlier": np.r_[rng.normal(size=39), 40.0]}[kind]  # fmt: skip
    y = (y - y.mean()) / y.std()
    warped = yeo_johnson(y)
    # The transform of some power: invert it for that power, check its likelihood
    # is the highest on a grid of powers.
    powers = np.linspace(-4.0, 6.0, 401)
    llf_grid = [yeojohnson_llf(power, y) for power in powers]
    best = powers[int(np.argmax(llf_grid))]
    assert not np.allclose(warped, y)  # a real transform, not the identity
    assert np.allclose(warped, yeojohnson(y, lmbda=best), atol=0.05 * np.abs(warped).max())
    if tuple(int(v) for v in scipy.__version__.split(".")[:2]) >= (1, 12):
        # scipy's own maximisation since 1.12, exactly.
        assert np.array_equal(warped, yeojohnson(y)[0])


def test_warping_keeps_the_order_when_most_losses_tie_at_the_best():
    # Many candidates reaching the same best accuracy: the worse ones stay worse.
    losses = [-0.98] * 6 + [-0.95, -0.9, np.inf]
    y = warp_losses(losses)
    assert np.all(y[:6] == y[0]) and y[0] < y[6] < y[7] <= y[8]


def test_warping_keeps_the_order_when_most_losses_sit_a_hair_above_the_best():
    # Cross-validated accuracies that equal the best up to fold-size rounding:
    # the median loss is 1e-5 above the best, yet 0.84 is still worse than
    # 0.8426, and chance level worse than both.
    losses = [-0.8450604] * 20 + [-0.8450510] * 3 + [-0.8426] * 8 + [-0.84] * 5 + [-0.5075] * 5
    y = warp_losses(losses)
    assert y[0] < y[20] < y[23] < y[31] < y[36]
    assert y[31] - y[23] > 0.01 and y[36] - y[31] > 0.01


# -- the optimizer -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, n_iter, ratio, worst",
    [("branin", 30, 0.1, 0.05), ("hartmann6", 40, 0.25, None), ("mixed", 30, 0.1, 0.05)],
)
def test_bayes_converges_near_the_optimum_better_than_random(name, n_iter, ratio, worst):
    problem = FUNCTIONS[name]
    space = SearchSpace(problem.search_space)
    gp_regret, random_regret = [], []
    for seed in range(4):
        gp = minimise(GPOptimizer(space, seed), problem, n_iter)
        rand = minimise(RandomSampler(space, seed), problem, n_iter)
        gp_regret.append(gp.min() - problem.optimum)
        random_regret.append(rand.min() - problem.optimum)
    assert np.median(gp_regret) < ratio * np.median(random_regret)
    if worst is not None:
        assert np.max(gp_regret) < worst


def test_integers_and_categories_are_proposed_as_valid_values():
    space = SearchSpace({
        "n": Integer(1, 1000, prior="log-uniform"),
        "lr": Real(1e-5, 1e-1, "log-uniform"),
        "kind": Categorical(["a", "b", "c"]),
    })
    opt = GPOptimizer(space, 0, n_initial_points=5)
    cost = {"a": 1.0, "b": 0.0, "c": 0.5}

    def loss(params):
        return (np.log10(params["lr"]) + 3) ** 2 + (np.log10(params["n"]) - 2) ** 2 + cost[
            params["kind"]
        ]

    for _ in range(25):
        point = opt.ask(1)[0]
        params = space.to_params(point)
        assert type(params["n"]) is int and 1 <= params["n"] <= 1000
        assert 1e-5 <= params["lr"] <= 1e-1 and params["kind"] in cost
        np.testing.assert_allclose(space.canonical(point).x, point.x)
        opt.tell([point], [loss(params)])
    best = space.to_params(opt.points[int(np.argmin(opt.losses))])
    assert best["kind"] == "b"
    assert 30 <= best["n"] <= 300 and 1e-4 <= best["lr"] <= 1e-2
    # Categories are one-hot inputs of the model: 2 numeric + 3 columns.
    assert opt.encoding.width == 5


def test_a_small_discrete_space_is_enumerated_without_repeats():
    space = SearchSpace({"a": Integer(0, 3), "b": Categorical(["x", "y", "z"])})
    opt = GPOptimizer(space, 0, n_initial_points=3)
    keys = []
    for _ in range(12):
        point = opt.ask(1)[0]
        keys.append(space.key(point))
        params = space.to_params(point)
        opt.tell([point], [(params["a"] - 2) ** 2 + (params["b"] == "y")])
    assert len(set(keys)) == 12


def test_batches_are_distinct_and_spread_out():
    problem = FUNCTIONS["branin"]
    space = SearchSpace(problem.search_space)
    opt = GPOptimizer(space, 0)
    minimise(opt, problem, 20)
    batch = opt.ask(8)
    xs = np.array([p.x for p in batch])
    distances = np.linalg.norm(xs[:, None] - xs[None], axis=2)[np.triu_indices(8, 1)]
    assert distances.min() > 1e-3
    assert np.median(distances) > 0.05
    # Points asked and not yet told are pending: asking again goes elsewhere.
    again = opt.ask(1)[0]
    assert np.linalg.norm(xs - again.x, axis=1).min() > 1e-3
    assert len(opt.pending) == 9
    opt.tell(batch + [again], [problem(space.to_params(p)) for p in batch + [again]])
    assert not opt.pending


def test_batches_stay_spread_out_when_the_model_learns_noise():
    # On noisy scores the GP learns a large noise term.  A pending point's
    # fantasy must still remove the uncertainty there: taken as one more
    # noisy observation it would not, and a batch would pile up on one spot
    # (this happened on 4 of these 5 seeds).
    problem = FUNCTIONS["branin"]
    spread = []
    for seed in range(5):
        rng = np.random.default_rng(seed)
        space = SearchSpace(problem.search_space)
        opt = GPOptimizer(space, seed)
        minimise(opt, lambda params: problem(params) + rng.normal(0.0, 10.0), 20)
        assert opt.gp.noise > 0.01
        xs = np.array([p.x for p in opt.ask(8)])
        distances = np.linalg.norm(xs[:, None] - xs[None], axis=2)[np.triu_indices(8, 1)]
        spread.append(distances.min() > 1e-2)
    assert sum(spread) >= 3


def test_a_plateau_is_not_proposed_again_a_hair_apart():
    # A rounded, speckled bowl: a deterministic score with plateaus, on which
    # the GP learns noise, as on a cross-validated accuracy.  Proposals within
    # 1e-3 of an earlier point only repeat its score: 11 of the 150 proposals
    # over these 5 seeds when only points 1e-5 apart were refused, 1 with the
    # guard (at point 18 of seed 0, before the GP had learnt the plateau's
    # noise: 8e-5 then, where a fine step is allowed as on a smooth function).
    space = SearchSpace({"x": Real(0, 1), "y": Real(0, 1)})

    def bowl(params):
        return (params["x"] - 0.3) ** 2 + 2 * (params["y"] - 0.6) ** 2

    def speckled(params):
        value = min(bowl(params), 0.25) + 0.01 * np.sin(300 * params["x"]) * np.sin(300 * params["y"])
        return float(np.round(value / 0.01) * 0.01)

    hair_apart = 0
    for seed in range(5):
        opt = GPOptimizer(space, seed)
        minimise(opt, speckled, 40)
        assert opt.gp.noise > 1e-3
        xs = np.array([p.x for p in opt.points])
        nearest = [np.linalg.norm(xs[:i] - xs[i], axis=1).min() for i in range(10, len(xs))]
        hair_apart += int(np.sum(np.array(nearest) < 1e-3))
    assert hair_apart <= 1
    # Without noise, steps that fine stay allowed: they still improve.
    opt = GPOptimizer(space, 0)
    minimise(opt, bowl, 30)
    opt._fit()
    rows = opt.encoding.encode_branch(0, [opt.points[int(np.argmin(opt.losses))].x])
    assert opt._worth_a_fit(rows + [1e-3, 0.0]).tolist() == [True]
    assert opt._worth_a_fit(rows + [1e-6, 0.0]).tolist() == [False]


@pytest.mark.parametrize("name, ratio", [("branin", 0.01), ("hartmann6", 0.5)])
def test_batches_of_four_still_beat_random_search(name, ratio):
    problem = FUNCTIONS[name]
    space = SearchSpace(problem.search_space)
    batched = [minimise(GPOptimizer(space, s), problem, 40, batch_size=4).min() for s in range(6)]
    random = [minimise(RandomSampler(space, s), problem, 40).min() for s in range(6)]
    regret = np.median(batched) - problem.optimum
    assert regret < ratio * (np.median(random) - problem.optimum)


def test_failures_and_nan_do_not_break_the_model():
    # Failures (inf) where x > 0.6, nan where y > 0.9: the model learns to
    # avoid them, and finds the optimum beside them.  Random search puts 40 %
    # of its points in the failing region; one seed's 15 late points vary a
    # lot (0.07-0.4 over 20 seeds), so five seeds are pooled: 0.27 of them
    # here since the acquisitions score the next observation (2026-12-06),
    # 0.24 before; over ten seeds 0.30 against 0.28, one late point in 150.
    late_failing = []
    for seed in range(5):
        space = SearchSpace({"x": Real(0, 1), "y": Real(0, 1)})
        opt = GPOptimizer(space, seed, n_initial_points=4)
        for _ in range(30):
            point = opt.ask(1)[0]
            params = space.to_params(point)
            if params["x"] > 0.6:
                loss = np.inf
            elif params["y"] > 0.9:
                loss = np.nan
            else:
                loss = (params["x"] - 0.3) ** 2 + (params["y"] - 0.5) ** 2
            opt.tell([point], [loss])
        late_failing += [space.to_params(p)["x"] > 0.6 for p in opt.points[15:]]
        best = space.to_params(opt.points[int(np.argmin(opt.losses))])
        assert abs(best["x"] - 0.3) < 0.05 and abs(best["y"] - 0.5) < 0.05
    assert np.mean(late_failing) <= 0.3


def test_all_failures_keep_proposing_new_points():
    space = SearchSpace({"x": Real(0, 1)})
    opt = GPOptimizer(space, 0, n_initial_points=2)
    for _ in range(6):
        points = opt.ask(1)
        opt.tell(points, [np.inf])
    assert len({space.key(p) for p in opt.points}) == 6


def test_conditional_space_is_one_model_that_finds_the_good_branch(two_branches):
    space, loss = two_branches
    shares = []
    for seed in range(3):
        opt = GPOptimizer(space, seed)
        minimise(opt, loss, 30)
        shares.append(np.mean([p.branch == 1 for p in opt.points[10:]]))
        best = space.to_params(opt.points[int(np.argmin(opt.losses))])
        assert best["kind"] == "b" and abs(best["v"] - 0.7) < 0.05 and abs(best["w"] - 5) <= 1
    assert np.mean(shares) > 0.75
    # Inputs: branch indicator (2), branch a: kind (1) + u; branch b: kind (1) + v + w.
    assert opt.encoding.width == 7


@pytest.mark.parametrize("acq_func", ["EI", "PI", "LCB", "gp_hedge"])
@pytest.mark.parametrize("generator", ["sobol", "halton", "lhs", "random"])
def test_every_acquisition_and_design_works_and_is_deterministic(acq_func, generator):
    problem = FUNCTIONS["mixed"]
    space = SearchSpace(problem.search_space)
    runs = [
        minimise(GPOptimizer(space, 3, acq_func=acq_func, initial_point_generator=generator,
                              n_initial_points=5, n_candidates=200), problem, 12, batch_size=2)
        for _ in range(2)
    ]
    np.testing.assert_array_equal(runs[0], runs[1])
    other = minimise(GPOptimizer(space, 4, acq_func=acq_func, initial_point_generator=generator,
                                  n_initial_points=5, n_candidates=200), problem, 12, batch_size=2)
    assert not np.array_equal(runs[0], other)


def test_initial_design_is_space_filling():
    space = SearchSpace({"x": Real(0, 1)})
    opt = GPOptimizer(space, 0, n_initial_points=8)
    xs = np.sort([p.x[0] for p in opt.ask(8)])
    # A scrambled Sobol sequence puts one point in each eighth.
    np.testing.assert_array_equal(np.floor(xs * 8), np.arange(8))


# -- the search ----------------------------------------------------------------


def test_bayes_search_cv_finds_the_optimum_of_a_function_estimator():
    X, y = dummy_data()
    problem = FUNCTIONS["mixed"]
    search = BayesSearchCV(
        FunctionEstimator("mixed"), problem.search_space, n_iter=30, cv=2, random_state=0
    ).fit(X, y)
    assert -search.best_score_ - problem.optimum < 0.05
    assert search.best_params_["c0"] == "b" and search.best_params_["n0"] == 17
    twin = clone(search).fit(X, y)
    assert twin.cv_results_["params"] == search.cv_results_["params"]


def test_bayes_search_cv_results_match_scikit_learn():
    X, y = load_iris(return_X_y=True)
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"]}
    search = BayesSearchCV(SVC(), space, n_iter=8, n_initial_points=4, random_state=0).fit(X, y)
    grid = GridSearchCV(
        SVC(), [{k: [v] for k, v in p.items()} for p in search.cv_results_["params"]]
    ).fit(X, y)
    assert list(search.cv_results_) == list(grid.cv_results_)
    for key in ("mean_test_score", "rank_test_score", "split0_test_score"):
        np.testing.assert_allclose(search.cv_results_[key], grid.cv_results_[key])
    assert search.best_params_ == grid.best_params_


def test_bayes_search_cv_parallel_batches_match_sequential_batches():
    X, y = dummy_data()
    space = FUNCTIONS["branin"].search_space
    runs = [
        BayesSearchCV(
            FunctionEstimator("branin"), space, n_iter=16, n_points=4, n_jobs=n_jobs, cv=2,
            n_initial_points=4, random_state=1,
        ).fit(X, y)
        for n_jobs in (1, 2)
    ]
    assert runs[0].cv_results_["params"] == runs[1].cv_results_["params"]
    assert len({tuple(p.values()) for p in runs[0].cv_results_["params"]}) == 16


def test_skopt_optimizer_kwargs_are_understood():
    X, y = dummy_data()
    search = BayesSearchCV(
        FunctionEstimator("branin"), FUNCTIONS["branin"].search_space, n_iter=6, cv=2,
        random_state=0,
        optimizer_kwargs={
            "n_initial_points": 3, "acq_func": "LCB", "base_estimator": "gp",  # any case
            "acq_optimizer": "sampling", "initial_point_generator": "lhs",
            "acq_func_kwargs": {"kappa": 3.0, "xi": 0.1},
            "acq_optimizer_kwargs": {"n_points": 300},
        },
    ).fit(X, y)
    opt = search.optimizer_
    assert (opt.n_initial_points, opt.acq_func, opt.initial_point_generator) == (3, "LCB", "lhs")
    assert (opt.kappa, opt.xi, opt.n_candidates, opt.n_polish) == (3.0, 0.1, 300, 0)


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_initial_points": 0}, "'n_initial_points' parameter"),
        ({"acq_func": "EIps"}, "'acq_func' parameter"),
        ({"initial_point_generator": "grid"}, "'initial_point_generator' parameter"),
        ({"xi": -1.0}, "'xi' parameter"),
        ({"optimizer_kwargs": {"n_jobs": 2}}, r"optimizer_kwargs: unknown key\(s\) \['n_jobs'\]"),
        ({"optimizer_kwargs": {"acq_func": "EIps"}}, r"optimizer_kwargs\['acq_func'\].*Got 'EIps'"),
        ({"optimizer_kwargs": {"base_estimator": "RF"}}, "'base_estimator'.*Gaussian process"),
        ({"optimizer_kwargs": {"acq_func_kwargs": {"eta": 1}}}, "keys among \\['kappa', 'xi'\\]"),
        ({"optimizer_kwargs": {"n_initial_points": -2}}, r"'n_initial_points'.*range \[1, inf\)\. Got -2"),
        ({"optimizer_kwargs": {"acq_optimizer_kwargs": {"n_points": 0}}},
         r"optimizer_kwargs\['acq_optimizer_kwargs'\]\['n_points'\].*range \[1, inf\)\. Got 0"),
        ({"optimizer_kwargs": {"acq_func_kwargs": {"xi": -1.0}}},
         r"optimizer_kwargs\['acq_func_kwargs'\]\['xi'\].*range \[0.0, inf\)\. Got -1\.0"),
    ],
)
def test_bayes_parameters_are_checked_before_any_fit(params, message, recording):
    X, y = load_iris(return_X_y=True)
    search = BayesSearchCV(recording(), {"a": Real(0, 1)}, cv=2, **params)
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)
    assert recording.fits == []


def test_a_space_without_dimensions_has_one_candidate(recording):
    X, y = load_iris(return_X_y=True)
    search = BayesSearchCV(recording(), {}, n_iter=3, n_initial_points=1, cv=2)
    with pytest.warns(UserWarning, match="no new candidate left after 1"):
        search.fit(X, y)
    assert search.cv_results_["params"] == [{}]


def test_long_searches_fit_the_gp_to_a_bounded_set_that_keeps_the_best(monkeypatch):
    from sk_hpo import _bayes
    from sk_hpo._optimizer import RandomSampler
    from sk_hpo.testing import FUNCTIONS

    monkeypatch.setattr(_bayes, "_MAX_MODEL_POINTS", 40)
    problem = FUNCTIONS["branin"]
    space = SearchSpace(problem.search_space)
    gp = GPOptimizer(space, 0)
    points = RandomSampler(space, 1).ask(100)
    losses = [problem(space.to_params(p)) for p in points]
    gp.tell(points, losses)
    fitted = []
    real_fit = gp.gp.fit
    monkeypatch.setattr(gp.gp, "fit", lambda X, y, rng, **kw: fitted.append(len(X))
                        or real_fit(X, y, rng, **kw))
    for _ in range(5):
        point = gp.ask(1)[0]
        assert len(gp.gp.X) == 40  # of the 100+ told points
        gp.tell([point], [problem(space.to_params(point))])
    # 100 told points: hyperparameters refitted every 100 // 50 = 2 new points.
    assert fitted == [40, 40, 40]
    best = int(np.argmin(gp.losses))
    rows = _bayes.GPOptimizer._model_rows(gp, len(gp.points))
    assert best in rows and len(rows) == 40 and len(set(rows.tolist())) == 40


def test_hyperparameter_fit_restarts_every_n_over_50_points_from_100_on(monkeypatch):
    from sk_hpo import _gp

    problem = FUNCTIONS["branin"]
    space = SearchSpace(problem.search_space)
    gp = GPOptimizer(space, 0, n_candidates=100)
    points = RandomSampler(space, 1).ask(100)
    gp.tell(points, [problem(space.to_params(p)) for p in points])
    starts = []  # L-BFGS-B runs of each hyperparameter fit
    real_minimize = _gp.minimize

    def minimize(fun, x0, **kw):
        if fun == gp.gp._neg_log_posterior:
            starts[-1].append(np.array(x0))
        return real_minimize(fun, x0, **kw)

    monkeypatch.setattr(_gp, "minimize", minimize)
    real_fit = gp.gp.fit
    monkeypatch.setattr(gp.gp, "fit", lambda *a, **kw: starts.append([]) or real_fit(*a, **kw))
    thetas = []
    for _ in range(6):
        thetas.append(None if gp.gp.theta is None else gp.gp.theta.copy())
        point = gp.ask(1)[0]
        gp.tell([point], [problem(space.to_params(point))])
    # 100-105 told points: every 100 // 50 = 2 points, the previous fit's
    # values, the prior's centre and one random start; in between, only the first.
    assert [len(s) for s in starts] == [2, 1, 3, 1, 3, 1]  # the first has no previous fit
    for fit_starts, theta in zip(starts[1:], thetas[1:]):
        np.testing.assert_array_equal(fit_starts[0], theta)


def test_gp_fit_without_a_previous_fit_restarts_whatever_it_is_told():
    X = np.random.default_rng(0).random((20, 2))
    y = np.sin(5 * X[:, 0]) + X[:, 1]
    gp = GaussianProcess().fit(X, (y - y.mean()) / y.std(), np.random.default_rng(0),
                               restart=False)
    assert np.all(np.isfinite(gp.theta)) and gp.predict(X)[1].max() < 0.5


def test_short_searches_refit_the_gp_at_every_point():
    from sk_hpo.testing import FUNCTIONS

    problem = FUNCTIONS["branin"]
    space = SearchSpace(problem.search_space)
    gp = GPOptimizer(space, 0, n_initial_points=5)
    fits = []
    for _ in range(15):
        point = gp.ask(1)[0]
        gp.tell([point], [problem(space.to_params(point))])
        fits.append(gp._fitted_on)
    assert fits[5:] == list(range(5, 15))


def test_acquisitions_polished_jointly_reach_what_each_reaches_alone_in_fewer_predictions():
    # The asynchronous mode polishes the three acquisitions' best candidates
    # in one L-BFGS-B problem: about as far, with a fraction of the predictions.
    # Summed over four seeds: how many iterations one problem takes varies
    # (with the length-scale prior peaked at 0.3, the ratio on one seed of
    # hartmann6 runs from 0.44 to 0.88 over seeds 0-3, 0.65 summed; levy10's
    # from 0.33 to 0.46, 0.38 summed).
    for name in ("hartmann6", "levy10"):
        problem = FUNCTIONS[name]
        predictions = {False: 0, True: 0}
        shortfalls = []  # how far short of each acquisition's own polish the joint one ends
        for seed in range(4):
            optimizer = GPOptimizer(SearchSpace(problem.search_space), seed)
            minimise(optimizer, problem, 25)
            best = optimizer._fit()
            points = optimizer.space.sample(500, np.random.default_rng(1))
            rows, starts = optimizer.encoding.encode(points), []
            for acq in optimizer.hedge.names:
                values = optimizer._acquire(acq, rows, best)
                starts += [(acq, points[i], values[i]) for i in np.argsort(-values)[:5]]
            reached = {}
            for jointly in (False, True):
                optimizer.polish_jointly = jointly
                calls = []
                predict = optimizer.gp.predict
                optimizer.gp.predict = (lambda *a, calls=calls, predict=predict, **k:
                                        calls.append(1) or predict(*a, **k))
                polished = optimizer._polish(starts, best)
                del optimizer.gp.predict
                predictions[jointly] += len(calls)
                reached[jointly] = {
                    acq: max(value for (a, _, _), (value, _) in zip(starts, polished) if a == acq)
                    for acq in optimizer.hedge.names
                }
                for (_, _, start_value), (value, _) in zip(starts, polished):
                    assert value >= start_value
            shortfalls += [reached[False][acq] - reached[True][acq] for acq in optimizer.hedge.names]
        # One problem of many coordinates may stop at another local optimum:
        # of these 24, levy10's seed 1 LCB ends 0.13 short (its PI 0.02 ahead).
        assert np.mean(shortfalls) < 0.02, (name, shortfalls)
        assert np.max(shortfalls) < 0.2, (name, shortfalls)
        assert predictions[True] < 0.75 * predictions[False], (name, predictions)
