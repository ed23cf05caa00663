"""Compiled Keras models kept so that a new model of the same architecture trains without tracing.

A Keras fit traces its training step into a TensorFlow graph the first time
the model is trained: about half a second for a small dense network, several
times the cost of an epoch on a few thousand rows.  A search fits the same
architecture once per CV fold, and a multi-fidelity search again at every
rung, so the wrappers train each new model on a pooled, already traced model
of the same architecture: the new model's whole state (weights, the dropout
seeds, the optimizer's slots and learning rate) is copied in, the pooled
model is trained, and its state is copied back.  The new model ends exactly
as if it had been trained itself; the pooled model is never handed out.

Only models made of Keras's own classes are pooled: for them the
architecture and compile configurations determine the traced step.  The
learning rate is a variable of the optimizer, so it is copied, not traced.
"""

import json
import random
import re
import threading
from collections import OrderedDict

import numpy as np

MAX_MODELS = 16  # per process; a small dense network with its traced steps holds ~7 MB
# Keras layers that wrap code their configuration does not describe.
_OPAQUE_LAYERS = ("Lambda", "TFSMLayer", "TorchModuleWrapper", "JaxLayer", "FlaxLayer")


def architecture_key(model):
    """A string equal for two compiled models whose traced training steps are interchangeable.

    None when the model cannot be pooled: a class, layer, loss or metric
    from outside Keras (its behaviour may depend on more than its
    configuration), a ``Lambda`` layer, or a configuration that does not
    serialise.
    """
    if not _from_keras(model) or not getattr(model, "compiled", False):
        return None
    for layer in model._flatten_layers(include_self=False):
        if not _from_keras(layer) or type(layer).__name__ in _OPAQUE_LAYERS:
            return None
    try:
        compiled = model.get_compile_config()
        optimizer = compiled["optimizer"]["config"]
        # The name only prefixes the variables' paths.  A number as learning
        # rate becomes a variable of the optimizer, copied with its state.
        dropped = {"name", "learning_rate"} if isinstance(optimizer.get("learning_rate"), (int, float)) else {"name"}
        optimizer = {k: v for k, v in optimizer.items() if k not in dropped}
        compiled = {**compiled, "optimizer": {**compiled["optimizer"], "config": optimizer}}
        text = json.dumps([model.get_config(), compiled], sort_keys=True, default=_refuse)
    except Exception:  # noqa: BLE001 - anything that does not serialise is not pooled
        return None
    if '"registered_name": "' in text:
        return None  # a registered custom object or a function
    modules = re.findall(r'"module": "([^"]*)"', text)
    if any(module != "keras" and not module.startswith("keras.") for module in modules):
        return None
    return text


def poolable_key(model, deterministic):
    """The key of ``model`` in the pool if training it can use one, else None.

    A model that has traced its training step already gains nothing.  A
    step traced under TensorFlow's op determinism (a fit with a
    ``random_state``) is not reused without it, nor the other way round.
    """
    if getattr(model, "train_function", True) is not None or POOL.max_models <= 0:
        return None
    key = architecture_key(model)
    return None if key is None else f"deterministic={bool(deterministic)} {key}"


def _from_keras(obj):
    return type(obj).__module__.startswith("keras.")


def _refuse(obj):
    raise TypeError(f"not serialisable: {type(obj).__name__}")


def model_state(model):
    """Every variable of ``model``: weights, random generators' states, the optimizer's."""
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return list(model.variables) + list(model.optimizer.variables)


def assign_state(model, values):
    """Give ``model`` the variable values ``model_state`` read from a model of its architecture."""
    variables = model_state(model)
    if len(variables) != len(values) or any(
        tuple(v.shape) != np.shape(value) for v, value in zip(variables, values)
    ):
        raise ValueError("the values are not those of this model's variables")
    for variable, value in zip(variables, values):
        variable.assign(value)


def copy_state(source, target):
    """Assign every variable of ``source`` (model and optimizer) to ``target``'s."""
    sources, targets = model_state(source), model_state(target)
    if len(sources) != len(targets):
        raise ValueError("models of one architecture key hold different variables")
    for s, t in zip(sources, targets):
        if tuple(s.shape) != tuple(t.shape) or s.dtype != t.dtype:
            raise ValueError(f"variable {t.path} differs from {s.path}")
        t.assign(s.value)


def untraced_copy(model):
    """A new model with the architecture, compile settings and state of ``model``, not yet traced."""
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:  # new layers draw the seeds of their initial weights from Python's generator
        copy = type(model).from_config(model.get_config())
        copy.compile_from_config(model.get_compile_config())
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
    if architecture_key(copy) != architecture_key(model):
        raise ValueError("the copy differs from the model")
    copy_state(model, copy)
    return copy


class ModelPool:
    """Traced models by architecture key, least recently used dropped first; thread-safe."""

    def __init__(self, max_models=MAX_MODELS):
        self.max_models = max_models
        self._models = OrderedDict()
        self._lock = threading.Lock()

    def take(self, key):
        """The pooled model for ``key``, removed from the pool while it trains; or None."""
        with self._lock:
            return self._models.pop(key, None)

    def put(self, key, model):
        with self._lock:
            self._models[key] = model
            self._models.move_to_end(key)
        self.put_away_extra()

    def put_away_extra(self):
        """Drop the least recently used models beyond ``max_models``."""
        with self._lock:
            while len(self._models) > max(self.max_models, 0):
                self._models.popitem(last=False)

    def clear(self):
        with self._lock:
            self._models.clear()

    def __len__(self):
        return len(self._models)


POOL = ModelPool()


def set_model_pool_size(max_models):
    """How many traced models this process keeps to train new models of their architecture.

    A fit of the wrappers whose architecture is in the pool skips Keras's
    tracing of the training step (about half a second for a small dense
    network) and ends with the same model.  Each pooled model holds its
    traced graphs: about 7 MB for a small dense network.  ``0`` turns the
    pool off and frees it.  The setting is per process: joblib workers
    start with the default, 16.

    Parameters
    ----------
    max_models : int
        The most models kept; the least recently used goes first.
    """
    if isinstance(max_models, bool) or not isinstance(max_models, int) or max_models < 0:
        raise ValueError(f"max_models must be an int >= 0, got {max_models!r}")
    POOL.max_models = max_models
    POOL.put_away_extra()
