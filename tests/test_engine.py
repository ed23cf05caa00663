"""The search engine, exercised through RandomSearchCV."""

import warnings

import numpy as np
import pytest
from scipy import stats
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, make_regression
from sklearn.exceptions import FitFailedWarning
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import (
    GridSearchCV,
    GroupKFold,
    RandomizedSearchCV,
    cross_val_score,
)
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC, LinearSVC
from sklearn.tree import DecisionTreeClassifier

from sk_hpo import (
    BayesSearchCV,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo._run import FAILURE_PATIENCE
from sk_hpo.callbacks import NoImprovementStopper, SearchState, ThresholdStopper
from sk_hpo.testing import (
    FUNCTIONS,
    FunctionEstimator,
    assert_same_cv_results,
    dummy_data,
)


def _grid_equivalent(search, X, y, **kwargs):
    """A GridSearchCV that evaluates exactly the candidates ``search`` chose."""
    grid = [{k: [v] for k, v in params.items()} for params in search.cv_results_["params"]]
    return GridSearchCV(search.estimator, grid, **kwargs).fit(X, y)


def _assert_same_structure(ours, theirs):
    assert_same_cv_results(ours, theirs)


@pytest.mark.parametrize("return_train_score", [False, True])
def test_cv_results_match_scikit_learn_for_the_same_candidates(iris, return_train_score):
    X, y = iris
    space = {
        "C": Real(1e-2, 1e2, prior="log-uniform"),
        "kernel": ["rbf", "linear"],
        "degree": Integer(1, 3),
    }
    search = RandomSearchCV(
        SVC(), space, n_iter=7, n_points=3, random_state=0, return_train_score=return_train_score
    ).fit(X, y)
    grid = _grid_equivalent(search, X, y, return_train_score=return_train_score)
    _assert_same_structure(search.cv_results_, grid.cv_results_)
    assert search.best_params_ == grid.best_params_
    assert search.best_index_ == grid.best_index_
    assert search.best_score_ == grid.best_score_
    assert search.n_splits_ == 5
    assert search.refit_time_ >= 0
    assert search.best_estimator_.get_params()["C"] == search.best_params_["C"]
    pd = pytest.importorskip("pandas")
    assert pd.DataFrame(search.cv_results_).shape[0] == 7


def test_scikit_learn_randomized_search_space_drops_in(iris):
    X, y = iris
    # The example space of RandomizedSearchCV's user guide.
    distributions = {
        "C": stats.expon(scale=100),
        "gamma": stats.expon(scale=0.1),
        "kernel": ["rbf"],
        "class_weight": ["balanced", None],
    }
    sk = RandomizedSearchCV(SVC(), distributions, n_iter=6, random_state=0).fit(X, y)
    ours = RandomSearchCV(SVC(), distributions, n_iter=6, random_state=0).fit(X, y)
    assert list(ours.cv_results_) == list(sk.cv_results_)
    for params in ours.cv_results_["params"]:
        assert params["C"] > 0 and params["gamma"] > 0
        assert params["class_weight"] in ("balanced", None)


def test_multimetric_refit_name_is_what_gets_optimised():
    X, y = load_breast_cancer(return_X_y=True)
    search = RandomSearchCV(
        Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())]),
        {"clf__C": Real(1e-4, 1e2, prior="log-uniform")},
        scoring={"acc": "accuracy", "nll": "neg_log_loss"},
        refit="nll",
        n_iter=6,
        n_points=2,
        random_state=0,
    ).fit(X, y)
    results = search.cv_results_
    assert {"mean_test_acc", "mean_test_nll", "rank_test_nll"} <= set(results)
    np.testing.assert_allclose(search.optimizer_.losses, -results["mean_test_nll"])
    assert search.best_index_ == np.argmax(results["mean_test_nll"])
    assert search.best_score_ == results["mean_test_nll"][search.best_index_]
    assert set(search.scorer_) == {"acc", "nll"}


