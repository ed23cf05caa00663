"""scikit-learn's common estimator checks, run on our searches as on theirs."""

from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.utils.estimator_checks import parametrize_with_checks

from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, Real, TPESearchCV

# The one check our searches fail is failed the same way by scikit-learn's
# own RandomizedSearchCV(Ridge()): BaseSearchCV does not pass the wrapped
# regressor's multi-output tag on, so the check expects a
# DataConversionWarning that Ridge (multi-output) never raises.
_SHARED_WITH_SCIKIT_LEARN = {
    "check_supervised_y_2d": "as scikit-learn's RandomizedSearchCV(Ridge()): "
    "BaseSearchCV does not forward the multi-output tag",
}


def _expected_failures(search):
    return _SHARED_WITH_SCIKIT_LEARN if isinstance(search.estimator, Ridge) else {}


@parametrize_with_checks(
    [
        RandomSearchCV(Ridge(), {"alpha": Real(0.1, 10, prior="log-uniform")}, n_iter=3),
        RandomSearchCV(LogisticRegression(), {"C": Real(0.1, 10)}, n_iter=3, n_points=2),
        TPESearchCV(LogisticRegression(), {"C": Real(0.1, 10)}, n_iter=4, n_startup_trials=2),
        BayesSearchCV(LogisticRegression(), {"C": Real(0.1, 10)}, n_iter=4, n_initial_points=2,
                      optimizer_kwargs={"acq_optimizer_kwargs": {"n_points": 50}}),
        GeneticSearchCV(LogisticRegression(), {"C": Real(0.1, 10)}, population_size=2,
                        generations=1),
    ],
    expected_failed_checks=_expected_failures,
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
