"""sk_hpo.keras: SciKeras wrappers that scikit-learn recognises, and searching them."""

import subprocess
import sys

import numpy as np
import pytest

pytest.importorskip("scikeras")
keras = pytest.importorskip("keras")

from sklearn.base import clone, is_classifier, is_regressor
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, load_digits, make_regression
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import get_scorer
from sklearn.model_selection import (
    StratifiedKFold,
    check_cv,
    cross_val_predict,
    cross_val_score,
)
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils import get_tags

from sk_hpo import Integer, PerLayer, Real, TPESearchCV
from sk_hpo.keras import KerasClassifier, KerasRegressor, _pool, conv_network


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[::3] / 16.0, y[::3]


@pytest.fixture(scope="module")
def binary():
    X, y = load_breast_cancer(return_X_y=True)
    X = StandardScaler().fit_transform(X)
    return X[::2], y[::2]


def small(cls=KerasClassifier, **params):
    defaults = {
        "model__hidden_layer_sizes": (16,), "optimizer": "adam",
        "optimizer__learning_rate": 0.01, "epochs": 5, "random_state": 0,
    }  # fmt: skip
    return cls(**{**defaults, **params})


def test_scikit_learn_recognises_classifier_and_regressor(binary):
    clf, reg = KerasClassifier(), KerasRegressor()
    assert is_classifier(clf) and not is_regressor(clf)
    assert is_regressor(reg) and not is_classifier(reg)
    assert get_tags(clf).estimator_type == "classifier"
    assert get_tags(reg).estimator_type == "regressor"
    assert get_tags(clf).target_tags.required
    _, y = binary
    assert isinstance(check_cv(3, y, classifier=is_classifier(clf)), StratifiedKFold)


def test_every_scorer_and_probability_cv_work(binary):
    X, y = binary
    auc = cross_val_score(small(), X, y, scoring="roc_auc", cv=3)
    assert np.all(np.isfinite(auc)) and auc.mean() > 0.9
    proba = cross_val_predict(small(), X, y, cv=3, method="predict_proba")
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, rtol=1e-5)
    assert np.all(np.isfinite(cross_val_score(small(), X, y, scoring="neg_log_loss", cv=3)))


def test_meta_estimators_accept_the_wrappers(binary):
    X, y = binary
    calibrated = CalibratedClassifierCV(small(), cv=2).fit(X, y)
    assert calibrated.predict_proba(X).shape == (len(y), 2)
    voting = VotingClassifier([("net", small()), ("lr", LogisticRegression())], voting="soft")
    assert voting.fit(X, y).score(X, y) > 0.9
    stacking = StackingClassifier([("net", small())], LogisticRegression(), cv=2)
    assert stacking.fit(X, y).score(X, y) > 0.9


