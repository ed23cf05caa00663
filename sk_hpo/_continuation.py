"""Multi-fidelity that continues training: a promoted candidate resumes from its last rung.

Successive halving (and so Hyperband, BOHB and ASHA) trains the best
``1 / factor`` of a rung's candidates again at the next resource level.
Trained from scratch, a candidate that reaches the top level of a bracket
starting at ``r_0`` costs ``r_0 + r_1 + ... + r_K`` units; continued from
the model its previous rung trained, ``r_K``, as KerasTuner's Hyperband,
Ray Tune's ASHA and BOHB's reference implementation do (Li et al. 2018,
"Hyperband", Section 3.3, counts rungs this way).

What continuing means depends on the estimator, and is found out, not
listed by hand (:func:`detect`):

- ``"epochs"``: a SciKeras network with ``resource="epochs"``: the loaded
  network keeps its weights, its optimizer's state and its random
  generators, and trains from ``initial_epoch`` (the epochs it has) up to
  the new level, so learning-rate schedules and callbacks see the right
  epoch.  A fit that ``EarlyStopping`` stopped before its level is not
  trained further: its next rungs score the stopped network again.
- ``"total"``: a scikit-learn estimator with ``warm_start`` whose resource
  counts the whole model (``n_estimators`` of forests, gradient boosting
  and bagging; ``max_iter`` of ``HistGradientBoosting*``): the loaded model
  is refitted with ``warm_start=True`` and the new level, and adds only the
  missing trees or iterations.  The model is the one training from scratch
  gives.
- ``"increment"``: a ``warm_start`` estimator whose resource counts each
  call (``max_iter`` of ``MLP*``, ``SGD*``, ``LogisticRegression``):
  refitted with the difference between the levels.  The model differs
  from one trained from scratch at the new level: an MLP's optimiser
  restarts its moments and learning-rate schedule at each call, a linear
  solver restarts its line search.

The probe tells the last two apart on a few training rows: an estimator
refitted with ``warm_start=True`` and the same resource either keeps its
model (the resource is a total) or changes it (it trains that much more).

Where the models live.  Each (candidate, split) model a rung trains is
written to a directory (:class:`ModelStore`: ``model_directory``, by default
a new directory under the system's temporary directory; a path every Dask
worker sees for a cluster), so that whichever worker runs the next rung
finds it, and the results do not depend on which worker ran what.  Files
are pickles, and a pickle runs code when it is loaded, so each file is
signed with a key made for this ``fit`` and kept in memory (HMAC-SHA256):
a file this ``fit`` did not write -- planted in a shared directory, or left
by another run -- is never unpickled.  The directory is bounded
(``max_model_bytes``: the oldest models are evicted first), the models a
search no longer needs are deleted after each rung, and the whole directory
when ``fit`` ends.  A model that is missing (evicted, a resumed search)
is made again by retraining the candidate's rungs from its bracket's first
level, the same calls in the same order, so the result is the same.
"""

import contextlib
import hashlib
import hmac
import importlib
import os
import pickle
import secrets
import shutil
import tempfile
import time
import warnings
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import clone

from ._internals import fit_and_score, safe_indexing

MODES = ("epochs", "total", "increment")
_PROBE_ROWS = 200
_SUFFIX = ".model"


def detect(estimator, resource, X, y, train):
    """How ``estimator`` continues along ``resource``: one of ``MODES``, or None.

    ``train``: training rows of the first split, a few of which the probe
    fits.  Returns ``(mode, warm_start_name, reason)``: ``reason`` says why
    the estimator cannot continue when ``mode`` is None.
    """
    if resource == "n_samples":
        return None, None, "resource='n_samples' trains each rung on other samples"
    prefix, _, name = resource.rpartition("__")
    warm = f"{prefix}__warm_start" if prefix else "warm_start"
    params = estimator.get_params(deep=True)
    owner = params[prefix] if prefix else estimator
    if warm not in params:
        return None, None, f"{type(owner).__name__} has no warm_start parameter"
    if name == "epochs" and hasattr(type(owner), "current_epoch"):
        return "epochs", warm, None
    train = np.asarray(train)  # a few rows spread over the split: every class, if sorted
    rows = train[np.unique(np.linspace(0, len(train) - 1, _PROBE_ROWS).astype(int))]
    X_probe, y_probe = safe_indexing(X, rows), (None if y is None else safe_indexing(y, rows))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            model = clone(estimator).set_params(**{warm: True, resource: 1})
            model.fit(X_probe, y_probe)
            before = _outputs(model, X_probe)
            model.fit(X_probe, y_probe)
            after = _outputs(model, X_probe)
    except Exception as exc:  # noqa: BLE001 -- an estimator the probe cannot fit: no continuation
        return None, None, f"the probe fit of {resource}=1 with {warm}=True failed ({exc})"
    if before is None or after is None:
        return None, None, "the estimator has no predict, decision_function or transform"
    same = before.shape == after.shape and np.array_equal(before, after, equal_nan=True)
    return ("total" if same else "increment"), warm, None


