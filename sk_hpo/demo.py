"""A real search on scikit-learn's bundled digits data: ``python -m sk_hpo.demo``.

Searches jointly, with TPE, over alternative models in one pipeline (an RBF
SVM, a logistic regression, a polynomial SVM, each with its own parameters),
shows its progress (a bar with tqdm installed, else a line per batch), then
the best parameters and the held-out accuracy.
"""

import argparse

from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from . import Categorical, Integer, Real, TPESearchCV


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-iter", type=int, default=20)
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    pipeline = Pipeline([("scale", StandardScaler()), ("clf", SVC())])
    search_spaces = [
        {
            "clf": [SVC()],
            "clf__C": Real(1e-2, 1e3, prior="log-uniform"),
            "clf__gamma": Real(1e-5, 1e-1, prior="log-uniform"),
            "scale": Categorical([StandardScaler(), "passthrough"]),
        },
        {
            "clf": [LogisticRegression(max_iter=300)],
            "clf__C": Real(1e-4, 1e2, prior="log-uniform"),
        },
        {
            "clf": [SVC(kernel="poly")],
            "clf__degree": Integer(2, 4),
            "clf__C": Real(1e-2, 1e2, prior="log-uniform"),
        },
    ]
    search = TPESearchCV(
        pipeline,
        search_spaces,
        n_iter=args.n_iter,
        n_points=2,
        cv=3,
        n_jobs=args.n_jobs,
        random_state=args.random_state,
        verbose=1,
    )
    print(f"Searching {args.n_iter} candidates on digits ({len(X_train)} training images)...")
    search.fit(X_train, y_train)
    print("\nBest parameters:")
    for name, value in search.best_params_.items():
        print(f"  {name} = {value!r}")
    print(f"Cross-validated accuracy: {search.best_score_:.4f}")
    print(f"Held-out accuracy:        {search.score(X_test, y_test):.4f}")
    return search


if __name__ == "__main__":
    main()
