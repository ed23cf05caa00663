"""SciKeras's wrappers, correct under the scikit-learn sk_hpo supports.

SciKeras 0.13 declares its estimator type in ways scikit-learn >= 1.6 no
longer reads (``_estimator_type``, ``_more_tags``, and ``ClassifierMixin``
after ``BaseEstimator``), so ``is_classifier`` is False, ``cross_val_score``
with ``scoring="roc_auc"`` returns NaN and classification CV is not
stratified.  The classes here report the tags, and add what long searches
need: a ready-made network when ``model`` is None, a fresh Keras session per
model, TensorFlow threads that fit joblib's workers, and quiet defaults.
"""

import contextlib
import gc
import logging
import multiprocessing
import os

import keras
from scikeras import wrappers
from sklearn.utils import ClassifierTags, RegressorTags

from . import _pool
from ._builders import BUILDERS
from ._devices import configure_devices

_threads_configured = False


def _limit_threads_in_worker():
    """In a joblib worker, give TensorFlow the threads joblib gave the worker.

    joblib's loky backend sets ``OMP_NUM_THREADS`` in each worker to
    ``cpu_count() // n_jobs``; TensorFlow ignores it and would start a pool
    as large as the machine in every worker.
    """
    global _threads_configured
    if _threads_configured:
        return
    _threads_configured = True
    threads = os.environ.get("OMP_NUM_THREADS")
    if multiprocessing.parent_process() is None or not threads or not threads.isdigit():
        return
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(int(threads))
        tf.config.threading.set_inter_op_parallelism_threads(1)
    except RuntimeError:  # TensorFlow already started its pools in this process
        pass


@contextlib.contextmanager
def _release_traced_gradients():
    """Unregister the gradient functions TensorFlow registers while tracing a fit.

    Keras's TensorFlow optimizer sums gradients with ``all_reduce``, a
    ``tf.custom_gradient`` that in a traced function registers a gradient in
    TensorFlow's process-wide registry, under a new name at every trace, and
    never unregisters it.  Its closure holds the whole traced training graph,
    so each fit kept ~2 MB alive (keras-team/keras#17458 and its duplicates).
    The gradients registered during a fit are only needed while that fit
    traces its training step, so they are dropped when it returns.
    """
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    before = set(registry) if isinstance(registry, dict) else None
    try:
        yield
    finally:
        if before is not None:
            for name in set(registry) - before:
                if name.startswith("CustomGradient"):
                    del registry[name]


class CandidateOutOfMemory(MemoryError):
    """A candidate's training ran out of accelerator or host memory.

    A ``MemoryError``, so a search records it as the candidate's failure
    (``error_score``) and goes on; its message names the candidate and the
    memory its model asked for.
    """


class ModelTooLarge(ValueError):
    """A candidate's network has more parameters than ``max_model_params``;
    it is refused before any training, and the search records it as failed."""


def _out_of_memory(exc):
    """Whether ``exc`` is TensorFlow's or Python's out-of-memory error."""
    if isinstance(exc, MemoryError) or type(exc).__name__ == "ResourceExhaustedError":
        return True
    text = str(exc)
    return "OOM when allocating" in text or "out of memory" in text.lower()


