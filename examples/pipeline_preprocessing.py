"""
A Pipeline whose preprocessing is searched along with the model
===============================================================

The scaler is a choice among estimators (or ``"passthrough"``), the PCA
dimension an integer, the classifier's regularisation a log-scaled real:
all ``step__param`` names, as in scikit-learn.  Digits, 25 candidates
(``SK_HPO_EXAMPLE_FAST=1``: 5).
"""

import os

from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import MinMaxScaler, StandardScaler

from sk_hpo import Categorical, Integer, Real, TPESearchCV

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"

X, y = load_digits(return_X_y=True)
pipe = Pipeline([("scale", StandardScaler()), ("pca", PCA()), ("clf", LogisticRegression(max_iter=500))])
space = {
    "scale": Categorical([StandardScaler(), MinMaxScaler(), "passthrough"]),
    "pca__n_components": Integer(5, 60),
    "clf__C": Real(1e-3, 1e2, prior="log-uniform"),
}
search = TPESearchCV(pipe, space, n_iter=5 if FAST else 25, cv=3, n_jobs=2, random_state=0).fit(X, y)
print(f"best cross-validated accuracy: {search.best_score_:.4f}")
for name, value in search.best_params_.items():
    print(f"  {name} = {value!r}")
