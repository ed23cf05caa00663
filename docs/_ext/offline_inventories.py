"""Intersphinx inventories written from the installed packages, so the build stays offline.

Intersphinx normally downloads each project's ``objects.inv``.  The site is
built offline (in CI too), so this module writes the inventories itself,
for the public names of the installed scikit-learn, NumPy, SciPy and
joblib, at the addresses where those projects publish their API pages
(each project's own, regular scheme).  Keras publishes no Sphinx site, so
its few names used here are listed by hand with their keras.io pages.
The links point to the projects' published documentation; only the list
of names comes from this machine.
"""

import importlib
import inspect
import zlib
from pathlib import Path

# keras.io has no inventory and no regular address per name.
KERAS_PAGES = {
    "keras.Model": "api/models/model/",
    "keras.Sequential": "api/models/sequential/",
    "keras.callbacks.Callback": "api/callbacks/base_callback/",
    "keras.callbacks.EarlyStopping": "api/callbacks/early_stopping/",
    "keras.callbacks.ReduceLROnPlateau": "api/callbacks/reduce_lr_on_plateau/",
    "keras.callbacks.ModelCheckpoint": "api/callbacks/model_checkpoint/",
    "keras.optimizers.Adam": "api/optimizers/adam/",
    "keras.optimizers.RMSprop": "api/optimizers/rmsprop/",
    "keras.optimizers.SGD": "api/optimizers/sgd/",
    "keras.layers.Dense": "api/layers/core_layers/dense/",
    "keras.layers.Conv2D": "api/layers/convolution_layers/convolution2d/",
    "keras.layers.Dropout": "api/layers/regularization_layers/dropout/",
    "keras.wrappers.SKLearnClassifier": "api/utils/sklearn_wrappers/",
    "keras.wrappers.SKLearnRegressor": "api/utils/sklearn_wrappers/",
}


def _role(obj):
    if inspect.isclass(obj):
        return "py:class"
    if inspect.ismodule(obj):
        return "py:module"
    return "py:function"


def _public(module_name):
    """``(full name, role)`` of each name in a module's ``__all__``."""
    module = importlib.import_module(module_name)
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if obj is None:
            continue
        yield f"{module_name}.{name}", _role(obj)


def _sklearn():
    import sklearn

    for sub in sklearn.__all__:
        module_name = f"sklearn.{sub}"
        try:
            entries = list(_public(module_name))
        except ImportError:
            continue
        yield module_name, "py:module", f"api/{module_name}.html"
        for name, role in entries:
            if role != "py:module":
                yield name, role, f"modules/generated/{name}.html#$"


def _numpy():
    for name, role in _public("numpy"):
        if role != "py:module":
            yield name, role, f"reference/generated/{name}.html#$"
    yield "numpy.random.Generator", "py:class", "reference/random/generator.html#$"
    yield "numpy.random.RandomState", "py:class", "reference/random/legacy.html#$"


def _scipy():
    for name, role in _public("scipy.stats"):
        if role != "py:module":
            yield name, role, f"reference/generated/{name}.html#$"
    yield "scipy.stats", "py:module", "reference/stats.html"


def _joblib():
    for name, role in _public("joblib"):
        yield name, role, f"generated/{name}.html#$"


def _keras():
    for name, page in KERAS_PAGES.items():
        yield name, "py:class", page


PROJECTS = {
    # name: (published address, entries, project name)
    "sklearn": ("https://scikit-learn.org/stable/", _sklearn, "scikit-learn"),
    "numpy": ("https://numpy.org/doc/stable/", _numpy, "NumPy"),
    "scipy": ("https://docs.scipy.org/doc/scipy/", _scipy, "SciPy"),
    "joblib": ("https://joblib.readthedocs.io/en/stable/", _joblib, "joblib"),
    "keras": ("https://keras.io/", _keras, "Keras"),
}


def write(folder):
    """Write ``<name>.inv`` for every project into ``folder``; the intersphinx mapping."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    mapping = {}
    for key, (url, entries, project) in PROJECTS.items():
        lines = sorted({f"{name} {role} 1 {uri} -" for name, role, uri in entries()})
        header = (
            "# Sphinx inventory version 2\n"
            f"# Project: {project}\n"
            "# Version: \n"
            "# The remainder of this file is compressed using zlib.\n"
        )
        path = folder / f"{key}.inv"
        path.write_bytes(header.encode() + zlib.compress(("\n".join(lines) + "\n").encode()))
        mapping[key] = (url, str(path))
    return mapping