class _SkHpoWrapper:
    """What the two wrappers share (placed before SciKeras's class)."""

    def __init__(self, model=None, *, verbose=0, max_model_params=None, **kwargs):
        super().__init__(model=model, verbose=verbose, **kwargs)
        # Ours, not SciKeras's: never routed to the network's build function.
        self.max_model_params = max_model_params

    def _check_model_param(self):
        model = self.model
        if model is None and self.build_fn is None:
            return BUILDERS["dense"]
        if isinstance(model, str):
            if model not in BUILDERS:
                raise ValueError(
                    f"model={model!r} is not a ready-made network; use one of "
                    f"{sorted(BUILDERS)}, a function that builds a Keras model, or a model."
                )
            return BUILDERS[model]
        return super()._check_model_param()

    def _build_keras_model(self):
        # A search builds hundreds of models in one process: without this,
        # Keras's global state (layer names, graphs) grows with every one.
        keras.backend.clear_session(free_memory=False)
        model = super()._build_keras_model()
        self._new_model_id = id(model)  # only a model built for this fit may join the pool
        return model

    def _fit(self, *args, **kwargs):
        limit = self.max_model_params
        if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
            raise ValueError(
                f"max_model_params={limit!r}: give a positive int (the most parameters "
                "a network may have) or None."
            )
        _limit_threads_in_worker()
        configure_devices()
        if not self.verbose:
            logging.getLogger("tensorflow").setLevel(logging.ERROR)
        # SciKeras turns TensorFlow's op determinism on to seed a fit and
        # sometimes leaves it on; later fits without a seed would then fail.
        from tensorflow.python.framework import config

        was_deterministic = config.is_op_determinism_enabled()
        # A model built before this fit (by initialize()) is one the user may hold.
        self._new_model_id = None
        try:
            with _release_traced_gradients():
                return super()._fit(*args, **kwargs)
        except Exception as exc:
            if not _out_of_memory(exc) or isinstance(exc, CandidateOutOfMemory):
                raise
            raise CandidateOutOfMemory(self._memory_report(exc)) from exc
        finally:
            if not was_deterministic and config.is_op_determinism_enabled():
                config.disable_op_determinism()

    def _candidate(self):
        """This estimator with the parameters that differ from the defaults:
        the candidate a search is training."""
        defaults = type(self)().get_params(deep=False)
        changed = []
        for name, value in self.get_params(deep=False).items():
            default = defaults.get(name, object())
            with contextlib.suppress(Exception):  # values that do not compare: shown
                if value is default or bool(value == default):
                    continue
            changed.append(f"{name}={value!r}")
        return f"{type(self).__name__}({', '.join(changed)})"

    def _memory_report(self, exc):
        """The out-of-memory message: the candidate, its model's size, the error."""
        model = getattr(self, "model_", None)
        size = ""
        with contextlib.suppress(Exception):  # no model built: the candidate alone
            n = model.count_params()
            # Weights, gradients and two Adam slots in float32: a floor on what training asks.
            size = f" Its network has {n:,} parameters (at least {16 * n / 2**20:,.1f} MiB to train)"
        # The memory goes back before the next candidate trains in this process.
        keras.backend.clear_session()
        gc.collect()
        reason = str(exc).strip().splitlines()[0][:300] if str(exc).strip() else type(exc).__name__
        return (
            f"{self._candidate()} ran out of memory.{size}, batch_size={self.batch_size}: {reason}. "
            "Recorded as a failed candidate; smaller networks or batches fit."
        )

    def _fit_keras_model(self, *args, **kwargs):
        limit = self.max_model_params
        if limit is not None:
            n = self.model_.count_params()
            if n > limit:
                raise ModelTooLarge(
                    f"{self._candidate()}: its network has {n:,} parameters, above "
                    f"max_model_params={limit:,}; refused before training."
                )
        # Trains a pooled model of this architecture, which has traced its
        # training step already, with this model's whole state (see _pool).
        model = self.model_
        if any(isinstance(given, keras.Model) for given in (self.model, self.build_fn)):
            key = None  # the user's own model object: it must not join the pool
        else:
            key = _pool.poolable_key(model, deterministic=self._random_state is not None)
        pooled = _pool.POOL.take(key) if key is not None else None
        built_for_this_fit = getattr(self, "_new_model_id", None) == id(model)
        if pooled is None:
            super()._fit_keras_model(*args, **kwargs)
            if key is not None and built_for_this_fit:
                # The first of its architecture has traced: it goes to the
                # pool and this estimator keeps an untraced copy.
                with contextlib.suppress(Exception):  # not copyable: keep it, pool nothing
                    self._hand_over(model, _pool.untraced_copy(model))
                    _pool.POOL.put(key, model)
            return
        try:
            _pool.copy_state(model, pooled)
        except Exception:  # noqa: BLE001 - a mismatch costs the pooled model, not the fit
            return super()._fit_keras_model(*args, **kwargs)
        self.model_ = pooled
        try:
            super()._fit_keras_model(*args, **kwargs)
        finally:
            self.model_ = model
        # Not reached if the fit raised: the pooled model is dropped.
        _pool.copy_state(pooled, model)
        self._hand_over(pooled, model)
        _pool.POOL.put(key, pooled)

    def _hand_over(self, old, new):
        self.model_ = new
        for callback in getattr(self, "_fit_callbacks", None) or ():
            if getattr(callback, "model", None) is old:
                callback.set_model(new)

    def __getstate__(self):
        # SciKeras pickles the model in Keras's format, which leaves out the
        # state of the layers' random generators (dropout's): kept here, so
        # that a pickled model continues training as the original would.
        state = super().__getstate__()
        model = state.get("model_")
        if isinstance(model, keras.Model) and getattr(model, "optimizer", None) is not None:
            with contextlib.suppress(Exception):  # a model whose state does not read: Keras's alone
                state["_sk_hpo_variables"] = [
                    keras.ops.convert_to_numpy(v) for v in _pool.model_state(model)
                ]
        return state

    def __setstate__(self, state):
        values = state.pop("_sk_hpo_variables", None)
        super().__setstate__(state)
        model = getattr(self, "model_", None)
        if values is not None and isinstance(model, keras.Model):
            with contextlib.suppress(Exception):  # not the same variables: Keras's state alone
                _pool.assign_state(model, values)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # SciKeras declares the type as ``_estimator_type``, which
        # scikit-learn >= 1.6 no longer reads: turn it into tags.
        tags.estimator_type = self._estimator_type
        if self._estimator_type == "classifier":
            tags.classifier_tags = ClassifierTags(multi_label=True)
        else:
            tags.regressor_tags = RegressorTags()
        tags.target_tags.required = True
        tags.target_tags.multi_output = True
        tags.non_deterministic = self.random_state is None
        return tags