def test_callable_refit(iris):
    X, y = iris
    def simplest_good(results):
        good = np.flatnonzero(results["mean_test_score"] >= results["mean_test_score"].max() - 0.05)
        return int(good[np.argmin(results["param_max_depth"][good])])

    search = RandomSearchCV(
        DecisionTreeClassifier(random_state=0),
        {"max_depth": Integer(1, 8)},
        refit=simplest_good,
        n_iter=6,
        random_state=0,
    ).fit(X, y)
    assert search.best_index_ == simplest_good(search.cv_results_)
    assert not hasattr(search, "best_score_")


def test_multimetric_without_refit_optimises_the_first_metric(iris):
    X, y = iris
    search = RandomSearchCV(
        SVC(),
        {"C": Real(1e-2, 1e2, prior="log-uniform")},
        scoring=["f1_macro", "accuracy"],
        refit=False,
        n_iter=4,
        random_state=0,
    ).fit(X, y)
    np.testing.assert_allclose(search.optimizer_.losses, -search.cv_results_["mean_test_f1_macro"])
    assert not hasattr(search, "best_estimator_")


def test_one_failing_candidate_per_batch_does_not_end_the_search():
    X, y = load_breast_cancer(return_X_y=True)
    # LinearSVC cannot combine an l1 penalty with the hinge loss: a quarter
    # of the space fails, and with one candidate per batch every such batch
    # fails entirely, which would end a plain BaseSearchCV.
    space = {"penalty": ["l1", "l2"], "loss": ["hinge", "squared_hinge"], "C": Real(0.01, 1)}
    search = RandomSearchCV(
        Pipeline([("scale", StandardScaler()), ("clf", LinearSVC())]),
        {f"clf__{k}": v for k, v in space.items()},
        n_iter=12,
        n_points=1,
        random_state=1,
        cv=3,
    )
    with pytest.warns(FitFailedWarning, match="All the 3 fits of this batch failed"):
        search.fit(X, y)
    results = search.cv_results_
    assert len(results["params"]) == 12

    def invalid(params):
        return params["clf__penalty"] == "l1" and params["clf__loss"] == "hinge"

    failed = np.array([invalid(p) for p in results["params"]])
    assert failed.any() and not failed.all()
    assert np.all(np.isnan(results["mean_test_score"][failed]))
    assert np.all(np.isfinite(results["mean_test_score"][~failed]))
    told = [
        (invalid(search.search_space_.to_params(point)), loss)
        for point, loss in zip(search.optimizer_.points, search.optimizer_.losses)
    ]
    assert all(np.isinf(loss) == bad for bad, loss in told)
    assert not invalid(search.best_params_)


def test_numeric_error_score_is_kept_in_results_but_told_as_a_failure(iris, recording):
    X, y = iris
    est = recording(fail_when=lambda a, b: b == "y")
    search = RandomSearchCV(
        est, {"a": Real(0, 1), "b": ["x", "y"]}, n_iter=10, error_score=-5.0, random_state=0
    )
    with pytest.warns(FitFailedWarning):
        search.fit(X, y)
    failed = np.array([p["b"] == "y" for p in search.cv_results_["params"]])
    assert failed.any()
    assert np.all(search.cv_results_["mean_test_score"][failed] == -5.0)
    assert np.all(np.isinf(np.asarray(search.optimizer_.losses)[failed]))


