import os
import signal
import sqlite3
import subprocess
import sys
import time

import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin

from sk_hpo.testing import FunctionEstimator


@pytest.fixture(scope="module")
def dask_client():
    """A client of a ``LocalCluster`` of two single-threaded worker processes."""
    pytest.importorskip("distributed")
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           host="127.0.0.1", dashboard_address=None)  # fmt: skip
    client = Client(cluster)
    yield client
    client.close()
    cluster.close()


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Predicts the majority class; records every fit and what it received.

    ``fail_when`` makes ``fit`` raise for a chosen value of ``a``; the score
    is ``-(a - 0.3) ** 2`` through ``score`` so that searches have an optimum.
    """

    fits = []

    def __init__(self, a=0.0, b="x", fail_when=None):
        self.a = a
        self.b = b
        self.fail_when = fail_when

    def fit(self, X, y, sample_weight=None):
        type(self).fits.append({"a": self.a, "b": self.b, "sample_weight": sample_weight})
        if self.fail_when is not None and self.fail_when(self.a, self.b):
            raise ValueError(f"invalid combination a={self.a}, b={self.b}")
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])

    def score(self, X, y, sample_weight=None):
        return -((self.a - 0.3) ** 2) - (0.1 if self.b == "y" else 0.0)


@pytest.fixture
def recording():
    RecordingClassifier.fits = []
    yield RecordingClassifier
    RecordingClassifier.fits = []


@pytest.fixture
def iris():
    from sklearn.datasets import load_iris

    return load_iris(return_X_y=True)


@pytest.fixture
def two_branches():
    """A conditional space and its loss: branch "b" reaches 0 (v = 0.7, w = 5),
    branch "a" never goes below 1."""
    from sk_hpo import Integer, Real, SearchSpace

    space = SearchSpace(
        [
            {"kind": ["a"], "u": Real(0, 1)},
            {"kind": ["b"], "v": Real(0, 1), "w": Integer(0, 20)},
        ]
    )

    def loss(params):
        if params["kind"] == "a":
            return 1.0 + params["u"]
        return 3 * abs(params["v"] - 0.7) + abs(params["w"] - 5) / 20

    return space, loss


@pytest.fixture
def fits(monkeypatch):
    """Parameters of every cross-validation fit of a FunctionEstimator."""
    record = []
    original = FunctionEstimator.fit

    def fit(self, X, y=None):
        if len(X) < 4:  # the refit sees all 4 samples
            record.append((self.x0, self.x1))
        return original(self, X, y)

    monkeypatch.setattr(FunctionEstimator, "fit", fit)
    return record


def _n_stored(path):
    """Candidates stored in the SQLite file ``path`` (0 before its tables exist)."""
    if not os.path.exists(path):
        return 0
    try:
        with sqlite3.connect(path) as db:
            return db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
    except sqlite3.OperationalError:  # tables not created yet
        return 0


@pytest.fixture
def kill_when_stored():
    """``kill(script, path, n, settle=0)``: run ``script`` (a search storing into
    ``path``, its first argument) in a new process, and SIGKILL it ``settle``
    seconds after ``path`` holds ``n`` candidates."""

    def kill(script, path, n, settle=0.0):
        process = subprocess.Popen([sys.executable, "-c", script, str(path)])
        try:
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and process.poll() is None:
                if _n_stored(path) >= n:
                    break
                time.sleep(0.01)
            time.sleep(settle)
            assert process.poll() is None, "the search ended before it could be killed"
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
        finally:
            if process.poll() is None:
                process.kill()

    return kill
