"""
Several metrics at once, the search optimising the one named by ``refit``
=========================================================================

As in scikit-learn: ``scoring`` is a dict (or list) of scorers,
``cv_results_`` has every metric, ``refit`` names the one that picks
``best_params_`` and that the search optimises.  Breast cancer data,
gradient boosting, 20 candidates (``SK_HPO_EXAMPLE_FAST=1``: 5).
"""

import os

from sklearn.datasets import load_breast_cancer
from sklearn.ensemble import HistGradientBoostingClassifier

from sk_hpo import BayesSearchCV, Integer, Real

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"

X, y = load_breast_cancer(return_X_y=True)
search = BayesSearchCV(
    HistGradientBoostingClassifier(max_iter=100, random_state=0),
    {
        "learning_rate": Real(1e-2, 1.0, prior="log-uniform"),
        "max_leaf_nodes": Integer(4, 64, prior="log-uniform"),
        "l2_regularization": Real(1e-6, 10.0, prior="log-uniform"),
    },
    scoring={"roc_auc": "roc_auc", "accuracy": "accuracy", "log_loss": "neg_log_loss"},
    refit="roc_auc",
    n_iter=5 if FAST else 20,
    cv=3,
    n_jobs=2,
    random_state=0,
).fit(X, y)

best = search.best_index_
print(f"best cross-validated roc_auc: {search.best_score_:.4f} with {search.best_params_}")
print(f"  its accuracy {search.cv_results_['mean_test_accuracy'][best]:.4f}, "
      f"log loss {-search.cv_results_['mean_test_log_loss'][best]:.4f}")  # fmt: skip