def test_search_where_everything_fails_stops_early_with_scikit_learn_error(iris, recording):
    X, y = iris
    est = recording(fail_when=lambda a, b: True)
    search = RandomSearchCV(est, {"a": Real(0, 1)}, n_iter=40, cv=3, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with pytest.raises(ValueError, match="fits failed") as info:
            search.fit(X, y)
    assert "invalid combination" in str(info.value)
    assert len(recording.fits) == FAILURE_PATIENCE * 3


def test_error_score_raise_propagates(iris, recording):
    X, y = iris
    est = recording(fail_when=lambda a, b: True)
    with pytest.raises(ValueError, match="invalid combination"):
        RandomSearchCV(est, {"a": Real(0, 1)}, n_iter=3, error_score="raise").fit(X, y)


def test_groups_and_fit_params_reach_cv_and_estimator(iris, recording):
    X, y = iris
    groups = np.arange(len(y)) % 4
    weights = np.linspace(1, 2, len(y))
    search = RandomSearchCV(
        recording(), {"a": Real(0, 1)}, n_iter=2, cv=GroupKFold(n_splits=4), random_state=0
    )
    search.fit(X, y, groups=groups, sample_weight=weights)
    assert search.n_splits_ == 4
    cv_fits = recording.fits[:-1]  # the last fit is the refit on all data
    assert len(cv_fits) == 2 * 4
    assert {len(fit["sample_weight"]) for fit in cv_fits} == {112, 113}  # 3 of 4 groups
    assert len(recording.fits[-1]["sample_weight"]) == len(y)
    with pytest.raises(ValueError, match="groups"):
        clone(search).fit(X, y)


def test_pipeline_nested_cv_clone_and_delegation():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = Pipeline([("scale", StandardScaler()), ("clf", LogisticRegression())])
    search = RandomSearchCV(
        pipe, {"clf__C": Real(1e-3, 1e2, prior="log-uniform")}, n_iter=3, cv=3, random_state=0
    )
    scores = cross_val_score(search, X, y, cv=3)
    assert scores.shape == (3,) and scores.min() > 0.9
    twin = clone(search)
    assert twin.get_params()["n_iter"] == 3
    twin.set_params(n_iter=2, estimator__clf__max_iter=500)
    assert twin.estimator.named_steps["clf"].max_iter == 500
    twin.fit(X, y)
    assert twin.predict_proba(X).shape == (len(y), 2)
    np.testing.assert_allclose(
        twin.decision_function(X), twin.best_estimator_.decision_function(X)
    )
    assert len(twin.cv_results_["params"]) == 2


def test_conditional_space_searches_branches_jointly(iris):
    X, y = iris
    pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    space = [
        {"clf": [SVC()], "clf__C": Real(1e-2, 1e2, prior="log-uniform")},
        {"clf": [KNeighborsClassifier()], "clf__n_neighbors": Integer(1, 30)},
        {"clf": [DecisionTreeClassifier(random_state=0)], "clf__max_depth": Integer(1, 5)},
    ]
    search = RandomSearchCV(pipe, space, n_iter=15, n_points=3, random_state=0).fit(X, y)
    kinds = [type(p["clf"]).__name__ for p in search.cv_results_["params"]]
    assert set(kinds) == {"SVC", "KNeighborsClassifier", "DecisionTreeClassifier"}
    for params in search.cv_results_["params"]:
        branch = {"SVC": 0, "KNeighborsClassifier": 1, "DecisionTreeClassifier": 2}
        assert set(params) == set(space[branch[type(params["clf"]).__name__]])
    assert search.cv_results_["param_clf__n_neighbors"].mask.any()
    best = search.best_estimator_.named_steps["clf"]
    assert type(best) is type(search.best_params_["clf"])


def test_no_candidate_is_fitted_twice_and_exhausted_space_stops(iris, recording):
    X, y = iris
    search = RandomSearchCV(
        recording(), {"a": [0.0, 0.3, 0.6], "b": ["x", "y"]}, n_iter=20, n_points=4, cv=2,
        random_state=0,
    )
    with pytest.warns(UserWarning, match="no new candidate left after 6 distinct"):
        search.fit(X, y)
    params = [tuple(sorted(p.items())) for p in search.cv_results_["params"]]
    assert len(params) == len(set(params)) == 6
    assert len(recording.fits) == 6 * 2 + 1
    assert search.n_duplicates_ > 0
    assert search.best_params_ == {"a": 0.3, "b": "x"}


def _candidates(search):
    return [tuple(sorted(p.items())) for p in search.cv_results_["params"]]


def test_same_random_state_same_candidates_for_any_n_jobs(iris):
    X, y = iris
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear", "poly"]}
    runs = [
        RandomSearchCV(SVC(), space, n_iter=8, n_points=2, n_jobs=n_jobs, random_state=3).fit(X, y)
        for n_jobs in (1, 2, 1)
    ]
    assert _candidates(runs[0]) == _candidates(runs[1]) == _candidates(runs[2])
    np.testing.assert_allclose(
        runs[0].cv_results_["mean_test_score"], runs[1].cv_results_["mean_test_score"]
    )
    other = RandomSearchCV(SVC(), space, n_iter=8, random_state=4).fit(X, y)
    assert _candidates(other) != _candidates(runs[0])


def test_callbacks_stop_the_search_and_see_its_state(iris, recording):
    X, y = iris
    seen = []

    def spy(state):
        assert isinstance(state, SearchState)
        seen.append((state.n_evaluated, state.best_score, len(state.cv_results["params"])))

    search = RandomSearchCV(
        recording(), {"a": Real(0, 1)}, n_iter=30, n_points=2, cv=2, random_state=0,
        callbacks=[spy, ThresholdStopper(-0.01)],
    ).fit(X, y)
    n_done = len(search.cv_results_["params"])
    assert n_done < 30 and search.best_score_ >= -0.01
    assert [s[0] for s in seen] == list(range(2, n_done + 1, 2))
    assert all(s[0] == s[2] for s in seen)
    assert search.best_estimator_.a == search.best_params_["a"]

    search = RandomSearchCV(
        recording(), {"a": Real(0, 1)}, n_iter=50, cv=2, random_state=0,
        callbacks=NoImprovementStopper(5),
    ).fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    assert len(scores) < 50
    assert np.argmax(scores) == len(scores) - 6


def test_bad_callback_is_refused_before_fitting(iris, recording):
    X, y = iris
    with pytest.raises(ValueError, match=r"callbacks\[1\] must be callable"):
        RandomSearchCV(recording(), {"a": Real(0, 1)}, callbacks=[print, 3]).fit(X, y)
    assert recording.fits == []


@pytest.mark.parametrize(
    "space, message",
    [
        ({"a": Real(1, 1e-3)}, "search space parameter 'a': Real(1, 0.001): low must be < high"),
        ({"a": (0.0, 1.0, "log-uniform")}, "'a': Real(0.0, 1.0): prior='log-uniform' needs low > 0"),
        ({"b": []}, "'b': Categorical: categories must not be empty"),
        ({"a": stats.poisson(2)}, "'a': the distribution 'poisson' is not supported"),
        ({"c": Real(0, 1)}, "'c': RecordingClassifier has no parameter 'c'; its parameters are ['a', 'b', 'fail_when']"),
        ([{"a": [0.1]}, ["b"]], r"search_spaces[1] must be a dict of parameter names"),
        ({"a": 0.5}, "'a': 0.5 is not a search dimension"),
    ],
)
def test_bad_search_spaces_fail_before_any_fit(iris, recording, space, message):
    X, y = iris
    with pytest.raises(ValueError) as info:
        RandomSearchCV(recording(), space, n_iter=3).fit(X, y)
    assert message in str(info.value)
    assert recording.fits == []


@pytest.mark.parametrize(
    "params, message",
    [
        ({"n_iter": 0}, "'n_iter' parameter of RandomSearchCV must be an int in the range [1, inf)"),
        ({"n_points": 1.5}, "'n_points' parameter"),
        ({"search_spaces": "C"}, "'search_spaces' parameter"),
    ],
)
def test_bad_constructor_parameters_fail_in_fit(iris, recording, params, message):
    X, y = iris
    search = RandomSearchCV(recording(), {"a": Real(0, 1)})
    search.set_params(**params)
    with pytest.raises(ValueError) as info:
        search.fit(X, y)
    assert message in str(info.value)
    assert recording.fits == []


def test_nested_names_are_checked_against_every_searched_estimator(iris):
    X, y = iris
    pipe = Pipeline([("clf", SVC())])
    ok = [{"clf": [DecisionTreeClassifier()], "clf__max_depth": Integer(1, 3)}]
    RandomSearchCV(pipe, ok, n_iter=2).fit(X, y)
    bad = [
        {"clf": [SVC()], "clf__C": Real(0.1, 1)},
        {"clf": [DecisionTreeClassifier(), SVC()], "clf__max_depth": Integer(1, 3)},
    ]
    with pytest.raises(ValueError) as info:
        RandomSearchCV(pipe, bad, n_iter=2).fit(X, y)
    text = str(info.value)
    assert "'clf__max_depth' (branch 1)" in text and "when 'clf' is SVC()" in text
    assert "SVC has no parameter 'max_depth'" in text


def test_regression_with_neg_mse():
    X, y = make_regression(n_samples=80, n_features=5, noise=5.0, random_state=0)
    search = RandomSearchCV(
        Ridge(), {"alpha": Real(1e-3, 1e3, prior="log-uniform")},
        scoring="neg_mean_squared_error", n_iter=6, random_state=0,
    ).fit(X, y)
    assert search.best_score_ == search.cv_results_["mean_test_score"].max()
    assert search.best_score_ < 0


@pytest.mark.parametrize("cls", [RandomSearchCV, TPESearchCV, BayesSearchCV, GeneticSearchCV])
def test_a_scorer_returning_nan_on_some_splits_warns_once_per_fit(cls):
    # scikit-learn warns once per fit ("One or more of the test scores are
    # non-finite"); 30 candidates in batches must not repeat it per batch.
    X, y = dummy_data()

    def score_or_nan(estimator, X_test, y_test):
        return np.nan if estimator.x0 > 2.5 else -estimator.x0**2

    batch = {"population_size": 6} if cls is GeneticSearchCV else {"n_points": 3}
    search = cls(FunctionEstimator("branin"), FUNCTIONS["branin"].search_space, n_iter=30,
                 cv=2, scoring=score_or_nan, random_state=0, **batch)  # fmt: skip
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X, y)
    assert np.isnan(search.cv_results_["mean_test_score"]).sum() >= 2
    assert len([w for w in caught if "non-finite" in str(w.message)]) == 1