def _outputs(model, X):
    for method in ("predict_proba", "decision_function", "predict", "transform"):
        if hasattr(model, method):
            with contextlib.suppress(Exception):
                return np.asarray(getattr(model, method)(X), dtype=float)
    return None


def _pickler():
    for name in ("cloudpickle", "joblib.externals.cloudpickle"):
        with contextlib.suppress(ImportError):
            return importlib.import_module(name)
    return pickle


class ModelStore:
    """Fitted models in a directory, each signed with this fit's in-memory key.

    Parameters
    ----------
    directory : str, os.PathLike or None
        Where the store makes its own directory (removed by ``close``);
        None: the system's temporary directory.
    max_bytes : int
        The most the models may take together; the oldest are evicted first.
    """

    def __init__(self, directory=None, max_bytes=10**9):
        parent = os.fspath(directory) if directory is not None else None
        if parent is not None:
            os.makedirs(parent, exist_ok=True)
        self.path = tempfile.mkdtemp(prefix="sk_hpo-models-", dir=parent)
        self.max_bytes = int(max_bytes)
        self._key = secrets.token_bytes(32)

    def _file(self, name):
        return os.path.join(self.path, name + _SUFFIX)

    def _mac(self, name, data):
        return hmac.new(self._key, name.encode() + b"\0" + data, hashlib.sha256).digest()

    def save(self, name, model):
        """Write ``model`` as ``name``; False when it does not fit in the bound."""
        try:  # cloudpickle where joblib's loky has it: classes of __main__ too
            data = _pickler().dumps(model, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 -- not picklable: the next rung retrains it
            return False
        blob = self._mac(name, data) + data
        if len(blob) > self.max_bytes or not self._make_room(len(blob)):
            return False
        temporary = self._file(f".{name}.{secrets.token_hex(4)}")
        try:
            with open(temporary, "wb") as file:
                file.write(blob)
            os.replace(temporary, self._file(name))  # readers see all of it or nothing
        except OSError:
            with contextlib.suppress(OSError):
                os.remove(temporary)
            return False
        return True

    def load(self, name):
        """The model saved as ``name`` by this store, or None (missing, or not signed by it)."""
        try:
            with open(self._file(name), "rb") as file:
                blob = file.read()
        except OSError:
            return None
        mac, data = blob[:32], blob[32:]
        if len(mac) != 32 or not hmac.compare_digest(mac, self._mac(name, data)):
            return None  # not written by this fit: never unpickled
        return pickle.loads(data)  # signed with this fit's in-memory key: written by it

    def names(self):
        with contextlib.suppress(OSError):
            return [
                entry.name[: -len(_SUFFIX)] for entry in os.scandir(self.path)
                if entry.name.endswith(_SUFFIX) and not entry.name.startswith(".")
            ]  # fmt: skip
        return []

    def delete(self, names):
        for name in names:
            with contextlib.suppress(OSError):
                os.remove(self._file(name))

    def n_bytes(self):
        return sum(size for _, size, _ in self._entries())

    def _entries(self):
        entries = []
        with contextlib.suppress(OSError):
            for entry in os.scandir(self.path):
                with contextlib.suppress(OSError):
                    stat = entry.stat()
                    entries.append((stat.st_mtime_ns, stat.st_size, entry.path))
        return entries

    def _make_room(self, n_bytes):
        entries = sorted(self._entries())
        total = sum(size for _, size, _ in entries)
        for _, size, path in entries:  # the oldest first
            if total + n_bytes <= self.max_bytes:
                break
            with contextlib.suppress(OSError):
                os.remove(path)
            total -= size
        return total + n_bytes <= self.max_bytes

    def close(self):
        shutil.rmtree(self.path, ignore_errors=True)


@dataclass
class Chain:
    """What one (candidate, split) fit of a rung needs to continue.

    ``resources``: the levels of the candidate's bracket from its first up
    to this rung's; ``names``: the stored model of each.  The rung's own
    model is saved unless it is the top level.
    """

    continuation: "Continuation"
    resources: list
    names: list
    save_last: bool


@dataclass
class Continuation:
    """A search's continuation: the mode, the resource, the store."""

    mode: str
    resource: str
    warm_start: str
    store: ModelStore
    top: int  # the highest resource level
    _keys: dict = field(default_factory=dict, repr=False)

    def chain(self, key, bracket, resources, split):
        """The ``Chain`` of a candidate (``key``: its key in the space) on ``split``."""
        digest = self.digest(key)
        names = [self.name(digest, bracket, resource, split) for resource in resources]
        return Chain(self, list(resources), names, resources[-1] != self.top)

    @staticmethod
    def name(digest, bracket, resource, split):
        return f"b{bracket}-{digest}-r{resource}-s{split}"

    def digest(self, key):
        """The short name of the candidate with ``key`` in file names."""
        if key not in self._keys:
            self._keys[key] = hashlib.sha256(repr(key).encode()).hexdigest()[:20]
        return self._keys[key]

    def forget(self, keep):
        """Delete the stored models ``keep(bracket, digest, resource)`` rejects."""
        gone = []
        for name in self.store.names():
            bracket, digest, resource, _ = name.split("-")
            if not keep(int(bracket[1:]), digest, int(resource[1:])):
                gone.append(name)
        self.store.delete(gone)

    def __getstate__(self):  # sent to workers: what a fit needs
        state = dict(self.__dict__)
        state["_keys"] = {}
        return state


def continue_and_score(estimator, X, y, train, test, parameters, kwargs, chain):
    """Fit and score one candidate on one split, continuing its lower rung's model.

    Runs in a worker.  Loads the highest stored model of ``chain``; trains
    the levels above it (all of them from ``estimator``, a fresh clone,
    when none is stored), saving each one; scores the last as
    ``_fit_and_score`` does.  ``fit_time`` is the training this call did,
    with the loading and saving of models.
    """
    plan = chain.continuation
    started = time.perf_counter()
    model, start = estimator, 0
    for j in reversed(range(len(chain.resources) - 1)):
        loaded = plan.store.load(chain.names[j])
        if loaded is not None:
            model, start = loaded, j + 1
            break
    overhead = time.perf_counter() - started  # loading and saving models count as fitting
    fit_time = 0.0
    out = None
    for j in range(start, len(chain.resources)):
        step_params, step_kwargs = _step(plan, model, parameters, kwargs, chain.resources, j)
        out = fit_and_score(model, X, y, train, test, step_params, step_kwargs)
        fit_time += out.get("fit_time", 0.0)
        if out["fit_error"] is not None:
            break
        if j < len(chain.resources) - 1 or chain.save_last:
            started = time.perf_counter()
            plan.store.save(chain.names[j], model)
            overhead += time.perf_counter() - started
    if "fit_time" in out:
        out["fit_time"] = fit_time + overhead
    return out


def _step(plan, model, parameters, kwargs, resources, j):
    """The parameters and ``_fit_and_score`` arguments that train level ``j`` of a chain."""
    params = {**parameters, plan.warm_start: True, plan.resource: resources[j]}
    if j == 0:
        return params, kwargs
    previous, target = resources[j - 1], resources[j]
    if plan.mode == "increment":
        params[plan.resource] = target - previous
        return params, kwargs
    if plan.mode == "total":
        return params, kwargs
    # "epochs": SciKeras trains ``epochs`` more from ``initial_epoch``.
    prefix = plan.resource[: -len("epochs")]
    owner = model.get_params(deep=True)[prefix[:-2]] if prefix else model
    done = int(getattr(owner, "current_epoch", previous))
    more = target - previous if done >= previous else 0  # stopped early: not trained further
    fit_params = {**(kwargs.get("fit_params") or {}), f"{prefix}epochs": more,
                  f"{prefix}initial_epoch": done}  # fmt: skip
    return params, {**kwargs, "fit_params": fit_params}
