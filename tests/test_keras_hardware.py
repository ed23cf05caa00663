"""Keras searches and the hardware: devices per worker, memory faults, size limits."""

import os

import numpy as np
import pytest

pytest.importorskip("scikeras")
keras = pytest.importorskip("keras")

from sklearn.datasets import load_digits

from sk_hpo import BayesSearchCV, TPESearchCV
from sk_hpo.keras import KerasClassifier, _devices
from sk_hpo.keras._wrappers import CandidateOutOfMemory, ModelTooLarge


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[::4] / 16.0, y[::4]


class StandInConfig:
    """``tf.config`` with a list of stand-in GPUs; records what it is told."""

    def __init__(self, n_gpus, started=False):
        self.gpus = [f"GPU:{i}" for i in range(n_gpus)]
        self.started = started
        self.visible, self.growth = None, {}
        self.experimental = self

    def get_visible_devices(self, kind):
        assert kind == "GPU"
        return list(self.gpus if self.visible is None else self.visible)

    def set_visible_devices(self, devices, kind):
        if self.started:
            raise RuntimeError("Visible devices cannot be modified after being initialized")
        self.visible = list(devices)

    def set_memory_growth(self, device, enable):
        self.growth[device] = enable


@pytest.fixture
def fresh(monkeypatch):
    monkeypatch.setattr(_devices, "_configured", False)
    monkeypatch.delenv("SK_HPO_GPUS", raising=False)


def _configure(config, folder, pid):
    _devices._configured = False
    return _devices.configure_devices(config, folder=str(folder), pid=pid)


def test_workers_take_the_gpus_round_robin_with_memory_growth(fresh, tmp_path, monkeypatch):
    live = [101, 102, 103, 104, 105]  # stand-in worker processes; 999999999 is gone
    monkeypatch.setattr(_devices, "_alive", lambda pid: pid in live)
    configs = [StandInConfig(2) for _ in live]  # one TensorFlow per worker process
    chosen = [_configure(config, tmp_path, pid) for config, pid in zip(configs, live[:4])]
    assert chosen == ["GPU:0", "GPU:1", "GPU:0", "GPU:1"]
    assert [c.visible for c in configs[:4]] == [["GPU:0"], ["GPU:1"], ["GPU:0"], ["GPU:1"]]
    assert [c.growth for c in configs[:2]] == [{"GPU:0": True}, {"GPU:1": True}]
    # A worker asked again keeps its GPU; a dead worker's claim is freed.
    assert _configure(StandInConfig(2), tmp_path, live[1]) == "GPU:1"
    (tmp_path / "0-999999999").touch()  # a claim by a process that is gone
    live.remove(103)  # and a worker of GPU 0 ended
    assert _configure(configs[4], tmp_path, live[-1]) == "GPU:0"
    assert not (tmp_path / "0-999999999").exists() and not (tmp_path / "0-103").exists()


def test_sk_hpo_gpus_restricts_the_gpus_and_empty_keeps_the_cpu(fresh, tmp_path, monkeypatch):
    monkeypatch.setenv("SK_HPO_GPUS", "2, 3")
    assert _configure(StandInConfig(4), tmp_path, os.getpid()) == "GPU:2"
    monkeypatch.setenv("SK_HPO_GPUS", "")
    config = StandInConfig(4)
    assert _configure(config, tmp_path / "cpu", os.getpid()) is None
    assert config.visible == []
    monkeypatch.setenv("SK_HPO_GPUS", "0,7")
    with pytest.raises(ValueError, match=r"SK_HPO_GPUS='0,7' names \['7'\], not among the 2 GPU"):
        _configure(StandInConfig(2), tmp_path / "bad", os.getpid())


def test_gpus_the_user_made_visible_are_the_ones_shared(fresh, tmp_path):
    config = StandInConfig(4)
    config.visible = ["GPU:1", "GPU:3"]  # tf.config.set_visible_devices, before the search
    assert _configure(config, tmp_path, os.getpid()) == "GPU:1"
    assert config.visible == ["GPU:1"]


def test_a_cpu_machine_and_a_started_tensorflow_are_left_as_they_are(fresh, tmp_path):
    config = StandInConfig(0)
    assert _configure(config, tmp_path, os.getpid()) is None
    assert config.growth == {}
    started = StandInConfig(2, started=True)
    assert _configure(started, tmp_path / "s", os.getpid()) is None
    assert started.visible is None and started.growth == {}
    # Only the first fit of a process configures it.
    assert _devices.configure_devices(StandInConfig(2), folder=str(tmp_path)) is None


