"""Multi-fidelity searches whose promoted candidates continue training (continuation=)."""

import os
import pickle
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.ensemble import (
    ExtraTreesClassifier,
    GradientBoostingClassifier,
    HistGradientBoostingClassifier,
    RandomForestRegressor,
)
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.model_selection import KFold
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, TPESearchCV
from sk_hpo._continuation import ModelStore, detect

X_DIGITS, Y_DIGITS = load_digits(return_X_y=True)
X, Y = X_DIGITS[:360] / 16, Y_DIGITS[:360]
STAGES = []  # one entry per boosting stage fitted in this process


class CountingBoosting(GradientBoostingClassifier):
    """Gradient boosting that records every stage (tree round) it fits."""

    def _fit_stage(self, *args, **kwargs):
        STAGES.append(1)
        return super()._fit_stage(*args, **kwargs)


def _boosting_search(cls=TPESearchCV, **params):
    defaults = {
        "n_iter": 9, "resource": "n_estimators", "factor": 3, "cv": KFold(3),
        "random_state": 0, "refit": False,
    }  # fmt: skip
    space = {"learning_rate": (0.02, 0.5, "log-uniform"), "max_depth": [1, 2]}
    estimator = params.pop("estimator", CountingBoosting(n_estimators=9, random_state=0))
    return cls(estimator, space, **{**defaults, **params})


def _trained_per_candidate(results, n_splits):
    """What continuing trains: each candidate's highest level, on every split."""
    highest = {}
    for params, resource in zip(results["params"], results["n_resources"]):
        key = tuple(sorted((k, v) for k, v in params.items() if k != "n_estimators"))
        highest[key] = max(highest.get(key, 0), int(resource))
    return sum(highest.values()) * n_splits


# -- how an estimator continues --------------------------------------------------
@pytest.mark.parametrize(
    ("estimator", "resource", "mode"),
    [
        (GradientBoostingClassifier(random_state=0), "n_estimators", "total"),
        (ExtraTreesClassifier(random_state=0), "n_estimators", "total"),
        (RandomForestRegressor(random_state=0), "n_estimators", "total"),
        (HistGradientBoostingClassifier(random_state=0), "max_iter", "total"),
        (MLPClassifier(random_state=0), "max_iter", "increment"),
        (SGDClassifier(random_state=0), "max_iter", "increment"),
        (LogisticRegression(), "max_iter", "increment"),
        (make_pipeline(StandardScaler(), MLPClassifier(random_state=0)), "mlpclassifier__max_iter",
         "increment"),
    ],
)
def test_the_probe_tells_whole_model_resources_from_per_call_ones(estimator, resource, mode):
    found, warm_start, reason = detect(estimator, resource, X, Y, np.arange(300))
    assert (found, reason) == (mode, None)
    assert warm_start == resource.replace(resource.rpartition("__")[2], "warm_start")


def test_estimators_that_cannot_continue_say_why():
    assert detect(SVC(), "max_iter", X, Y, np.arange(300))[2] == "SVC has no warm_start parameter"
    assert "n_samples" in detect(MLPClassifier(), "n_samples", X, Y, np.arange(300))[2]


# -- what a search trains ---------------------------------------------------------
@pytest.mark.parametrize("cls", [TPESearchCV, BayesSearchCV])
def test_promoted_boosting_adds_only_the_missing_trees_and_scores_as_from_scratch(cls):
    STAGES.clear()
    continued = _boosting_search(cls).fit(X, Y)
    trained = len(STAGES) - 1  # the probe fits one stage
    STAGES.clear()
    scratch = _boosting_search(cls, continuation=False).fit(X, Y)
    assert continued.continuation_ == "total" and scratch.continuation_ is None
    results = continued.cv_results_
    assert list(results["n_resources"]) == [1] * 9 + [3] * 3 + [9]
    assert trained == _trained_per_candidate(results, 3) == (6 * 1 + 2 * 3 + 9) * 3
    assert len(STAGES) == (9 * 1 + 3 * 3 + 9) * 3  # from scratch: every rung again
    # Boosting continued is boosting trained at once: the same search.
    for key in ("params", "mean_test_score", "split2_test_score", "rank_test_score"):
        np.testing.assert_array_equal(results[key], scratch.cv_results_[key])


def test_asynchronous_successive_halving_continues_too():
    STAGES.clear()
    search = _boosting_search(asynchronous=True, n_iter=12).fit(X, Y)
    trained = len(STAGES) - 1
    assert search.continuation_ == "total"
    assert trained == _trained_per_candidate(search.cv_results_, 3)
    assert max(search.cv_results_["n_resources"]) == 9


def _mlp_search(**params):
    defaults = {
        "n_iter": 9, "resource": "max_iter", "factor": 3, "cv": KFold(2), "random_state": 1,
        "refit": False, "hyperband": True,
    }  # fmt: skip
    mlp = MLPClassifier(hidden_layer_sizes=(16,), max_iter=9, random_state=0)
    space = {"alpha": (1e-5, 1e-1, "log-uniform"), "learning_rate_init": (1e-3, 1e-1, "log-uniform")}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's ConvergenceWarning at few iterations
        return TPESearchCV(mlp, space, **{**defaults, **params}).fit(X, Y)


