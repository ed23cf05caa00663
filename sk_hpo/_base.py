"""The search engine: any ask/tell optimizer as a scikit-learn search."""

import numbers
import os
from abc import abstractmethod

import numpy as np
from sklearn.utils import check_random_state

from ._executor import Pool
from ._fingerprint import describe, search_fingerprint
from ._internals import (
    BaseSearchCV,
    Interval,
    check_internals,
    collecting_fit_results,
    fit_context,
)
from ._run import SearchRun
from ._search_space import SearchSpace
from ._storage import Study
from ._subspaces import Subspaces, has_pairs, split_subspaces
from ._validation import (
    check_callbacks,
    check_data,
    check_initial_params,
    check_parameter_names,
    refusing_foreign_parameters,
)
from .callbacks import _optimize_result, _SkoptCallback


class BaseModelSearchCV(BaseSearchCV):
    """Base of the model-based searches: wires an optimizer to ``BaseSearchCV``.

    Subclasses implement ``_make_optimizer(space, seed)``, returning an
    object with ``ask(n_points)`` and ``tell(points, losses)`` (see
    ``sk_hpo._optimizer``).  Everything else -- cross-validation, scoring,
    parallelism, ``refit``, ``cv_results_`` -- is scikit-learn's.
    """

    # Parameters that change neither the algorithm nor its random draws: a
    # stored algorithm state stays valid when only these change.  A class
    # that adds such parameters names them in a _NOT_ALGORITHM of its own.
    _NOT_ALGORITHM = frozenset({
        "estimator", "search_spaces", "n_iter", "scoring", "n_jobs", "refit", "cv",
        "verbose", "pre_dispatch", "error_score", "return_train_score", "callbacks",
        "initial_params", "storage", "study_name", "resume",
    })  # fmt: skip

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        if not getattr(cls.__init__, "refuses_foreign_parameters", False):
            cls.__init__ = refusing_foreign_parameters(cls.__init__)

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "search_spaces": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "callbacks": [callable, list, tuple, None],
        "initial_params": [list, tuple, None],
        "storage": [str, os.PathLike, None],
        "study_name": [str, None],
        "resume": ["boolean"],
        "asynchronous": ["boolean"],
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
        initial_params=None,
        storage=None,
        study_name=None,
        resume=True,
        asynchronous=False,
    ):
        super().__init__(
            estimator=estimator,
            scoring=scoring,
            n_jobs=n_jobs,
            refit=refit,
            cv=cv,
            verbose=verbose,
            pre_dispatch=pre_dispatch,
            error_score=error_score,
            return_train_score=return_train_score,
        )
        self.search_spaces = search_spaces
        self.n_iter = n_iter
        self.n_points = n_points
        self.random_state = random_state
        self.callbacks = callbacks
        self.initial_params = initial_params
        self.storage = storage
        self.study_name = study_name
        self.resume = resume
        self.asynchronous = asynchronous

    @abstractmethod
    def _make_optimizer(self, space, seed):
        """Return the ask/tell optimizer for ``space``, seeded with ``seed``."""

    def _budget(self):
        """Distinct candidates to evaluate."""
        subspaces = split_subspaces(self.search_spaces, self.n_iter)
        return self.n_iter if subspaces is None else sum(subspaces[1])

    def _searches_subspaces(self):
        """Whether scikit-optimize's ``(space, n_iter)`` sub-spaces can be
        searched in turn (a part that runs its own schedule says no)."""
        return True

    def _batch_size(self):
        """Candidates proposed and evaluated together."""
        return self.n_points

    def fit(self, X, y=None, *, callback=None, **params):
        """Run the search: propose, cross-validate and learn, ``n_iter`` candidates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data; images for a convolutional Keras network.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target, None for unsupervised learning.
        callback : callable or list of callables, default=None
            scikit-optimize's form of callbacks, for this ``fit`` only: each
            is called after every batch with the results so far as an
            ``OptimizeResult`` (``x_iters``, ``func_vals``, ``x``, ``fun``;
            see :func:`sk_hpo.callbacks.optimize_result`), and returning
            True stops the search, so scikit-optimize's own stoppers work.
            The ``callbacks`` parameter is sk_hpo's form (a ``SearchState``).
        **params : dict
            Passed to the estimator's ``fit``, to the scorer and to the CV
            splitter, as in :meth:`sklearn.model_selection.GridSearchCV.fit`.

        Returns
        -------
        object
            The fitted search, with ``cv_results_``, ``best_params_`` and,
            with ``refit``, ``best_estimator_``.
        """
        # The data is needed before the first fit: to check it, and for
        # the fingerprint of a stored search.
        check_data(X, y)
        self._fit_data = (X, y)
        self._fit_callback = callback
        try:
            return super().fit(X, y, **params)
        finally:
            del self._fit_data, self._fit_callback
            self.__dict__.pop("_fit_subspaces", None)

    def _run_search(self, evaluate_candidates, *, callback_ctx=None):
        asynchronous = bool(self.asynchronous)
        outside = self._fits_outside_sklearn()
        check_internals(
            evaluate_candidates, self, self.storage is not None, asynchronous or outside
        )
        if has_pairs(self.search_spaces) and not self._searches_subspaces():
            raise ValueError(
                f"search_spaces: {type(self).__name__} with these parameters cannot search "
                "scikit-optimize's (space, n_iter) sub-spaces one after another; give one "
                "space (a list of dicts is one conditional space, n_iter candidates in all)."
            )
        self._fit_subspaces = subspaces = split_subspaces(self.search_spaces, self.n_iter)
        space = SearchSpace(self.search_spaces if subspaces is None else subspaces[0])
        check_parameter_names(space, self.estimator)
        callbacks = check_callbacks(self.callbacks) + [
            _SkoptCallback(callback) for callback in check_callbacks(self._fit_callback, "callback")
        ]
        initial_points = check_initial_params(self.initial_params, space, self._budget())
        X, y = self._fit_data
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        plan = self._plan_run(space, X, y)
        study = self._open_study(space, X, y, evaluate_candidates)
        run = self._make_run(plan, space, evaluate_candidates, seed, study)
        run.asynchronous = asynchronous
        if callback_ctx is not None:
            # scikit-learn's callbacks (1.9+): the search is a task whose
            # subtasks are its batches, one after another (as the Halving
            # searches' rounds), each with its candidates' evaluations.
            run.callback_ctx = callback_ctx.subcontext(
                task_name="search", max_subtasks=None, sequential_subtasks=True,
            ).call_on_fit_task_begin(estimator=self)
        pool = None
        try:
            if asynchronous or outside:
                run.context = fit_context(evaluate_candidates, self)
            if asynchronous:
                pool = Pool(run.context, self.n_jobs)
                self._configure_workers(run.optimizer, pool.n_workers)
            if outside:
                run.start_outside_fits(pool)
            with collecting_fit_results() as fit_results:
                run.fit_results = fit_results
                if study is not None:
                    run.resume()
                run.loop(callbacks, initial_points, pool)
        finally:
            if study is not None:
                study.close()
            run.close()
        self.n_duplicates_ = run.n_duplicates
        self.n_resumed_ = run.n_resumed
        self.search_space_ = space
        self.optimizer_ = run.optimizer
        if run.callback_ctx is not None:
            run.callback_ctx.call_on_fit_task_end(estimator=self)
        params = run.results["params"] if run.results else []
        self.optimizer_results_ = [
            _optimize_result([params[i] for i in rows], [run.scores[i] for i in rows])
            for rows in self._subspace_rows(run.branches)
        ]
        self._end_run(plan, run)

    # -- hooks for the parts a search composes (sk_hpo._multi_fidelity) -------
    def _fits_outside_sklearn(self):
        """Whether some fits run outside ``evaluate_candidates`` (the run's
        ``start_outside_fits`` then starts them, with the fit context)."""
        return False

    def _plan_run(self, space, X, y):
        """Check what the run needs beyond the engine's parameters; its plan."""
        return

    def _make_run(self, plan, space, evaluate_candidates, seed, study):
        """The run of this ``fit``: the algorithm and its loop."""
        if self._fit_subspaces is not None:
            optimizer = Subspaces(space, seed, self._make_optimizer, *self._fit_subspaces)
        else:
            optimizer = self._make_optimizer(space, seed)
        return SearchRun(self, space, optimizer, evaluate_candidates, seed, study)

    def _end_run(self, plan, run):
        """Set the fitted attributes a part adds."""

    def _configure_workers(self, optimizer, n_workers):
        """Adapt the algorithm to an asynchronous search on ``n_workers`` (a hook)."""

    def _subspace_rows(self, branches):
        """The rows of ``cv_results_`` of each sub-space (one: all of them)."""
        if self._fit_subspaces is None:
            return [list(range(len(branches)))]
        return [[i for i, b in enumerate(branches) if b == sub]
                for sub in range(len(self._fit_subspaces[1]))]  # fmt: skip

    @property
    def total_iterations(self):
        """The candidates the search evaluates: its budget (scikit-optimize's name)."""
        return self._budget()

    def _n_startup(self):
        """Results a model needs before it proposes (multi-fidelity: per level)."""
        return 10

    def _open_study(self, space, X, y, evaluate_candidates):
        if self.storage is None:
            return None
        name = self.study_name if self.study_name is not None else type(self).__name__
        return Study(self.storage, name, search_fingerprint(self, space, X, y), self.resume)

    def _algorithm_description(self):
        """What a stored algorithm state depends on (see ``_NOT_ALGORITHM``)."""
        ignored = set().union(*(vars(cls).get("_NOT_ALGORITHM", ()) for cls in type(self).__mro__))
        params = self.get_params(deep=False)
        return describe({k: v for k, v in params.items() if k not in ignored})
