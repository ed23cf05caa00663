"""
The three searches and random search side by side, compared with the plots
==========================================================================

Same task, budget and seed for each; ``sk_hpo.plots`` overlays their
convergence and shows, for the TPE search, the score against each
parameter and each parameter's importance.  The figures are written to
``compare_searches_*.png`` in a temporary directory (printed).  Needs the
``plot`` extra.  Digits, gradient boosting, 24 candidates
(``SK_HPO_EXAMPLE_FAST=1``: 6).
"""

import os
import tempfile
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

from sklearn.datasets import load_digits
from sklearn.ensemble import HistGradientBoostingClassifier

from sk_hpo import (
    BayesSearchCV,
    GeneticSearchCV,
    Integer,
    RandomSearchCV,
    Real,
    TPESearchCV,
)
from sk_hpo.plots import plot_convergence, plot_importance, plot_parameters

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"
N_ITER = 6 if FAST else 24

X, y = load_digits(return_X_y=True)
X, y = X[::2], y[::2]
space = {
    "learning_rate": Real(1e-3, 1.0, prior="log-uniform"),
    "max_leaf_nodes": Integer(4, 64, prior="log-uniform"),
    "min_samples_leaf": Integer(2, 60, prior="log-uniform"),
    "l2_regularization": Real(1e-6, 10.0, prior="log-uniform"),
}
estimator = HistGradientBoostingClassifier(max_iter=30, early_stopping=False, random_state=0)
searches = {
    "random": RandomSearchCV(estimator, space, n_iter=N_ITER, cv=3, n_jobs=2, random_state=0),
    "TPE": TPESearchCV(estimator, space, n_iter=N_ITER, cv=3, n_jobs=2, random_state=0),
    "GP": BayesSearchCV(estimator, space, n_iter=N_ITER, cv=3, n_jobs=2, random_state=0),
    "GA": GeneticSearchCV(estimator, space, n_iter=N_ITER, population_size=6, cv=3, n_jobs=2,
                          random_state=0),
}  # fmt: skip
for name, search in searches.items():
    search.fit(X, y)
    print(f"{name:>6}: best cross-validated accuracy {search.best_score_:.4f}")

out = Path(tempfile.mkdtemp())
ax = plot_convergence(*searches.values(), labels=list(searches))
ax.figure.savefig(out / "compare_searches_convergence.png")
plot_parameters(searches["TPE"]).savefig(out / "compare_searches_parameters.png")
plot_importance(searches["TPE"]).figure.savefig(out / "compare_searches_importance.png")
print(f"figures written to {out}")