def _same_results(a, b):
    for key in ("params", "mean_test_score", "split1_test_score", "n_resources", "bracket"):
        np.testing.assert_array_equal(a.cv_results_[key], b.cv_results_[key], err_msg=key)


def test_per_call_estimators_continue_and_the_result_does_not_depend_on_the_workers():
    one = _mlp_search(n_jobs=1)
    assert one.continuation_ == "increment"
    _same_results(one, _mlp_search(n_jobs=1))
    _same_results(one, _mlp_search(n_jobs=2))
    # Continuing an MLP is not training it at once: the scores differ.
    scratch = _mlp_search(continuation=False)
    promoted = one.cv_results_["iter"] > one.cv_results_["iter"][0]
    assert promoted.any()
    assert not np.array_equal(
        one.cv_results_["mean_test_score"][promoted], scratch.cv_results_["mean_test_score"][promoted]
    )


def test_a_missing_lower_model_is_retrained_to_the_same_result():
    kept = _mlp_search()
    # Room for no model: every promoted candidate retrains its lower rungs.
    _same_results(kept, _mlp_search(max_model_bytes=1))


def test_models_live_in_model_directory_only_while_fit_runs(tmp_path):
    seen = []

    def look(state):
        seen.append(sum(len(files) for _, _, files in os.walk(tmp_path)))

    _mlp_search(model_directory=tmp_path, callbacks=look, hyperband=False)
    assert max(seen) > 0  # lower rungs' models were kept while the search ran
    assert list(tmp_path.iterdir()) == []  # and removed when fit ended


def test_a_stored_search_resumes_to_the_same_results(tmp_path):
    full = _mlp_search(n_iter=12)
    calls = iter(range(100))
    _mlp_search(n_iter=12, storage=tmp_path / "s.db", callbacks=lambda state: next(calls) == 4)
    resumed = _mlp_search(n_iter=12, storage=tmp_path / "s.db")
    assert 0 < resumed.n_resumed_ < len(full.cv_results_["params"])
    _same_results(full, resumed)


def test_continuation_true_refuses_an_estimator_that_cannot_before_any_fit():
    fits = []

    class CountingSVC(SVC):
        def fit(self, X, y):
            fits.append(1)
            return super().fit(X, y)

    search = TPESearchCV(
        CountingSVC(max_iter=9), {"C": (0.1, 10.0, "log-uniform")}, n_iter=9, resource="max_iter",
        continuation=True,
    )  # fmt: skip
    with pytest.raises(ValueError, match=r"continuation=True, but .*CountingSVC has no warm_start"):
        search.fit(X, Y)
    assert fits == []
    with pytest.raises(ValueError, match=r"'continuation' parameter"):
        _boosting_search(continuation="yes").fit(X, Y)


# -- the model store -----------------------------------------------------------
class _Marker:
    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (open, (self.path, "w"))


def test_the_store_never_unpickles_a_file_it_did_not_write(tmp_path):
    store = ModelStore(tmp_path, max_bytes=10**6)
    assert store.save("b0-abc-r1-s0", {"model": 1})
    assert store.load("b0-abc-r1-s0") == {"model": 1}
    marker = tmp_path / "ran"
    planted = pickle.dumps(_Marker(str(marker)))
    path = os.path.join(store.path, "b0-abc-r1-s0.model")
    with open(path, "rb") as file:
        signature = file.read()[:32]  # of another content
    for forged in (planted, b"\0" * 32 + planted, signature + planted):
        with open(path, "wb") as file:
            file.write(forged)
        assert store.load("b0-abc-r1-s0") is None
    # Another fit's store, in the same directory, reads none of this one's models.
    store.save("b0-abc-r1-s1", {"model": 2})
    other = ModelStore(tmp_path)
    other.path = store.path
    assert other.load("b0-abc-r1-s1") is None
    assert not marker.exists()
    store.close()
    assert not os.path.exists(store.path)


def test_the_store_evicts_the_oldest_models_to_stay_in_its_bound(tmp_path):
    model = np.zeros(1000)
    size = len(pickle.dumps(model)) + 32
    store = ModelStore(tmp_path, max_bytes=3 * size + 10)
    for i in range(5):
        assert store.save(f"m{i}", model)
        os.utime(os.path.join(store.path, f"m{i}.model"), ns=(i * 10**9, i * 10**9))
    assert store.n_bytes() <= store.max_bytes
    assert sorted(store.names()) == ["m2", "m3", "m4"]
    assert not store.save("big", np.zeros(10**5))  # larger than the bound: not kept


def test_a_study_stored_from_scratch_is_not_resumed_by_a_continuing_search(tmp_path):
    _boosting_search(continuation=False, storage=tmp_path / "s.db", n_iter=3).fit(X, Y)
    with pytest.raises(ValueError, match=r"(?s)made for a different search.*resources.*continuation"):
        _boosting_search(storage=tmp_path / "s.db", n_iter=3).fit(X, Y)