@pytest.mark.parametrize("cls", [RandomSearchCV, TPESearchCV, BayesSearchCV, GeneticSearchCV])
def test_non_finite_test_and_train_scores_warn_as_scikit_learn_warns(cls):
    # With train scores, scikit-learn warns once for the test scores and once
    # for the train scores: ours give the same two warnings, in that order.
    X, y = dummy_data()

    def score_or_nan(estimator, X_test, y_test):
        return np.nan if estimator.x0 > 2.5 else -estimator.x0**2

    def non_finite(search):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            search.fit(X, y)
        return [(w.category, str(w.message).split(":")[0]) for w in caught
                if "non-finite" in str(w.message)]  # fmt: skip

    batch = {"population_size": 6} if cls is GeneticSearchCV else {"n_points": 3}
    ours = cls(FunctionEstimator("branin"), FUNCTIONS["branin"].search_space, n_iter=12, cv=2,
               scoring=score_or_nan, return_train_score=True, random_state=0, **batch)
    theirs = GridSearchCV(FunctionEstimator("branin"), {"x0": [0.0, 3.0]}, cv=2,
                          scoring=score_or_nan, return_train_score=True)
    assert non_finite(ours) == non_finite(theirs) == [
        (UserWarning, "One or more of the test scores are non-finite"),
        (UserWarning, "One or more of the train scores are non-finite"),
    ]