def test_default_network_follows_the_task(digits, binary):
    X, y = digits
    clf = small(model__hidden_layer_sizes=(32, 16), model__dropout=0.1).fit(X, y)
    dense = [layer for layer in clf.model_.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [32, 16, 10]
    assert dense[-1].activation.__name__ == "softmax"
    assert any(isinstance(layer, keras.layers.Dropout) for layer in clf.model_.layers)
    assert clf.model_.optimizer.learning_rate.numpy() == pytest.approx(0.01)
    assert clf.score(X, y) > 0.8

    Xb, yb = binary
    out = small().fit(Xb, yb).model_.layers[-1]
    assert out.units == 1 and out.activation.__name__ == "sigmoid"

    Xr, yr = make_regression(200, 5, n_targets=2, random_state=0)
    reg = small(KerasRegressor, model__n_layers=3, model__units=8).fit(Xr, yr / yr.std())
    dense = [layer for layer in reg.model_.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [8, 8, 8, 2]
    assert reg.predict(Xr).shape == (200, 2)


def test_conv_network_on_flat_digits(digits):
    X, y = digits
    clf = KerasClassifier("conv", model__filters=(8,), model__dense_units=(16,), optimizer="adam", optimizer__learning_rate=0.01,
                          epochs=10, random_state=0).fit(X, y)  # fmt: skip
    assert any(isinstance(layer, keras.layers.Conv2D) for layer in clf.model_.layers)
    assert clf.score(X, y) > 0.8
    own = KerasClassifier(conv_network, model__filters=4, model__dense_units=(), epochs=1)
    assert own.fit(X, y).predict(X).shape == y.shape


def test_random_state_repeats_a_fit_and_each_model_starts_a_clean_session(digits):
    X, y = digits
    first, second = small().fit(X, y), small().fit(X, y)
    np.testing.assert_array_equal(first.predict_proba(X), second.predict_proba(X))
    # Keras's global state was cleared: layer names restart from scratch.
    assert second.model_.layers[1].name == "dense"


def test_consecutive_fits_keep_no_traced_graph_but_the_pooled_ones(digits, monkeypatch):
    # Keras's optimizer registers a process-wide gradient function at every
    # trace, holding the traced training graph; the wrapper releases them.
    # The pool keeps a bounded number of traced models, and no more.
    import gc

    from tensorflow.python.eager import context
    from tensorflow.python.framework import ops

    monkeypatch.setattr(_pool.POOL, "max_models", 2)
    _pool.POOL.clear()
    X, y = digits
    registry = ops._gradient_registry._registry

    def live_state():
        gc.collect()
        custom = sum(name.startswith("CustomGradient") for name in registry)
        return custom, len(context.context().list_function_names())

    # The first fits also register each op type's eager kernel, once, and fill the pool.
    small(epochs=1).fit(X, y)
    small(epochs=1, model__hidden_layer_sizes=(8, 8)).fit(X, y)
    after_two = live_state()
    for sizes in [(16,), (8, 8), (4, 4), (4,), (2, 2)]:  # hits, then new ones evicting old ones
        small(epochs=1, model__hidden_layer_sizes=sizes).fit(X, y)
    assert live_state() == after_two
    assert len(_pool.POOL) == 2

    # Plain Keras, for contrast, leaves them: the check above can fail.
    model = small(epochs=1).fit(X, y).model_
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop")
    model.fit(X, y, epochs=1, verbose=0)
    assert live_state()[0] > after_two[0]


def _fits(digits, runs, pool_size, monkeypatch):
    monkeypatch.setattr(_pool.POOL, "max_models", pool_size)
    _pool.POOL.clear()
    X, y = digits
    return [small(**params).fit(X, y) for params in runs]


def test_a_pooled_fit_gives_the_model_its_own_fit_would_have(digits, monkeypatch):
    X, y = digits
    runs = [
        {"model__dropout": 0.3},  # traces, goes to the pool
        {"model__dropout": 0.3, "random_state": 1, "optimizer__learning_rate": 0.003, "batch_size": 16},
        {"model__dropout": 0.3, "optimizer": "adagrad"},  # another optimizer: another architecture
        {"model__dropout": 0.3, "optimizer": "adagrad", "random_state": None},
        {"model__dropout": 0.1, "epochs": 2},
        {"model__dropout": 0.3, "random_state": 2},
    ]
    alone = _fits(digits, runs, 0, monkeypatch)
    pooled = _fits(digits, runs, 8, monkeypatch)
    for params, own, shared in zip(runs, alone, pooled):
        if params.get("random_state", 0) is None:
            continue  # unseeded: no two fits agree
        np.testing.assert_array_equal(shared.predict_proba(X), own.predict_proba(X))
        assert shared.history_ == own.history_
        # The optimizer's state went back too: a warm start continues alike.
        own.set_params(warm_start=True).fit(X, y)
        shared.set_params(warm_start=True).fit(X, y)
        np.testing.assert_array_equal(shared.predict_proba(X), own.predict_proba(X))
    # Every fit ran on a pooled model (the first of each architecture hands
    # it over and keeps a copy), and no estimator holds a pooled model.
    assert all(clf.model_.train_function is None for clf in pooled)
    pooled_models = list(_pool.POOL._models.values())
    assert len(pooled_models) == 4  # adam 0.3, adagrad 0.3 seeded and not, adam 0.1
    assert not any(clf.model_ is model for clf in pooled for model in pooled_models)


def test_a_pooled_model_that_does_not_match_costs_the_pool_not_the_fit(digits, monkeypatch):
    X, y = digits
    (alone,) = _fits(digits, [{}], 0, monkeypatch)
    _fits(digits, [{}], 4, monkeypatch)
    assert len(_pool.POOL) == 1

    def mismatch(source, target):
        raise ValueError("variable dense/kernel differs")

    monkeypatch.setattr(_pool, "copy_state", mismatch)
    clf = small().fit(X, y)
    assert clf.model_.train_function is not None  # it trained itself
    assert len(_pool.POOL) == 0
    np.testing.assert_array_equal(clf.predict_proba(X), alone.predict_proba(X))


def test_a_model_the_user_may_hold_is_trained_in_place_never_pooled(digits, monkeypatch):
    X, y = digits
    monkeypatch.setattr(_pool.POOL, "max_models", 4)
    _pool.POOL.clear()
    given = keras.Sequential([keras.Input((64,)), keras.layers.Dense(10, activation="softmax")])
    given.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    clf = KerasClassifier(given, epochs=1).fit(X, y)
    assert clf.model_ is given and len(_pool.POOL) == 0
    # Nor is a model an estimator already had: a warm start keeps training it.
    clf = small(epochs=1).fit(X, y)
    _pool.POOL.clear()
    own = clf.model_
    clf.set_params(warm_start=True).fit(X, y)
    assert clf.model_ is own and len(_pool.POOL) == 0
    # Nor is a model built by initialize() before a warm-started fit.
    clf = small(epochs=1, warm_start=True).initialize(X, y)
    held = clf.model_
    clf.fit(X, y)
    assert clf.model_ is held and len(_pool.POOL) == 0


def test_pool_size_is_checked_and_zero_frees_the_pool(digits, monkeypatch):
    from sk_hpo.keras import set_model_pool_size

    _fits(digits, [{}], 4, monkeypatch)
    assert len(_pool.POOL) == 1
    with pytest.raises(ValueError, match=r"max_models must be an int >= 0, got -1"):
        set_model_pool_size(-1)
    set_model_pool_size(0)
    assert len(_pool.POOL) == 0


def test_only_models_that_their_configuration_describes_are_pooled():
    def network(dropout=0.0, loss="sparse_categorical_crossentropy", learning_rate=0.01, layer=None):
        keras.backend.clear_session()  # as the wrappers do: the same layer names
        inputs = keras.Input((4,))
        x = (layer or (lambda: keras.layers.Dense(8)))()(inputs)
        x = keras.layers.Dropout(dropout)(x)
        model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x))
        model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
        return model

    key = _pool.architecture_key
    assert key(network()) is not None
    assert key(network(learning_rate=0.1)) == key(network())  # a variable, copied
    assert key(network(dropout=0.2)) != key(network())  # traced into the step

    class Scaled(keras.layers.Layer):
        def call(self, x):
            return 2 * x

    def own_loss(y, p):
        return keras.losses.sparse_categorical_crossentropy(y, p)

    assert key(network(layer=Scaled)) is None
    assert key(network(layer=lambda: keras.layers.Lambda(lambda x: 2 * x))) is None
    assert key(network(loss=own_loss)) is None


