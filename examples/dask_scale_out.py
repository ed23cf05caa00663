"""
Scaling out with Dask: the fits on a dask.distributed cluster, no worker idle
=============================================================================

``joblib.parallel_backend("dask")`` sends the fits to a cluster.  With
``asynchronous=True`` each worker that frees gets the next fit at once,
and the search learns from each candidate as soon as it finishes, so
forests of 10 trees and of 300 do not wait for one another.  Here a
local cluster of 2 single-threaded worker processes stands in for a real
one (``Client("scheduler-address:8786")``: the same code).  Needs the
``dask`` extra.  Digits, random forest, 16 candidates
(``SK_HPO_EXAMPLE_FAST=1``: 4).
"""

import os

import joblib
from dask.distributed import Client, LocalCluster
from sklearn.datasets import load_digits
from sklearn.ensemble import RandomForestClassifier

from sk_hpo import Integer, TPESearchCV

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"

if __name__ == "__main__":
    X, y = load_digits(return_X_y=True)
    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None) as cluster, \
            Client(cluster) as client:  # fmt: skip
        search = TPESearchCV(
            RandomForestClassifier(random_state=0),
            {"n_estimators": Integer(10, 300, prior="log-uniform"),
             "max_depth": Integer(2, 30), "min_samples_leaf": Integer(1, 20)},
            n_iter=4 if FAST else 16, n_jobs=-1, cv=3, random_state=0, asynchronous=True,
        )  # fmt: skip
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    print(f"best cross-validated accuracy: {search.best_score_:.4f} with {search.best_params_}")
