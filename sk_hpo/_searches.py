"""The public search classes: each wires one algorithm to the engine."""

import numbers

import numpy as np
from sklearn.utils._param_validation import Interval

from ._base import BaseModelSearchCV
from ._optimizer import RandomSampler
from ._tpe import TPE, default_gamma

_COMMON_PARAMETERS = """\
    estimator : estimator object
        Cloned and fitted for each candidate; needs ``fit`` and a score
        (its ``score`` method, or ``scoring``).
    search_spaces : dict or list of dict
        Parameter names (``step__param`` inside a ``Pipeline``) mapped to a
        :class:`~sk_hpo.Real`, :class:`~sk_hpo.Integer` or
        :class:`~sk_hpo.Categorical`, a list of values, a
        ``(low, high, prior)`` tuple, or a ``scipy.stats`` distribution, so
        a ``RandomizedSearchCV`` space drops in unchanged.  A list of dicts
        gives alternative branches, searched jointly under one budget.
    n_iter : int, default=50
        Number of distinct candidates to evaluate.  A proposal equal to an
        evaluated candidate is answered from its result and costs nothing.
    scoring : str, callable, list, tuple or dict, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.  With
        several metrics the search maximises the ``refit`` metric, or the
        first metric of ``scoring`` when ``refit`` is not a metric name.
    n_jobs : int, default=None
        Fits run in parallel (joblib; ``parallel_backend("dask")`` works).
    n_points : int, default=1
        Candidates proposed per batch; a batch is evaluated in parallel, so
        use ``n_points >= n_jobs``.
    refit : bool, str or callable, default=True
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    cv : int, cross-validation generator or iterable, default=None
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    verbose : int, default=0
        ``>= 1`` prints the progress after every batch, plus
        scikit-learn's own messages.
    pre_dispatch : int or str, default="2*n_jobs"
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    random_state : int, RandomState instance or None, default=None
        The same value gives the same candidates in the same order,
        whatever ``n_jobs``.
    error_score : "raise" or float, default=np.nan
        Score of a failed fit.  A failed candidate is told to the algorithm
        as the worst result, whatever ``error_score``; the search stops with
        scikit-learn's error only if its first 10 candidates (or all of a
        smaller budget) fail.
    return_train_score : bool, default=False
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    callbacks : callable or list of callables, default=None
        Called with a :class:`~sk_hpo.callbacks.SearchState` after each
        batch; returning True stops the search (the best so far is
        refitted).  See :mod:`sk_hpo.callbacks` for ready stoppers."""

_COMMON_ATTRIBUTES = """\
    cv_results_ : dict of numpy (masked) ndarrays
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`, in
        evaluation order, with the same keys and dtypes.
    best_estimator_, best_score_, best_params_, best_index_, scorer_, \
n_splits_, refit_time_, multimetric_, classes_, n_features_in_
        As in :class:`~sklearn.model_selection.RandomizedSearchCV`.
    n_duplicates_ : int
        Proposals that repeated a candidate, answered without a fit.
    search_space_ : SearchSpace
        The parsed search space.
    optimizer_ : object
        The ask/tell algorithm, with its ``points`` and ``losses``."""


def _document(cls):
    cls.__doc__ = cls.__doc__.format(common=_COMMON_PARAMETERS, attributes=_COMMON_ATTRIBUTES)
    return cls


@_document
class RandomSearchCV(BaseModelSearchCV):
    """Random search over sk_hpo search spaces.

    The baseline of the model-based searches, with what they share and
    scikit-learn's ``RandomizedSearchCV`` lacks: joint search over
    alternative sub-spaces under one budget, no candidate fitted twice,
    stopping callbacks, and a search that survives failing candidates.

    Parameters
    ----------
{common}

    Attributes
    ----------
{attributes}

    See Also
    --------
    TPESearchCV : the model-based search that learns from the results.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import RandomSearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = RandomSearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform")}},
    ...                         n_iter=5, random_state=0).fit(X, y)
    >>> len(search.cv_results_["params"])
    5
    """

    def _make_optimizer(self, space, seed):
        return RandomSampler(space, seed)


