"""The benchmarks' GP ablations (``benchmarks/gp_variants.py``) are correct models too."""

import numpy as np
from test_bayes import (
    _ten_hartmann6_points,
    assert_learns_relevant_dimensions,
    assert_posterior_gradient,
)

from benchmarks.gp_variants import (
    GP_VARIANTS,
    CopulaWarping,
    DimensionScaledPriorGP,
    LogWarping,
    Matern32GP,
)
from sk_hpo import SearchSpace
from sk_hpo._gp import GaussianProcess
from sk_hpo.testing import FUNCTIONS, minimise


def test_every_variant_s_gradient_matches_finite_differences():
    for gp_class in GP_VARIANTS.values():
        assert_posterior_gradient(gp_class())


def test_matern32_learns_relevant_dimensions_with_right_gradients():
    assert_learns_relevant_dimensions(Matern32GP())


def test_the_dimension_scaled_prior_lets_length_scales_grow():
    # Ten points of Hartmann-6: the library's prior (peaked at l = 1) keeps the
    # fitted length scales near the cube's side, where the dimension-scaled
    # log-normal used before (median 10 in six dimensions) lets them grow.
    for seed in range(3):
        X, y = _ten_hartmann6_points(seed)
        peaked = GaussianProcess().fit(X, y, np.random.default_rng(0))
        wide = DimensionScaledPriorGP().fit(X, y, np.random.default_rng(0))
        assert 0.5 < np.median(peaked.length_scales) < 2.5
        assert np.median(wide.length_scales) > 2 * np.median(peaked.length_scales)


def test_other_warpings_keep_the_order_and_still_search():
    losses = np.array([0.1, 0.2, 0.25, 0.3, 0.5, 0.7, 1.0, 1e6, np.inf])
    problem = FUNCTIONS["branin"]
    for cls in (CopulaWarping, LogWarping):
        optimizer = cls(SearchSpace(problem.search_space), 0)
        y = optimizer._warp(losses)
        assert np.all(np.isfinite(y)) and np.all(np.diff(y[:7]) > 0) and y[8] == y[7]
        values = minimise(optimizer, problem, 20)
        assert min(values) < 2.0  # the optimum is 0.398
