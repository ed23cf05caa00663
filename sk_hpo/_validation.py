"""Checks of a search's inputs, all made before the first fit."""

import contextlib
import functools
import inspect
import math
import numbers

import numpy as np
from sklearn.base import clone

from ._internals import num_samples
from ._search_space import split_layer_name
from ._space import _describe


# Other libraries' names for a search's parameters, and what each is here:
# a script moved from them gets this, not Python's bare "unexpected keyword".
FOREIGN_PARAMETERS = {
    "param_distributions": "search_spaces (scikit-learn's RandomizedSearchCV name)",
    "param_grid": "search_spaces (scikit-learn's GridSearchCV name; a list of values "
                  "is a categorical dimension)",
    "n_trials": "n_iter (Optuna's name)",
    "timeout": "callbacks=[sk_hpo.callbacks.DeadlineStopper(total_time=seconds)] "
               "(Optuna's timeout)",
    "study": "storage=<file> and study_name=<name> (Optuna's study)",
    "sampler": "the search class: TPESearchCV for Optuna's TPESampler, BayesSearchCV for "
               "its GPSampler, RandomSearchCV for its RandomSampler",
    "enable_pruning": "TPESearchCV's or BayesSearchCV's resource=<the estimator's budget "
                      "parameter> (multi-fidelity, where Optuna prunes)",
    "max_iter": "TPESearchCV's or BayesSearchCV's max_resources (multi-fidelity, where "
                "Optuna's OptunaSearchCV takes max_iter)",
}


def refusing_foreign_parameters(init):
    """``init`` (a search's ``__init__``) raising a ``TypeError`` that names
    our equivalent of another library's parameter (``FOREIGN_PARAMETERS``)."""

    @functools.wraps(init)
    def checked(self, *args, **kwargs):
        try:
            init(self, *args, **kwargs)
        except TypeError:
            for name in kwargs:
                if name in FOREIGN_PARAMETERS and name not in inspect.signature(init).parameters:
                    raise TypeError(
                        f"{type(self).__name__} has no parameter {name!r}; use "
                        f"{FOREIGN_PARAMETERS[name]}."
                    ) from None
            raise

    checked.refuses_foreign_parameters = True
    return checked


def check_callbacks(callbacks, name="callbacks"):
    if callbacks is None:
        return []
    callbacks = [callbacks] if callable(callbacks) else list(callbacks)
    takes = "a SearchState" if name == "callbacks" else "an OptimizeResult"
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise ValueError(
                f"{name}[{i}] must be callable (taking {takes}), got {_describe(callback)}."
            )
    return callbacks


def check_parameter_names(space, estimator):
    """Raise if a searched name is not a parameter ``set_params`` accepts."""
    for b, branch in enumerate(space.branches):
        dims = dict(zip(branch.names, branch.dimensions))
        for name in branch.names:
            problem = _settable_problem(name, estimator, dims)
            if problem:
                where = f" (branch {b})" if space.n_branches > 1 else ""
                raise ValueError(f"search space parameter {name!r}{where}: {problem}")


def _settable_problem(name, estimator, dims):
    """Why ``name`` cannot be set on ``estimator``, or None if it can.

    ``dims`` are the searched dimensions of the same branch: a nested name
    such as ``clf__C`` is valid when ``clf`` is itself searched and every
    one of its categories has a parameter ``C``.
    """
    if not hasattr(estimator, "get_params"):
        return f"{_describe(estimator)} has no parameters to set."
    parts = name.split("__")
    for cut in range(1, len(parts)):
        prefix, rest = "__".join(parts[:cut]), "__".join(parts[cut:])
        dim = dims.get(prefix)
        if dim is None or not dim.is_categorical or _is_routing_prefix(estimator, parts[:cut]):
            continue
        sub_dims = {
            key[len(prefix) + 2 :]: d for key, d in dims.items() if key.startswith(prefix + "__")
        }
        for value in dim.categories:
            problem = _settable_problem(rest, value, sub_dims)
            if problem:
                return f"not settable when {prefix!r} is {_describe(value)}: {problem}"
        return None
    params = estimator.get_params(deep=True)
    if name in params:
        return None
    if parts[0] in getattr(estimator, "_routing_prefixes", ()):
        return _routed_problem(name, estimator)
    for cut in range(1, len(parts)):
        step = params.get("__".join(parts[:cut]))
        if hasattr(step, "get_params") and not isinstance(step, type):
            # A nested estimator may accept names get_params does not list.
            return _settable_problem("__".join(parts[cut:]), step, {})
    if _set_params_accepts(estimator, name, dims.get(name)):
        return None
    valid = sorted(key for key in params if "__" not in key)
    return (
        f"{type(estimator).__name__} has no parameter {name!r}; its parameters "
        f"are {valid} (nested ones as step__param)."
    )


