"""Scaling out with Dask: the same search, its fits on a dask.distributed cluster.

Every fit goes through joblib, so ``joblib.parallel_backend("dask")`` sends
them to a cluster; ``n_points`` candidates per batch keep the workers busy.
Here a local cluster of 2 single-threaded workers stands in for a real one
(``Client("scheduler-address:8786")``).  Needs the ``dask`` extra.  Digits,
random forest, 16 candidates (``SK_HPO_EXAMPLE_FAST=1``: 4).
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
            RandomForestClassifier(n_estimators=30, random_state=0),
            {"max_depth": Integer(2, 30), "min_samples_leaf": Integer(1, 20)},
            n_iter=4 if FAST else 16, n_points=2, n_jobs=-1, cv=3, random_state=0,
        )  # fmt: skip
        with joblib.parallel_backend("dask"):
            search.fit(X, y)
    print(f"best cross-validated accuracy: {search.best_score_:.4f} with {search.best_params_}")
