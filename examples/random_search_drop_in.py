"""
Drop-in replacement of RandomizedSearchCV
=========================================

The ``param_distributions`` of a ``RandomizedSearchCV`` (scipy.stats
distributions and lists) go unchanged into ``TPESearchCV`` and
``BayesSearchCV``: same constructor arguments, same ``fit``,
``best_params_``, ``cv_results_``.  An SVM on the digits, 30 candidates each
(``SK_HPO_EXAMPLE_FAST=1``: 6).
"""

import os

from scipy.stats import loguniform
from sklearn.datasets import load_digits
from sklearn.model_selection import RandomizedSearchCV
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, TPESearchCV

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"
N_ITER = 6 if FAST else 30

X, y = load_digits(return_X_y=True)
param_distributions = {
    "C": loguniform(1e-2, 1e3),
    "gamma": loguniform(1e-5, 1e-1),
    "kernel": ["rbf", "sigmoid"],
}

for cls in (RandomizedSearchCV, TPESearchCV, BayesSearchCV):
    search = cls(SVC(), param_distributions, n_iter=N_ITER, cv=3, n_jobs=2, random_state=0)
    search.fit(X, y)
    print(f"{cls.__name__:>18}: best cross-validated accuracy {search.best_score_:.4f} "
          f"with {search.best_params_}")  # fmt: skip