class _OutOfMemoryAbove(keras.callbacks.Callback):
    """Raises TensorFlow's out-of-memory error when the network is wider than ``units``."""

    def __init__(self, units):
        super().__init__()
        self.units = units

    def on_train_begin(self, logs=None):
        import tensorflow as tf

        if self.model.count_params() > self.units:
            raise tf.errors.ResourceExhaustedError(
                None, None, "OOM when allocating tensor with shape[4096,4096] on /GPU:0"
            )


def test_an_out_of_memory_candidate_fails_and_the_search_goes_on(digits):
    X, y = digits
    net = KerasClassifier(epochs=2, random_state=0, callbacks=[_OutOfMemoryAbove(3000)])
    search = TPESearchCV(net, {"model__hidden_layer_sizes": [(8,), (16,), (256,), (512,)]},
                         n_iter=4, cv=2, random_state=0, refit=False)  # fmt: skip
    with pytest.warns(Warning, match="CandidateOutOfMemory"):
        search.fit(X, y)
    scores = search.cv_results_["mean_test_score"]
    sizes = [p["model__hidden_layer_sizes"][0] for p in search.cv_results_["params"]]
    assert sorted(sizes) == [8, 16, 256, 512]
    assert all(np.isnan(s) == (size > 64) for s, size in zip(scores, sizes))
    assert search.best_params_["model__hidden_layer_sizes"][0] <= 16


def test_the_out_of_memory_message_names_the_candidate_and_its_size(digits):
    X, y = digits
    net = KerasClassifier(epochs=1, model__hidden_layer_sizes=(512,), batch_size=64,
                          callbacks=[_OutOfMemoryAbove(3000)])  # fmt: skip
    with pytest.raises(CandidateOutOfMemory) as info:
        net.fit(X, y)
    message = str(info.value)
    assert "model__hidden_layer_sizes=(512,)" in message and "batch_size=64" in message
    assert "38,410 parameters" in message and "OOM when allocating" in message
    assert isinstance(info.value, MemoryError)


def test_a_too_big_network_is_refused_before_training(digits, monkeypatch):
    X, y = digits
    trained = []
    monkeypatch.setattr(keras.Model, "fit", lambda self, *a, **k: trained.append(self))
    with pytest.raises(ModelTooLarge, match=r"hidden_layer_sizes=\(512,\).*38,410 parameters, "
                                            r"above max_model_params=10,000; refused before training"):
        KerasClassifier(max_model_params=10_000, model__hidden_layer_sizes=(512,)).fit(X, y)
    assert trained == []
    with pytest.raises(ValueError, match="max_model_params=0: give a positive int"):
        KerasClassifier(max_model_params=0).fit(X, y)


def test_a_search_skips_networks_over_the_size_limit_without_fitting_them(digits):
    X, y = digits
    net = KerasClassifier(epochs=2, random_state=0, max_model_params=10_000)
    search = BayesSearchCV(net, {"model__hidden_layer_sizes": [(4,), (8,), (256,), (512,)]},
                           n_iter=4, cv=2, random_state=0)  # fmt: skip
    with pytest.warns(Warning, match="ModelTooLarge"):
        search.fit(X, y)
    for params, score in zip(search.cv_results_["params"], search.cv_results_["mean_test_score"]):
        big = params["model__hidden_layer_sizes"][0] > 100
        assert np.isnan(score) == big
    assert search.best_params_["model__hidden_layer_sizes"][0] <= 8


def test_keras_own_sklearn_wrapper_is_searched(digits):
    wrappers = pytest.importorskip("keras.wrappers")
    X, y = digits

    def build(X, y, units=16, learning_rate=1e-3):
        model = keras.Sequential([keras.Input((X.shape[1],)), keras.layers.Dense(units, activation="relu"),
                                  keras.layers.Dense(10, activation="softmax")])  # fmt: skip
        model.compile(keras.optimizers.Adam(learning_rate), "categorical_crossentropy")  # y one-hot
        return model

    # Keras 3.15's clone of the wrapper drops fit_kwargs (so under GridSearchCV
    # too): they go in the space, as one choice.
    net = wrappers.SKLearnClassifier(model=build)
    space = {"model_kwargs": [{"units": u, "learning_rate": lr} for u in (8, 64) for lr in (1e-3, 3e-2)],
             "fit_kwargs": [{"epochs": 20, "verbose": 0}]}  # fmt: skip
    search = TPESearchCV(net, space, n_iter=4, cv=2, random_state=0).fit(X, y)
    assert len(search.cv_results_["params"]) == 4
    scores = search.cv_results_["mean_test_score"]
    assert search.best_score_ == scores.max() > 0.6  # ten classes: chance is 0.1
    assert search.best_estimator_.predict(X[:5]).shape == (5,)