def check_initial_params(initial_params, space, budget):
    """The distinct points of ``initial_params``, validated against ``space``."""
    if initial_params is None:
        return []
    points, keys = [], set()
    for i, params in enumerate(initial_params):
        if not isinstance(params, dict):
            raise ValueError(
                f"initial_params[{i}] must be a dict of parameter values, got "
                f"{_describe(params)}."
            )
        try:
            point = space.to_point(params)
        except ValueError as exc:
            raise ValueError(f"initial_params[{i}]: {exc}") from None
        key = space.key(point)
        if key not in keys:
            keys.add(key)
            points.append(point)
    if len(points) > budget:
        raise ValueError(
            f"initial_params holds {len(points)} distinct candidates, more than "
            f"the {budget} the search evaluates (n_iter); give at most {budget}."
        )
    return points


def check_data(X, y):
    """Refuse data no fit can use: no samples, or missing targets."""
    if num_samples(X) == 0:
        raise ValueError("X has 0 samples; a search needs samples to cross-validate on.")
    if y is None:
        return
    values = np.asarray(y)
    if values.dtype.kind in "fc":
        missing = ~np.isfinite(values)
    elif values.dtype.kind == "O":
        missing = np.array(
            [v is None or isinstance(v, numbers.Real) and not math.isfinite(v)
             for v in values.reshape(-1)]
        ).reshape(values.shape)
    else:
        return
    if missing.any():
        first = np.argwhere(missing)[0]
        where = int(first[0]) if len(first) == 1 else tuple(int(i) for i in first)
        raise ValueError(
            f"y has {int(missing.sum())} missing or infinite targets (the first at "
            f"index {where}); estimators cannot be fitted to them. Drop those "
            "samples, or impute their targets, before the search."
        )


def _set_params_accepts(estimator, name, dim):
    """Whether ``set_params`` takes ``name`` although ``get_params`` does not
    list it (scikit-learn's minimal-estimator protocol allows it): asked of
    a clone, with a value of the dimension."""
    value = None
    if dim is not None:
        with contextlib.suppress(Exception):
            value = dim.from_unit(0.5)
            value = value.item() if hasattr(value, "item") else value
    try:
        clone(estimator, safe=False).set_params(**{name: value})
    except Exception:  # noqa: BLE001 - any refusal means: not settable
        return False
    return True


def _is_routing_prefix(estimator, parts):
    """Whether ``a__b`` is SciKeras's routing (``optimizer="adam"`` with
    ``optimizer__learning_rate``), not a nested estimator's parameter."""
    owner = estimator
    if len(parts) > 1:
        owner = estimator.get_params(deep=True).get("__".join(parts[:-1]))
    return parts[-1] in getattr(owner, "_routing_prefixes", ())


# Arguments SciKeras gives a model-building function itself.
_BUILDER_ARGUMENTS = {"meta", "compile_kwargs", "params"}


def _routed_problem(name, estimator):
    """SciKeras routes ``prefix__name`` parameters; check those of the model builder."""
    if not name.startswith("model__") or "__" in name[len("model__") :]:
        return None
    try:
        builder = estimator._check_model_param()
    except (TypeError, ValueError):
        return None  # fit will say what is wrong with the model
    try:
        signature = inspect.signature(builder)
    except (TypeError, ValueError):
        return None
    kinds = {p.kind: p.name for p in signature.parameters.values()}
    per_layer = tuple(getattr(builder, "per_layer_parameters", ()))
    if inspect.Parameter.VAR_KEYWORD in kinds and not per_layer:
        return None
    accepted = sorted(
        set(signature.parameters) - _BUILDER_ARGUMENTS
        - {kinds.get(inspect.Parameter.VAR_KEYWORD)}
    )
    parameter = name[len("model__") :]
    if parameter in accepted:
        return None
    split = split_layer_name(parameter)
    if split is not None and split[0] in per_layer:
        return None
    layers = "".join(f", {base}_<i>" for base in per_layer)
    return (
        f"the model builder {getattr(builder, '__name__', builder)!r} takes no "
        f"parameter {parameter!r}; its parameters are {accepted}{layers} "
        "(searched as model__<name>)."
    )
