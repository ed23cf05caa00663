"""RandomSearchCV: the engine driven by independent random draws."""

import numpy as np

from ._base import BaseModelSearchCV
from ._optimizer import RandomSampler


class RandomSearchCV(BaseModelSearchCV):
    """Random search over sk_hpo search spaces.

    The baseline of the model-based searches, with everything they share
    that scikit-learn's ``RandomizedSearchCV`` lacks: joint search over
    alternative sub-spaces under one budget, no candidate fitted twice,
    stopping callbacks, and a search that survives failing candidates.

    Parameters
    ----------
    estimator : estimator object
        Cloned and fitted for each candidate; needs ``fit`` and a score
        (``score`` method or ``scoring``).
    search_spaces : dict or list of dict
        Parameter names (``step__param`` inside a ``Pipeline``) mapped to a
        :class:`~sk_hpo.Real`, :class:`~sk_hpo.Integer` or
        :class:`~sk_hpo.Categorical`, a list of values, a
        ``(low, high, prior)`` tuple, or a ``scipy.stats`` distribution.  A
        list of dicts gives alternative branches searched jointly.
    n_iter : int, default=50
        Number of distinct candidates to evaluate.
    scoring, n_jobs, refit, cv, verbose, pre_dispatch, error_score, \
return_train_score
        As in :class:`sklearn.model_selection.RandomizedSearchCV`.  With
        several metrics, the search maximises the ``refit`` metric, or the
        first metric of ``scoring`` when ``refit`` is not a metric name.
    n_points : int, default=1
        Candidates evaluated per batch (in parallel with ``n_jobs``).
    random_state : int, RandomState instance or None, default=None
        Fixes the sequence of candidates.
    callbacks : callable or list of callables, default=None
        Called with a :class:`~sk_hpo.callbacks.SearchState` after each
        batch; returning True stops the search.

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, \
scorer_, n_splits_, refit_time_, multimetric_
        As in :class:`sklearn.model_selection.RandomizedSearchCV`.
    n_duplicates_ : int
        Proposals that repeated an evaluated candidate, answered without a fit.
    search_space_ : SearchSpace
        The parsed search space.
    optimizer_ : RandomSampler
        The ask/tell object that proposed the candidates.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import RandomSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomSearchCV(SVC(), {"C": Real(1e-2, 1e2, "log-uniform")},
    ...                         n_iter=5, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    5
    """

    def __init__(
        self,
        estimator,
        search_spaces,
        *,
        n_iter=50,
        scoring=None,
        n_jobs=None,
        n_points=1,
        refit=True,
        cv=None,
        verbose=0,
        pre_dispatch="2*n_jobs",
        random_state=None,
        error_score=np.nan,
        return_train_score=False,
        callbacks=None,
    ):
        super().__init__(
            estimator,
            search_spaces,
            n_iter=n_iter,
            scoring=scoring,
            n_jobs=n_jobs,
            n_points=n_points,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            random_state=random_state,
            error_score=error_score,
            return_train_score=return_train_score,
            callbacks=callbacks,
        )

    def _make_optimizer(self, space, seed):
        return RandomSampler(space, seed)
