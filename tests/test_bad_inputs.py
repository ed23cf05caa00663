"""The catalogue of bad inputs: each is refused before any fit, by name.

Every case builds a search, fits it, and checks the exception names the
bad parameter and what is allowed, and that no model was trained.
"""

import re

import numpy as np
import pytest
from scipy import stats

from sk_hpo import (
    BayesSearchCV,
    Categorical,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo.testing import FUNCTIONS, FunctionEstimator

SPACE = {"a": Real(0, 1), "b": ["x", "y"]}
ALL = [RandomSearchCV, TPESearchCV, BayesSearchCV, GeneticSearchCV]

# (searches, parameters, message): the parameters replace those of a valid search.
PARAMETER_CASES = [
    # search spaces, in every malformed form
    (ALL, {"search_spaces": "a"}, "'search_spaces' parameter"),
    (ALL, {"search_spaces": []}, "search_spaces: an empty list has no candidates"),
    (ALL, {"search_spaces": [SPACE, ["b"]]}, "search_spaces[1] must be a dict of parameter names"),
    (ALL, {"search_spaces": {"": [1]}}, "parameter names must be non-empty strings"),
    (ALL, {"search_spaces": {"a": Real(1, 0)}}, "'a': Real(1, 0): low must be < high"),
    (ALL, {"search_spaces": {"a": Real(0, np.inf)}}, "'a': Real(0, inf): bounds must be finite"),
    (ALL, {"search_spaces": {"a": Real(0, 1, "log")}}, "prior='log' is not supported; use one of ('uniform', 'log-uniform')"),
    (ALL, {"search_spaces": {"a": Real(0, 1, "log-uniform")}}, "prior='log-uniform' needs low > 0"),
    (ALL, {"search_spaces": {"a": (0.0, 1.0, "log-uniform")}}, "prior='log-uniform' needs low > 0"),
    (ALL, {"search_spaces": {"a": Real("0", 1)}}, "'a': Real('0', 1): bounds must be real numbers"),
    (ALL, {"search_spaces": {"a": Integer(0.5, 3)}}, "bounds must be integers, got 0.5"),
    (ALL, {"search_spaces": {"a": Integer(0, 9, "log-uniform")}}, "needs low >= 1"),
    (ALL, {"search_spaces": {"b": []}}, "'b': Categorical: categories must not be empty"),
    (ALL, {"search_spaces": {"b": Categorical("xy")}}, "categories must be a list or tuple of values, got 'xy'"),
    (ALL, {"search_spaces": {"b": Categorical(["x", "y"], prior=[0.2])}}, "prior must be 2 non-negative"),
    (ALL, {"search_spaces": {"b": Categorical(["x", "y"], prior=[0.5, 0.6])}}, "prior must be 2 non-negative"),
    (ALL, {"search_spaces": {"a": stats.poisson(2)}}, "'a': the distribution 'poisson' is not supported"),
    (ALL, {"search_spaces": {"a": 0.5}}, "'a': 0.5 is not a search dimension"),
    (ALL, {"search_spaces": {"a": "rbf"}}, "'a': 'rbf' is not a search dimension"),
    # names the estimator does not have
    (ALL, {"search_spaces": {"c": Real(0, 1)}}, "'c': RecordingClassifier has no parameter 'c'; its parameters are ['a', 'b', 'fail_when']"),
    (ALL, {"search_spaces": {"a__b": Real(0, 1)}}, "'a__b': RecordingClassifier has no parameter 'a__b'"),
    # common parameters out of range or of the wrong type
    (ALL, {"n_iter": 0}, "'n_iter' parameter of {cls} must be an int in the range [1, inf)"),
    (ALL[:3], {"n_iter": 2.5}, "'n_iter' parameter"),
    (ALL[:3], {"n_points": 0}, "'n_points' parameter of {cls} must be an int in the range [1, inf)"),
    (ALL, {"n_jobs": "2"}, "'n_jobs' parameter of {cls} must be an instance of 'int' or None"),
    (ALL, {"random_state": "seed"}, "'random_state' parameter"),
    (ALL, {"error_score": "ignore"}, "'error_score' parameter"),
    (ALL, {"callbacks": [print, 3]}, "callbacks[1] must be callable"),
    (ALL, {"scoring": "acuracy"}, "'scoring' parameter of {cls} must be a str among"),
    (ALL, {"scoring": ["accuracy", "f1_macro"], "refit": "f1"}, "the parameter refit must be set to a scorer key"),
    (ALL, {"scoring": ["accuracy", "f1_macro"], "refit": True}, "the parameter refit must be set to a scorer key"),
    # TPE
    ([TPESearchCV], {"n_startup_trials": 0}, "'n_startup_trials' parameter of TPESearchCV must be an int in the range [1, inf)"),
    ([TPESearchCV], {"gamma": 0.25}, "'gamma' parameter of TPESearchCV must be a callable"),
    ([TPESearchCV], {"prior_weight": 0}, "'prior_weight' parameter of TPESearchCV must be a float in the range (0.0, inf)"),
    ([TPESearchCV], {"multivariate": "yes"}, "'multivariate' parameter"),
    # Bayes
    ([BayesSearchCV], {"n_initial_points": 0}, "'n_initial_points' parameter of BayesSearchCV"),
    ([BayesSearchCV], {"acq_func": "EE"}, "'acq_func' parameter of BayesSearchCV must be a str among"),
    ([BayesSearchCV], {"initial_point_generator": "grid"}, "'initial_point_generator' parameter"),
    ([BayesSearchCV], {"xi": -1.0}, "'xi' parameter"),
    ([BayesSearchCV], {"kappa": -1.0}, "'kappa' parameter"),
    ([BayesSearchCV], {"optimizer_kwargs": {"acq_optimizer_kwargs": {"n_restarts_optimizer": -1}}},
     "optimizer_kwargs['acq_optimizer_kwargs']['n_restarts_optimizer']\" parameter of BayesSearchCV must be an int in the range [0, inf). Got -1"),
    ([BayesSearchCV], {"optimizer_kwargs": {"foo": 1}}, "optimizer_kwargs: unknown key(s) ['foo']; supported are"),
    ([BayesSearchCV], {"optimizer_kwargs": {"base_estimator": "RF"}}, "base_estimator"),
    # Genetic
    ([GeneticSearchCV], {"population_size": 1}, "'population_size' parameter of GeneticSearchCV must be an int in the range [2, inf)"),
    ([GeneticSearchCV], {"generations": -1}, "'generations' parameter of GeneticSearchCV must be an int in the range [0, inf) or None"),
    ([GeneticSearchCV], {"tournament_size": 0}, "'tournament_size' parameter"),
    ([GeneticSearchCV], {"crossover_probability": 1.5}, "'crossover_probability' parameter of GeneticSearchCV must be a float in the range [0.0, 1.0]"),
    ([GeneticSearchCV], {"mutation_probability": -0.1}, "'mutation_probability' parameter"),
    ([GeneticSearchCV], {"elitism": 11}, "'elitism' parameter of GeneticSearchCV must be <= population_size=10, got 11"),
    ([GeneticSearchCV], {"mutation_step": 0}, "'mutation_step' parameter"),
    # configurations to evaluate first
    (ALL, {"initial_params": {"a": 0.5, "b": "x"}}, "'initial_params' parameter of {cls} must be an instance of 'list'"),
    (ALL, {"initial_params": [0.5]}, "initial_params[0] must be a dict of parameter values, got 0.5"),
    (ALL, {"initial_params": [{"a": 0.5}]}, "initial_params[0]: {'a': 0.5} is not a point of the search space: its parameters ['a'] are not those of the space, ['a', 'b']"),
    (ALL, {"initial_params": [{"a": 1.5, "b": "x"}]}, "'a': 1.5 is outside Real(0, 1, prior='uniform')"),
    (ALL, {"initial_params": [{"a": 0.5, "b": "z"}]}, "'b': 'z' is not one of ['x', 'y']"),
    (ALL, {"initial_params": [{"a": "0.5", "b": "x"}]}, "'a': '0.5' is not a number"),
    (ALL, {"n_iter": 1, "initial_params": [{"a": 0.1, "b": "x"}, {"a": 0.2, "b": "x"}]}, "initial_params holds 2 distinct candidates, more than the 1"),
    # storage
    (ALL, {"storage": 3}, "'storage' parameter of {cls} must be an instance of 'str', an instance of 'os.PathLike' or None"),
    (ALL, {"storage": "{tmp}"}, "is a directory; give the path of a database file"),
    (ALL, {"storage": "{tmp}/missing/search.db"}, "cannot open or create an SQLite database there"),
    (ALL, {"storage": "{tmp}/notes.txt"}, "is not an SQLite database (file is not a database)"),
    (ALL, {"storage": "{tmp}/search.db", "study_name": 3}, "'study_name' parameter"),
    (ALL, {"resume": "yes"}, "'resume' parameter of {cls} must be an instance of 'bool'"),
]


def _cases():
    for searches, params, message in PARAMETER_CASES:
        for cls in searches:
            yield pytest.param(cls, params, message, id=f"{cls.__name__}-{min(params)}-{message[:30]}")


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    return rng.normal(size=(40, 3)), np.arange(40) % 2


@pytest.mark.parametrize("cls, params, message", list(_cases()))
def test_bad_parameter_is_refused_before_any_fit(cls, params, message, data, tmp_path, recording):
    (tmp_path / "notes.txt").write_text("not a database " * 100)
    params = {
        key: value.format(tmp=tmp_path) if isinstance(value, str) and "{tmp}" in value else value
        for key, value in params.items()
    }
    search = cls(recording(), SPACE, n_iter=4, cv=2, random_state=0)
    search.set_params(**params)
    with pytest.raises((ValueError, TypeError)) as info:
        search.fit(*data)
    assert message.replace("{cls}", cls.__name__) in str(info.value)
    assert recording.fits == []


def _nan_target(n):
    y = (np.arange(n) % 2).astype(float)
    y[5] = np.nan
    return y


DATA_CASES = [
    (np.zeros((0, 3)), np.zeros(0), "X has 0 samples"),
    (np.zeros((40, 3)), np.arange(39) % 2, "inconsistent numbers of samples: [40, 39]"),
    (np.zeros((40, 3)), _nan_target(40), "y has 1 missing or infinite targets (the first at index 5)"),
    (np.zeros((40, 3)), np.array(["a", None] * 20, dtype=object), "y has 20 missing or infinite targets (the first at index 1)"),
    (None, np.arange(40) % 2, "Expected sequence or array-like, got <class 'NoneType'>"),
]


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize("X, y, message", DATA_CASES)
def test_bad_data_is_refused_before_any_fit(cls, X, y, message, recording):
    with pytest.raises((ValueError, TypeError)) as info:
        cls(recording(), SPACE, n_iter=4, cv=2).fit(X, y)
    assert message in str(info.value)
    assert recording.fits == []


class _MinimalEstimator:
    """scikit-learn's minimal protocol, without BaseEstimator: ``set_params``
    takes names ``get_params`` does not list (``gamma`` here)."""

    def __init__(self, C=1.0):
        self.C = C

    def get_params(self, deep=True):
        return {"C": self.C}

    def set_params(self, **params):
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def fit(self, X, y):
        self.fitted_ = True
        return self

    def score(self, X, y):
        return -abs(getattr(self, "gamma", 0.0) - 0.3) - abs(self.C - 1.0)

    def __sklearn_tags__(self):
        from sklearn.utils import Tags, TargetTags

        return Tags(estimator_type=None, target_tags=TargetTags(required=False))


def test_a_name_set_params_accepts_is_searched_though_get_params_omits_it():
    from sklearn.model_selection import RandomizedSearchCV

    from scipy.stats import uniform
    from sklearn.svm import SVC

    from sk_hpo import Real, TPESearchCV

    X, y = np.zeros((6, 1)), np.arange(6) % 2
    space = {"gamma": uniform(0.0, 1.0), "C": uniform(0.5, 1.5)}
    theirs = RandomizedSearchCV(_MinimalEstimator(), space, n_iter=3, cv=2, random_state=0)
    theirs.fit(X, y)
    ours = TPESearchCV(_MinimalEstimator(), space, n_iter=12, cv=2, random_state=0).fit(X, y)
    assert len(ours.cv_results_["params"]) == 12 and ours.best_score_ > -0.6
    # A real typo is still refused before any fit, with the parameters listed.
    with pytest.raises(ValueError, match=r"'gama'.*SVC has no parameter 'gama'; its parameters are \['C'"):
        TPESearchCV(SVC(), {"gama": Real(0.1, 1.0)}, n_iter=2, cv=2).fit(X, y)


def test_a_minimal_estimator_inside_a_pipeline_is_searched_as_scikit_learn_does():
    from scipy.stats import uniform
    from sklearn.model_selection import RandomizedSearchCV
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    from sk_hpo import BayesSearchCV

    X, y = np.arange(12.0).reshape(6, 2), np.arange(6) % 2
    pipe = Pipeline([("scale", StandardScaler()), ("model", _MinimalEstimator())])
    space = {"model__gamma": uniform(0.0, 1.0), "model__C": uniform(0.5, 1.5)}
    RandomizedSearchCV(pipe, space, n_iter=3, cv=2, random_state=0).fit(X, y)
    ours = BayesSearchCV(pipe, space, n_iter=10, cv=2, random_state=0).fit(X, y)
    assert len(ours.cv_results_["params"]) == 10
    assert ours.best_estimator_.named_steps["model"].gamma == ours.best_params_["model__gamma"]
    # The minimal estimator takes any name, as its set_params does; a step
    # the pipeline does not have is still refused before any fit.
    with pytest.raises(ValueError, match=r"'modle__gamma'"):
        BayesSearchCV(pipe, {"modle__gamma": uniform(0, 1)}, n_iter=2, cv=2).fit(X, y)


@pytest.mark.parametrize("cls", ALL)
@pytest.mark.parametrize(
    "name, ours",
    [("n_trials", "use n_iter"), ("timeout", "DeadlineStopper(total_time=seconds)"),
     ("param_distributions", "use search_spaces"), ("param_grid", "use search_spaces"),
     ("study", "storage=<file> and study_name=<name>"), ("sampler", "TPESearchCV for Optuna's TPESampler")],
)
def test_another_librarys_parameter_name_is_refused_naming_ours(cls, name, ours):
    with pytest.raises(TypeError, match=rf"{cls.__name__} has no parameter '{name}'; .*{re.escape(ours)}"):
        cls(FunctionEstimator(), FUNCTIONS["branin"].search_space, **{name: 10})
    # A name no library uses keeps Python's own message.
    with pytest.raises(TypeError, match="unexpected keyword argument 'n_trails'"):
        cls(FunctionEstimator(), FUNCTIONS["branin"].search_space, n_trails=10)