@_document
class TPESearchCV(BaseModelSearchCV):
    """Tree-structured Parzen Estimator search.

    After ``n_startup_trials`` random candidates, the results are split
    into the ``gamma(n)`` best and the rest; each group gets a kernel
    density, and the next candidate is the one, among ``n_ei_candidates``
    drawn from the density of the best, with the highest density ratio
    best / rest (Bergstra et al. 2011).  Alternative branches of a
    conditional space are modelled on their own observations, and the
    choice of branch like a categorical parameter.

    Parameters
    ----------
{common}
    n_startup_trials : int, default=10
        Random candidates before the model is used (Optuna's default; 5 and
        20 measured no better on our test functions,
        ``benchmarks/results/tpe_defaults.md``).
    gamma : callable, default=``sk_hpo._tpe.default_gamma``
        ``gamma(n)`` is how many of ``n`` results count as good:
        ``min(ceil(0.15 n), 25)`` by default.  Watanabe (2023, "Tree-Structured
        Parzen Estimator: Understanding Its Algorithm Components and Their
        Roles for Better Empirical Performance") recommends a linear
        quantile; 0.15 measured better than Optuna's 0.1 and Hyperopt's
        ``0.25 sqrt(n)`` on our test functions.
    multivariate : bool, default=True
        Model the dimensions of a branch jointly: a mixture of product
        kernels, whose components are sampled whole, so correlations between
        parameters are kept.  ``False`` models each dimension independently
        (Hyperopt's original TPE).  Falkner et al. (2018) and Watanabe (2023)
        find the joint kernel better; on our test functions it was better on
        4 of 5 (Hartmann-6, Rosenbrock-10 and the mixed function clearly).
        Bandwidths follow Hyperopt's rule (the larger gap to a neighbouring
        observation) with a minimum of ``1 / min(100, n + 2)`` of the range,
        and never less than one cell for integers.
    n_ei_candidates : int, default=48
        Candidates drawn from the good density per proposal.  Optuna and
        Hyperopt use 24; with ``gamma`` above, 48 measured best of 12, 24,
        48 and 96 on our test functions (more exploits harder).
    prior_weight : float, default=1.0
        Weight of the uninformative prior component of each density,
        relative to one observation (Optuna's default).
    consider_endpoints : bool, default=False
        With ``multivariate=False``: the bounds count as neighbours when
        setting bandwidths (Optuna's default is False).

    Attributes
    ----------
{attributes}

    See Also
    --------
    RandomSearchCV : the same search space, sampled at random.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.svm import SVC
    >>> from sk_hpo import TPESearchCV, Real
    >>> X, y = load_iris(return_X_y=True)
    >>> search = TPESearchCV(SVC(), {{"C": Real(1e-2, 1e2, "log-uniform"),
    ...                              "kernel": ["rbf", "linear"]}},
    ...                      n_iter=15, random_state=0).fit(X, y)
    >>> bool(search.best_score_ > 0.95)
    True
    """

    _parameter_constraints: dict = {
        **BaseModelSearchCV._parameter_constraints,
        "n_startup_trials": [Interval(numbers.Integral, 1, None, closed="left")],
        "gamma": [callable],
        "multivariate": ["boolean"],
        "n_ei_candidates": [Interval(numbers.Integral, 1, None, closed="left")],
        "prior_weight": [Interval(numbers.Real, 0, None, closed="neither")],
        "consider_endpoints": ["boolean"],
    }

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
        n_startup_trials=10,
        gamma=default_gamma,
        multivariate=True,
        n_ei_candidates=48,
        prior_weight=1.0,
        consider_endpoints=False,
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
        self.n_startup_trials = n_startup_trials
        self.gamma = gamma
        self.multivariate = multivariate
        self.n_ei_candidates = n_ei_candidates
        self.prior_weight = prior_weight
        self.consider_endpoints = consider_endpoints

    def _make_optimizer(self, space, seed):
        return TPE(
            space,
            seed,
            n_startup_trials=self.n_startup_trials,
            gamma=self.gamma,
            multivariate=self.multivariate,
            n_ei_candidates=self.n_ei_candidates,
            prior_weight=self.prior_weight,
            consider_endpoints=self.consider_endpoints,
        )
