"""A real search on scikit-learn's bundled digits data: ``python -m sk_hpo.demo``.

By default it searches a Keras network (needs the ``keras`` extra) with
``BayesSearchCV``: the number of hidden layers, the units and dropout of
each (``PerLayer``), the activation, the optimizer and its learning rate,
the batch size and the number of epochs, each fit stopped early on a
validation split.  It shows its progress (a bar with tqdm installed, else a
line per batch), then the best network, layer by layer, and its accuracy on
held-out images.  ``--sklearn`` runs the scikit-learn demo instead: TPE
over alternative models in one pipeline (an RBF SVM, a logistic
regression, a polynomial SVM, each with its own parameters).
"""

import argparse
import time

from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from . import BayesSearchCV, Categorical, Integer, PerLayer, Real, TPESearchCV

__all__ = ["main"]


def _keras_search(n_iter, n_jobs, random_state):
    """The Keras network search: the estimator, its space and the search."""
    import keras

    from .keras import KerasClassifier

    network = KerasClassifier(
        model="dense",
        loss="sparse_categorical_crossentropy",
        validation_split=0.15,  # of each training fold: what EarlyStopping watches
        callbacks=[keras.callbacks.EarlyStopping(
            monitor="val_loss", patience=3, restore_best_weights=True)],
        random_state=random_state,
    )
    space = {
        "model__n_layers": Integer(1, 3),
        "model__units": PerLayer(Integer(32, 256, step=32)),
        "model__dropout": PerLayer(Real(0.0, 0.5)),
        "model__activation": ["relu", "elu", "tanh"],
        "optimizer": ["adam", "rmsprop", "sgd"],
        "optimizer__learning_rate": Real(1e-4, 3e-1, prior="log-uniform"),
        "batch_size": [32, 64, 128],
        "epochs": Integer(5, 20),
    }
    return BayesSearchCV(
        network, space, n_iter=n_iter, n_points=2, cv=3, n_jobs=n_jobs,
        random_state=random_state, verbose=1,
    )  # fmt: skip


def _sklearn_search(n_iter, n_jobs, random_state):
    """The scikit-learn demo: alternative models in one pipeline."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

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
    return TPESearchCV(
        pipeline, search_spaces, n_iter=n_iter, n_points=2, cv=3, n_jobs=n_jobs,
        random_state=random_state, verbose=1,
    )  # fmt: skip


def _describe_network(model):
    """One line per layer of a Keras model: what a user reads to rebuild it."""
    import keras

    lines = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.Dense):
            activation = keras.activations.serialize(layer.activation)
            lines.append(f"Dense({layer.units}, activation={activation!r})")
        elif isinstance(layer, keras.layers.Activation):
            lines[-1] = lines[-1].replace("'linear'", repr(keras.activations.serialize(layer.activation)))
        elif isinstance(layer, keras.layers.Dropout):
            lines.append(f"Dropout({layer.rate:.3f})")
    return lines


def main(argv=None):
    """Run the demo, as ``python -m sk_hpo.demo`` does, and print what it found.

    Parameters
    ----------
    argv : list of str, default=None
        Command-line arguments (``--sklearn``, ``--n-iter N``, ``--n-jobs N``,
        ``--random-state N``); those of the process by default.

    Returns
    -------
    BayesSearchCV or TPESearchCV
        The fitted search.
    """
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sklearn", action="store_true",
                        help="search scikit-learn models instead of a Keras network")
    parser.add_argument("--n-iter", type=int, default=None,
                        help="candidates (default: 12 networks, or 20 scikit-learn models)")
    parser.add_argument("--n-jobs", type=int, default=-1)
    parser.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)

    X, y = load_digits(return_X_y=True)
    X = X / 16.0  # pixel intensities in [0, 1]
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.25, random_state=0, stratify=y
    )
    if args.sklearn:
        n_iter = args.n_iter or 20
        search = _sklearn_search(n_iter, args.n_jobs, args.random_state)
        what = "scikit-learn models"
    else:
        try:
            # sk_hpo.keras first: it checks Keras and SciKeras, and quietens
            # TensorFlow's C++ log before TensorFlow loads.
            from . import keras  # noqa: F401
        except ImportError:
            parser.exit(1, 'The Keras demo needs the keras extra: pip install ".[keras,progress]"\n'
                           "(or run the scikit-learn demo: python -m sk_hpo.demo --sklearn)\n")
        n_iter = args.n_iter or 12
        search = _keras_search(n_iter, args.n_jobs, args.random_state)
        what = "Keras networks"
    print(f"Searching {n_iter} {what} with {type(search).__name__} on the digits "
          f"({len(X_train)} training images of 8x8 pixels, 3-fold CV)...")  # fmt: skip
    start = time.perf_counter()
    search.fit(X_train, y_train)
    elapsed = time.perf_counter() - start
    print(f"\nSearched in {elapsed:.0f} s. Best parameters:")
    for name, value in search.best_params_.items():
        print(f"  {name} = {value!r}")
    if not args.sklearn:
        print("Best network:")
        for line in _describe_network(search.best_estimator_.model_):
            print(f"  {line}")
    print(f"Cross-validated accuracy: {search.best_score_:.4f}")
    print(f"Held-out accuracy:        {search.score(X_test, y_test):.4f} "
          f"({len(X_test)} images the search never saw)")  # fmt: skip
    return search


if __name__ == "__main__":
    main()
