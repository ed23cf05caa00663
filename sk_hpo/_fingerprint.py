"""What a stored search was made for, as text that compares across processes.

A stored candidate is only worth resuming into a search with the same
search space, the same estimator, the same data and the same way of
scoring.  :func:`search_fingerprint` describes each of those as a string
that does not depend on memory addresses, so two processes building the
same search get the same fingerprint.
"""

import re

import joblib
import numpy as np

from ._internals import num_samples
from ._space import Categorical, Distribution, _Range

_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def describe(value):
    """A deterministic, complete description of ``value``."""
    if isinstance(value, _Range):
        step = f", step={value.step!r}" if getattr(value, "step", 1) not in (1, None) else ""
        text = f"{type(value).__name__}({value.low!r}, {value.high!r}, {value.prior!r}{step})"
        return text + _condition(value)
    if isinstance(value, Categorical):
        prior = None if value.prior is None else list(value.prior)
        text = f"Categorical({describe(list(value.categories))}, prior={prior!r})"
        return text + _condition(value)
    if isinstance(value, Distribution):
        dist = value.distribution
        text = f"Distribution({dist.dist.name}, {describe(dist.args)}, {describe(dist.kwds)})"
        return text + _condition(value)
    if hasattr(value, "get_params") and not isinstance(value, type):
        params = value.get_params(deep=False)
        inner = ", ".join(f"{k}={describe(params[k])}" for k in sorted(params))
        return f"{_qualified_name(type(value))}({inner})"
    if isinstance(value, dict):
        items = sorted(value.items(), key=lambda item: repr(item[0]))
        return "{" + ", ".join(f"{k!r}: {describe(v)}" for k, v in items) + "}"
    if isinstance(value, (list, tuple)):
        inner = ", ".join(describe(v) for v in value)
        return f"[{inner}]" if isinstance(value, list) else f"({inner})"
    if isinstance(value, np.ndarray):
        return f"array(shape={value.shape}, dtype={value.dtype}, hash={joblib.hash(value)})"
    if isinstance(value, type) or callable(value) and hasattr(value, "__qualname__"):
        return _qualified_name(value)
    return _ADDRESS.sub("", repr(value))


def _condition(dimension):
    condition = getattr(dimension, "active_if", None)
    return "" if condition is None else f" if {condition[0]} >= {condition[1]!r}"


def _qualified_name(obj):
    return f"{getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', repr(obj))}"


def describe_data(data):
    """Shape, type and content hash of ``X`` or ``y``."""
    if data is None:
        return "None"
    shape = getattr(data, "shape", None)
    if shape is not None:
        shape = tuple(shape)
    else:
        try:
            shape = (num_samples(data),)
        except TypeError:
            shape = "?"
    try:
        digest = joblib.hash(data)
    except Exception:  # noqa: BLE001 -- unhashable data: its shape is the best we can check
        digest = "?"
    return f"{type(data).__name__}(shape={shape}, hash={digest})"


def search_fingerprint(search, space, X, y):
    """The parts of a search a stored candidate depends on, each as a string.

    The algorithm's options are not part of it: changing them resumes the
    stored candidates into a search that proposes differently.
    """
    branches = [
        {name: describe(dim) for name, dim in zip(branch.names, branch.dimensions)}
        for branch in space.branches
    ]
    fingerprint = {
        "search": type(search).__name__,
        "search space": describe(branches),
        "estimator": describe(search.estimator),
        "X": describe_data(X),
        "y": describe_data(y),
        "scoring": describe(search.scoring),
        "cv": describe(search.cv),
        "return_train_score": repr(search.return_train_score),
        "error_score": repr(search.error_score),
    }
    if getattr(search, "resource", None) is not None:
        # Stored candidates were evaluated at these resource levels, and
        # continued their lower rungs or not.
        names = ("resource", "min_resources", "max_resources", "factor", "continuation")
        fingerprint["resources"] = describe({name: getattr(search, name, None) for name in names})
    return fingerprint
