"""
Joint search over alternative models: a conditional search space
================================================================

A list of dicts is a set of branches; the search chooses the model as well
as its parameters, under one budget, and each model keeps its own
parameters (an SVM's ``C`` and ``gamma`` are never proposed for a random
forest).  Wine data, 30 candidates (``SK_HPO_EXAMPLE_FAST=1``: 6).
"""

import os
from collections import Counter

from sklearn.datasets import load_wine
from sklearn.ensemble import RandomForestClassifier
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from sk_hpo import Integer, Real, TPESearchCV

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"

X, y = load_wine(return_X_y=True)
pipe = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
branches = [
    {"clf": [SVC()], "clf__C": Real(1e-2, 1e3, prior="log-uniform"),
     "clf__gamma": Real(1e-4, 1e0, prior="log-uniform")},
    {"clf": [RandomForestClassifier(n_estimators=50, random_state=0)],
     "clf__max_depth": Integer(2, 20), "clf__min_samples_leaf": Integer(1, 10)},
    {"clf": [LogisticRegression(max_iter=1000)], "clf__C": Real(1e-3, 1e2, prior="log-uniform")},
]  # fmt: skip
search = TPESearchCV(pipe, branches, n_iter=6 if FAST else 30, cv=3, random_state=0).fit(X, y)

models = Counter(type(p["clf"]).__name__ for p in search.cv_results_["params"])
print("candidates per model:", dict(models))
print(f"best cross-validated accuracy: {search.best_score_:.4f} with {search.best_params_}")