def test_early_stopping_with_validation_split(digits):
    X, y = digits
    clf = small(epochs=200, validation_split=0.2,
                callbacks=[keras.callbacks.EarlyStopping(patience=2),
                           keras.callbacks.ReduceLROnPlateau(patience=1)]).fit(X, y)  # fmt: skip
    assert len(clf.history_["loss"]) < 200
    assert "val_loss" in clf.history_


def test_search_over_architecture_in_a_pipeline(digits):
    X, y = digits
    pipe = make_pipeline(StandardScaler(), small(epochs=3))
    space = {
        "kerasclassifier__model__hidden_layer_sizes": [(16,), (32, 16)],
        "kerasclassifier__model__dropout": Real(0.0, 0.5),
        "kerasclassifier__optimizer__learning_rate": Real(1e-3, 1e-1, "log-uniform"),
        "kerasclassifier__batch_size": [32, 64],
    }
    search = TPESearchCV(pipe, space, n_iter=4, cv=2, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    assert search.best_score_ > 0.5
    assert search.score(X, y) > 0.5


def test_multi_fidelity_search_races_networks_on_epochs(digits):
    X, y = digits
    search = TPESearchCV(
        small(epochs=3),
        {"optimizer__learning_rate": Real(1e-3, 1e-1, "log-uniform")},
        n_iter=3, resource="epochs", min_resources=1, cv=2, random_state=0,
    ).fit(X, y)  # fmt: skip
    assert search.n_resources_ == [1, 3]
    assert list(search.cv_results_["n_resources"]) == [1, 1, 1, 3]
    assert search.best_params_["epochs"] == 3
    assert len(search.best_estimator_.history_["loss"]) == 3


def test_unknown_builder_parameter_is_refused_before_any_fit(digits):
    X, y = digits
    with pytest.raises(ValueError, match=r"builder 'dense_network' takes no parameter 'hidden_layers'"):
        TPESearchCV(small(), {"model__hidden_layers": [1, 2]}, n_iter=2).fit(X, y)
    with pytest.raises(ValueError, match=r"model='resnet' is not a ready-made network"):
        KerasClassifier("resnet").fit(X, y)


def test_per_layer_values_build_the_layers_and_typos_are_refused(digits):
    X, y = digits
    clf = small(model__n_layers=3, model__units=8, model__units_0=24, model__units_1=12,
                model__dropout_1=0.25, epochs=1).fit(X, y)  # fmt: skip
    dense = [layer for layer in clf.model_.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [24, 12, 8, 10]  # layer 2 takes model__units
    rates = [layer.rate for layer in clf.model_.layers if isinstance(layer, keras.layers.Dropout)]
    assert rates == [0.25]
    conv = KerasClassifier("conv", model__n_conv_layers=2, model__filters_0=4, model__filters_1=6,
                           model__n_dense_layers=1, model__dense_units_0=12, epochs=1).fit(X, y)  # fmt: skip
    assert [layer.filters for layer in conv.model_.layers if isinstance(layer, keras.layers.Conv2D)] == [4, 6]
    with pytest.raises(ValueError, match=r"takes no parameter 'unit_0'.*units_<i>, dropout_<i>"):
        TPESearchCV(small(), {"model__n_layers": [1, 2], "model__unit_0": [8, 16]}, n_iter=2).fit(X, y)


def test_numpy_numbers_as_builder_defaults(digits):
    # A value drawn by a search or read from a NumPy array is np.int64 / np.float64.
    X, y = digits
    clf = small(model__n_layers=np.int64(2), model__units=np.int64(16),
                model__dropout=np.float64(0.1), epochs=1).fit(X, y)  # fmt: skip
    dense = [layer for layer in clf.model_.layers if isinstance(layer, keras.layers.Dense)]
    assert [layer.units for layer in dense] == [16, 16, 10]


def test_searching_per_layer_units_and_the_optimizer(digits):
    X, y = digits
    space = {
        "model__n_layers": Integer(1, 3),
        "model__units": PerLayer(Integer(8, 32, step=8)),
        "model__dropout": PerLayer(Real(0.0, 0.3)),
        "optimizer": ["adam", "sgd", "rmsprop"],
        "optimizer__learning_rate": Real(1e-3, 1e-1, "log-uniform"),
    }
    search = TPESearchCV(small(epochs=2), space, n_iter=8, cv=2, random_state=0).fit(X, y)
    results = search.cv_results_
    for params in results["params"]:
        n = params["model__n_layers"]
        assert {k for k in params if k.startswith("model__units_")} == {f"model__units_{i}" for i in range(n)}
    assert np.array_equal(np.ma.getmaskarray(results["param_model__units_1"]),
                          np.asarray(results["param_model__n_layers"]) < 2)  # fmt: skip
    best = search.best_estimator_
    dense = [layer.units for layer in best.model_.layers if isinstance(layer, keras.layers.Dense)]
    n = search.best_params_["model__n_layers"]
    assert dense[:-1] == [search.best_params_[f"model__units_{i}"] for i in range(n)]
    assert type(best.model_.optimizer).__name__.lower() == search.best_params_["optimizer"]
    np.testing.assert_allclose(float(best.model_.optimizer.learning_rate),
                               search.best_params_["optimizer__learning_rate"], rtol=1e-6)  # fmt: skip
    assert set(results["param_optimizer"]) <= {"adam", "sgd", "rmsprop"}
    # set_params round-trips every candidate, and a clone keeps them.
    for params in results["params"]:
        again = clone(small()).set_params(**params)
        assert {k: v for k, v in clone(again).get_params().items() if k in params} == params


def test_importing_sk_hpo_does_not_import_tensorflow():
    code = "import sys, sk_hpo; print('tensorflow' in sys.modules or 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _fit_in_worker(X, y):
    import tensorflow as tf

    KerasClassifier(model__hidden_layer_sizes=(4,), epochs=1).fit(X, y)
    return tf.config.threading.get_intra_op_parallelism_threads()


def test_joblib_workers_get_their_share_of_threads(digits):
    from joblib import Parallel, cpu_count, delayed

    X, y = digits
    threads = Parallel(n_jobs=2)(delayed(_fit_in_worker)(X, y) for _ in range(2))
    assert threads == [max(1, cpu_count() // 2)] * 2


def test_multilabel_indicator_targets(digits):
    X, y = digits
    Y = np.column_stack([y % 2, y > 4, y == 0]).astype(int)
    clf = small(epochs=10).fit(X, Y)
    out = clf.model_.layers[-1]
    assert out.units == 3 and out.activation.__name__ == "sigmoid"
    assert clf.predict(X).shape == Y.shape and clf.score(X, Y) > 0.5


EPOCHS_BEGUN = []


class CountEpochs(keras.callbacks.Callback):
    """Records the number of every epoch any network of this process trains."""

    def on_epoch_begin(self, epoch, logs=None):
        EPOCHS_BEGUN.append(epoch)


def _epochs_search(digits, continuation, **params):
    EPOCHS_BEGUN.clear()
    network = params.pop("network", small(epochs=9, model__dropout=0.2, callbacks=[CountEpochs]))
    defaults = {
        "n_iter": 9, "resource": "epochs", "min_resources": 1, "cv": 2, "random_state": 0,
        "refit": False, "continuation": continuation, "scoring": "accuracy",
    }  # fmt: skip
    space = {"optimizer__learning_rate": Real(1e-3, 1e-1, "log-uniform")}
    search = TPESearchCV(network, space, **{**defaults, **params}).fit(*digits)
    return search, list(EPOCHS_BEGUN)


def test_promoted_networks_train_only_the_epochs_their_rung_adds(digits):
    continued, epochs = _epochs_search(digits, "auto")
    scratch, scratch_epochs = _epochs_search(digits, False)
    assert continued.continuation_ == "epochs"
    results = continued.cv_results_
    assert list(results["n_resources"]) == [1] * 9 + [3] * 3 + [9]
    # Each candidate's highest rung times the folds, not the sum over rungs.
    assert len(epochs) == (6 * 1 + 2 * 3 + 1 * 9) * 2
    assert len(scratch_epochs) == (9 * 1 + 3 * 3 + 1 * 9) * 2
    # A continued fit starts at the epoch it reached: only the first rung starts at 0.
    assert epochs.count(0) == 9 * 2 and max(epochs) == 8
    # Weights, optimizer state and dropout's random state carry over: the
    # networks are those trained in one go.
    for key in ("params", "mean_test_score", "split1_test_score"):
        np.testing.assert_array_equal(results[key], scratch.cv_results_[key])


def test_a_warm_started_classifier_keeps_its_classes(digits):
    X, y = digits
    labels = np.array(["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"])
    network = small(epochs=1, warm_start=True).fit(X, labels[y])
    classes = network.classes_.copy()
    network.fit(X, labels[y])
    # SciKeras alone leaves classes_ None here, and scorers that read it fail.
    np.testing.assert_array_equal(network.classes_, classes)
    assert network.n_classes_ == 10
    assert get_scorer("accuracy")(network, X, labels[y]) == np.mean(network.predict(X) == labels[y])


def test_a_network_early_stopping_stopped_is_not_trained_further(digits):
    stop = keras.callbacks.EarlyStopping(monitor="loss", min_delta=100.0, patience=0)
    network = small(epochs=9, callbacks=[CountEpochs, stop])
    search, epochs = _epochs_search(digits, "auto", network=network, min_resources=3, n_iter=3)
    results = search.cv_results_
    assert list(results["n_resources"]) == [3, 3, 3, 9]
    # Every fit at 3 epochs stops after 2; the promoted one trains no more.
    assert len(epochs) == 3 * 2 * 2
    promoted = [i for i in range(3) if results["params"][i]["optimizer__learning_rate"]
                == results["params"][3]["optimizer__learning_rate"]]  # fmt: skip
    assert results["mean_test_score"][3] == results["mean_test_score"][promoted[0]]
