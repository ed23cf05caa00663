"""
Architecture search for a Keras network on the digits, with early stopping
==========================================================================

A dense network on scikit-learn's 8x8 digits (our small MNIST), in a
``Pipeline`` after scaling.  TPESearchCV searches the depth, the units and
dropout of each layer the candidate has (``PerLayer``), the activation, the
optimizer with its learning rate and the batch size.  Each fit holds
out 20% of its training fold (``validation_split``), stops when the
validation loss has not improved for 3 epochs (``EarlyStopping``, which
restores the best weights) and halves the learning rate after 2 flat epochs
(``ReduceLROnPlateau``), so ``epochs`` is only a ceiling.

``SK_HPO_EXAMPLE_FAST=1`` runs a smaller version (3 candidates of at most
10 epochs: 33 s on 2 cores), as the test suite does.
"""

import os

import keras
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sk_hpo import Categorical, Integer, PerLayer, Real, TPESearchCV
from sk_hpo.keras import KerasClassifier

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"

X, y = load_digits(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, random_state=0, stratify=y)

network = KerasClassifier(
    optimizer="adam",
    epochs=10 if FAST else 50,
    validation_split=0.2,
    callbacks=[
        keras.callbacks.EarlyStopping(patience=3, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(factor=0.5, patience=2),
    ],
    random_state=0,
)
search = TPESearchCV(
    make_pipeline(StandardScaler(), network),
    {
        "kerasclassifier__model__n_layers": Integer(1, 3),
        # kerasclassifier__model__units_0 .. _2, for the layers each candidate has
        "kerasclassifier__model__units": PerLayer(Integer(16, 256, "log-uniform")),
        "kerasclassifier__model__dropout": PerLayer(Real(0.0, 0.5)),
        "kerasclassifier__model__activation": Categorical(["relu", "tanh"]),
        "kerasclassifier__optimizer": ["adam", "rmsprop"],
        "kerasclassifier__optimizer__learning_rate": Real(1e-4, 1e-1, "log-uniform"),
        "kerasclassifier__batch_size": Categorical([32, 64, 128]),
    },
    n_iter=3 if FAST else 10,
    cv=3,
    random_state=0,
)
search.fit(X_train, y_train)

print(f"best cross-validated accuracy: {search.best_score_:.3f}")
print(f"test accuracy of the refitted best network: {search.score(X_test, y_test):.3f}")
print("best parameters:")
for name, value in search.best_params_.items():
    print(f"  {name.removeprefix('kerasclassifier__')} = {value}")
print(f"epochs the refit ran before stopping early: {len(search.best_estimator_[-1].history_['loss'])}")