_DOC = """{kind} of SciKeras, with correct scikit-learn tags and a default network.

    Parameters are SciKeras's (``model``, ``optimizer``, ``loss``,
    ``metrics``, ``batch_size``, ``epochs``, ``callbacks``,
    ``validation_split``, ``warm_start``, ``random_state``..., with the
    routed ``model__``, ``optimizer__``, ``loss__``, ``compile__``,
    ``fit__``, ``callbacks__``, ``predict__`` prefixes), except:

    - ``model=None`` (the default) builds :func:`~sk_hpo.keras.dense_network`;
      ``model="dense"`` or ``"conv"`` names a ready-made network
      (:func:`~sk_hpo.keras.conv_network` for images).  Their parameters
      are ``model__<name>``, e.g. ``model__hidden_layer_sizes``,
      ``model__activation``, ``model__dropout``, and per layer
      ``model__units_<i>`` / ``model__dropout_<i>`` with ``model__n_layers``
      (searched with :class:`~sk_hpo.PerLayer`).  A function or a Keras
      model works as in SciKeras.
    - ``verbose=0`` by default: nothing printed, and TensorFlow's Python
      warnings muted while fitting.
    - ``random_state`` seeds Python, NumPy and Keras for each build and fit,
      so two fits give the same model on CPU.
    - Each new model starts from a cleared Keras session, and the gradient
      functions TensorFlow registers while tracing a fit are released after
      it, so hundreds of fits in one process keep a flat memory footprint.
    - A new model whose architecture was trained before in the process
      trains on a pooled copy that has traced its training step already,
      with the new model's weights, seeds and optimizer state copied in and
      back: the same model, without Keras's half-second of tracing (see
      :func:`~sk_hpo.keras.set_model_pool_size`).  CV folds and the rungs
      of a multi-fidelity search refit the same architecture.  A model
      object passed as ``model=`` is trained in place, never pooled.
    - A pickled fitted model keeps its random generators' state (dropout's)
      besides what SciKeras keeps (weights, optimizer state), so that it
      continues training as the original would: a multi-fidelity search
      continues promoted networks this way.
    - ``warm_start=True`` continues a fitted classifier with its classes
      kept (SciKeras's ``classes_`` becomes None).
    - In a joblib worker (``n_jobs > 1``), TensorFlow gets the threads joblib
      gives the worker (``cpu_count() // n_jobs``), not a pool per core.
    - Before its first fit, a process takes the GPU the fewest other
      workers hold, with memory growth on (``SK_HPO_GPUS`` restricts the
      GPUs); on a machine without a GPU nothing changes.
    - Running out of GPU or host memory raises
      :class:`~sk_hpo.keras.CandidateOutOfMemory`, which a search records as
      the candidate's failure, with the Keras session cleared.

    Parameters
    ----------
    model : None, "dense", "conv", callable or keras.Model, default=None
        The network: a ready-made one by name (None is ``"dense"``), a
        function that builds and returns a compiled or uncompiled model
        (its parameters set as ``model__<name>``), or a model object.
    verbose : int, default=0
        Keras's verbosity while fitting and predicting.
    max_model_params : int, default=None
        The most parameters a network may have: a larger one is refused
        after it is built and before any training
        (:class:`~sk_hpo.keras.ModelTooLarge`, a failed candidate in a
        search).  None: no limit.
    **kwargs
        SciKeras's parameters (``optimizer``, ``loss``, ``batch_size``,
        ``epochs``, ``callbacks``, ``validation_split``, ``random_state``...)
        and the routed ``model__``, ``optimizer__``, ``loss__``,
        ``compile__``, ``fit__``, ``callbacks__`` and ``predict__`` ones.
    """


class KerasClassifier(_SkHpoWrapper, wrappers.KerasClassifier):
    __doc__ = _DOC.format(kind="The KerasClassifier")

    def fit(self, X, y, sample_weight=None, **kwargs):
        """Build the network if needed and train it.

        Parameters
        ----------
        X : array-like of shape (n_samples, ...)
            Training inputs: rows, or images for ``model="conv"``.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Target classes.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the samples in the loss.
        **kwargs
            Passed to Keras's ``Model.fit`` (``fit__`` parameters set here).

        Returns
        -------
        KerasClassifier
            The fitted estimator.
        """
        super().fit(X, y, sample_weight=sample_weight, **kwargs)
        if self.classes_ is None and hasattr(self, "target_encoder_"):
            # SciKeras clears ``classes_`` at every fit and sets it when it
            # fits the target encoder, which a warm-started fit of a fitted
            # model skips: scorers that read ``classes_`` then failed.
            vars(self).update(getattr(self.target_encoder_, "get_metadata", dict)())
        return self


class KerasRegressor(_SkHpoWrapper, wrappers.KerasRegressor):
    __doc__ = _DOC.format(kind="The KerasRegressor")
