"""Scale-out: the same search through a real dask.distributed cluster."""

import os

import numpy as np
import pytest

pytest.importorskip("distributed")

from joblib import parallel_backend  # noqa: E402
from sklearn.datasets import load_iris  # noqa: E402
from sklearn.svm import SVC  # noqa: E402

from sk_hpo import RandomSearchCV, Real  # noqa: E402


def test_search_on_dask_matches_local_search(dask_client):
    X, y = load_iris(return_X_y=True)
    space = {"C": Real(1e-2, 1e2, prior="log-uniform"), "kernel": ["rbf", "linear"]}

    def make():
        return RandomSearchCV(SVC(), space, n_iter=6, n_points=3, n_jobs=-1, random_state=0)

    from distributed import get_task_stream

    local = make().fit(X, y)
    with parallel_backend("dask"), get_task_stream(dask_client) as tasks:
        remote = make().fit(X, y)
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_allclose(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    assert remote.best_params_ == local.best_params_
    # The fits really ran on the cluster's workers (joblib batches them).
    workers = {task["worker"] for task in tasks.data}
    # The cluster's workers asked directly (scheduler_info() answers from a
    # cache that holds no workers when its refresh times out on a busy machine).
    assert workers and workers <= set(dask_client.run(os.getpid))


def test_multi_fidelity_continues_on_dask_workers_as_it_does_locally(dask_client, tmp_path):
    import warnings

    from distributed import get_task_stream
    from sklearn.datasets import load_digits
    from sklearn.model_selection import KFold
    from sklearn.neural_network import MLPClassifier

    from sk_hpo import TPESearchCV

    X, y = load_digits(return_X_y=True)
    X, y = X[:300] / 16, y[:300]

    def make():
        return TPESearchCV(
            MLPClassifier(hidden_layer_sizes=(16,), max_iter=9, random_state=0),
            {"alpha": Real(1e-5, 1e-1, prior="log-uniform")}, n_iter=9, resource="max_iter",
            cv=KFold(2), n_jobs=-1, random_state=0, refit=False,
            model_directory=tmp_path,  # the path the workers share
        )  # fmt: skip

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the MLP's ConvergenceWarning
        local = make().fit(X, y)
        with parallel_backend("dask"), get_task_stream(dask_client) as tasks:
            remote = make().fit(X, y)
    assert remote.continuation_ == local.continuation_ == "increment"
    assert remote.cv_results_["params"] == local.cv_results_["params"]
    np.testing.assert_array_equal(
        remote.cv_results_["mean_test_score"], local.cv_results_["mean_test_score"]
    )
    names = [str(task["key"]) for task in tasks.data]
    assert sum("continue_and_score" in name for name in names) == (9 + 3 + 1) * 2
    assert list(tmp_path.iterdir()) == []


class _WhereFitted(SVC):
    """An SVC that records the name of the Dask worker each fit ran on."""

    workers = []

    def fit(self, X, y, **kwargs):
        from distributed import get_worker

        try:
            _WhereFitted.workers.append(get_worker().name)
        except ValueError:  # not on a worker: the refit, in this process
            _WhereFitted.workers.append(None)
        return super().fit(X, y, **kwargs)


@pytest.mark.parametrize("asynchronous", [False, True])
def test_fits_go_to_the_workers_that_declare_a_gpu(asynchronous):
    from distributed import Client, Scheduler, SpecCluster, Worker

    # Two workers in this process: one declares a GPU, the other does not.
    workers = {
        "gpu-worker": {"cls": Worker, "options": {"nthreads": 1, "resources": {"GPU": 1}}},
        "cpu-worker": {"cls": Worker, "options": {"nthreads": 1}},
    }
    scheduler = {"cls": Scheduler, "options": {"host": "127.0.0.1", "dashboard_address": None}}
    X, y = load_iris(return_X_y=True)
    _WhereFitted.workers = []
    with SpecCluster(workers=workers, scheduler=scheduler) as cluster, Client(cluster) as client:
        client.wait_for_workers(2)
        with parallel_backend("dask", resources={"GPU": 1}):  # joblib 1.2's name too
            search = RandomSearchCV(_WhereFitted(), {"C": Real(1e-2, 1e2, prior="log-uniform")},
                                    n_iter=6, n_points=3, n_jobs=2, cv=3, random_state=0,
                                    asynchronous=asynchronous).fit(X, y)  # fmt: skip
    assert len(search.cv_results_["params"]) == 6
    fits = [name for name in _WhereFitted.workers if name is not None]
    assert len(fits) >= 6 * 3 and set(fits) == {"gpu-worker"}
