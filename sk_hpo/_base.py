"""The search engine: any ask/tell optimizer as a scikit-learn search."""

import numbers
import time
import warnings
from abc import abstractmethod

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._failures import collecting_fit_results, raise_all_failed
from ._search_space import SearchSpace
from ._space import _describe
from .callbacks import SearchState

# A search whose first candidates all fail is misconfigured: stop after this
# many (or at the end of a smaller budget) rather than burn the whole budget.
FAILURE_PATIENCE = 10

# Rounds of ask() tolerated without a new candidate before falling back to
# random draws, and random draws tried per missing candidate after that.
_ASK_ROUNDS = 10
_RANDOM_TRIES = 100


class BaseModelSearchCV(BaseSearchCV):
    """Base of the model-based searches: wires an optimizer to ``BaseSearchCV``.

    Subclasses implement ``_make_optimizer(space, seed)``, returning an
    object with ``ask(n_points)`` and ``tell(points, losses)`` (see
    ``sk_hpo._optimizer``).  Everything else -- cross-validation, scoring,
    parallelism, ``refit``, ``cv_results_`` -- is scikit-learn's.
    """

    _parameter_constraints: dict = {
        **BaseSearchCV._parameter_constraints,
        "search_spaces": [dict, list],
        "n_iter": [Interval(numbers.Integral, 1, None, closed="left")],
        "n_points": [Interval(numbers.Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
        "callbacks": [callable, list, tuple, None],
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

    @abstractmethod
    def _make_optimizer(self, space, seed):
        """Return the ask/tell optimizer for ``space``, seeded with ``seed``."""

    def _budget(self):
        """Distinct candidates to evaluate."""
        return self.n_iter

    def _batch_size(self):
        """Candidates proposed and evaluated together."""
        return self.n_points

    def _run_search(self, evaluate_candidates):
        space = SearchSpace(self.search_spaces)
        check_parameter_names(space, self.estimator)
        callbacks = _check_callbacks(self.callbacks)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        optimizer = self._make_optimizer(space, seed)
        run = _SearchRun(self, space, optimizer, evaluate_candidates, seed)
        with collecting_fit_results() as fit_results:
            run.fit_results = fit_results
            run.loop(callbacks)
        self.n_duplicates_ = run.n_duplicates
        self.search_space_ = space
        self.optimizer_ = optimizer


class _SearchRun:
    """The state of one ``fit``: ask, evaluate, tell, until the budget is spent."""

    def __init__(self, search, space, optimizer, evaluate_candidates, seed):
        self.search = search
        self.space = space
        self.optimizer = optimizer
        self.evaluate_candidates = evaluate_candidates
        self.fallback_rng = np.random.default_rng([seed, 1])
        self.known = {}  # candidate key -> loss
        self.scores = []  # optimised score of each candidate, nan if failed
        self.batches = []  # index of the batch of each candidate
        self.n_iter = search._budget()
        self.n_duplicates = 0
        self.n_failed = 0
        self.fit_results = None
        self.results = None
        self.start_time = time.monotonic()

    def loop(self, callbacks):
        search = self.search
        while len(self.scores) < self.n_iter:
            n_wanted = min(search._batch_size(), self.n_iter - len(self.scores))
            points, twins = self._ask_new(n_wanted)
            if not points:
                warnings.warn(
                    f"The search space has no new candidate left after "
                    f"{len(self.scores)} distinct candidates (of n_iter="
                    f"{self.n_iter}); the search stops here.",
                    UserWarning,
                )
                break
            losses = self._evaluate(points)
            self.optimizer.tell(points, losses)
            if twins:
                self.optimizer.tell(
                    [twin for twin, _ in twins], [self.known[key] for _, key in twins]
                )
            self._check_all_failed()
            state = self._state()
            if search.verbose:
                self._report(state)
            if any(callback(state) for callback in callbacks):
                break
        if self.n_failed == len(self.scores) and self.scores:
            raise_all_failed(self.fit_results, search.error_score)

    def _ask_new(self, n_wanted):
        """Up to ``n_wanted`` points never evaluated, and in-batch twins.

        A proposal already evaluated is answered at once from the known loss
        and costs no budget; a proposal equal to another of this batch is
        told that one's loss after the batch.
        """
        batch, batch_keys, twins = [], set(), []
        for _ in range(_ASK_ROUNDS):
            for point in self.optimizer.ask(n_wanted - len(batch)):
                point = self.space.canonical(point)
                key = self.space.key(point)
                if key in self.known:
                    self.n_duplicates += 1
                    self.optimizer.tell([point], [self.known[key]])
                elif key in batch_keys:
                    self.n_duplicates += 1
                    twins.append((point, key))
                else:
                    batch.append(point)
                    batch_keys.add(key)
            if len(batch) == n_wanted:
                return batch, twins
        # The optimizer keeps proposing known candidates: fill up at random.
        for _ in range(_RANDOM_TRIES * (n_wanted - len(batch))):
            if len(self.known) + len(batch) >= self.space.size:
                break
            point = self.space.sample(1, self.fallback_rng)[0]
            key = self.space.key(point)
            if key not in self.known and key not in batch_keys:
                batch.append(point)
                batch_keys.add(key)
                if len(batch) == n_wanted:
                    break
        return batch, twins

    def _evaluate(self, points):
        n_before = len(self.fit_results)
        candidates = [self.space.to_params(point) for point in points]
        # An optimizer may add columns to cv_results_ (the generation of a GA).
        more_results = getattr(self.optimizer, "more_results", None)
        self.results = self.evaluate_candidates(
            candidates, more_results=more_results(points) if more_results else None
        )
        batch = self.batches[-1] + 1 if self.batches else 0
        new_fits = self.fit_results[n_before:]
        n_splits = len(new_fits) // len(points)
        scores = np.asarray(self.results[self._score_key()][-len(points) :], float)
        losses = []
        for i, (point, score) in enumerate(zip(points, scores)):
            fits = new_fits[i * n_splits : (i + 1) * n_splits]
            failed = any(fit["fit_error"] is not None for fit in fits)
            ok = not failed and np.isfinite(score)
            self.n_failed += failed
            self.scores.append(score if ok else np.nan)
            self.batches.append(batch)
            loss = -score if ok else np.inf
            self.known[self.space.key(point)] = loss
            losses.append(loss)
        return losses

    def _score_key(self):
        """The ``cv_results_`` column the optimizer maximises."""
        results, search = self.results, self.search
        if "mean_test_score" in results:
            return "mean_test_score"
        if isinstance(search.refit, str):
            return f"mean_test_{search.refit}"
        # Multi-metric without a named refit metric: the first scorer given.
        names = list(search.scoring) if isinstance(search.scoring, (list, tuple, dict)) else []
        keys = [f"mean_test_{name}" for name in names if f"mean_test_{name}" in results]
        return keys[0] if keys else next(k for k in results if k.startswith("mean_test_"))

    def _check_all_failed(self):
        n_done = len(self.scores)
        if self.n_failed == n_done and n_done >= min(FAILURE_PATIENCE, self.n_iter):
            raise_all_failed(self.fit_results, self.search.error_score)

    def _state(self):
        scores = np.asarray(self.scores, dtype=float)
        finite = np.isfinite(scores)
        if finite.any():
            best = int(np.flatnonzero(finite)[np.argmax(scores[finite])])
            best_score, best_params = float(scores[best]), self.results["params"][best]
        else:
            best_score, best_params = np.nan, None
        return SearchState(
            n_evaluated=len(scores),
            n_iter=self.n_iter,
            scores=scores,
            batches=np.asarray(self.batches, dtype=int),
            best_score=best_score,
            best_params=best_params,
            cv_results=self.results,
            start_time=self.start_time,
        )

    def _report(self, state):
        print(
            f"[{type(self.search).__name__}] {state.n_evaluated}/{state.n_iter} "
            f"candidates, {state.elapsed:.1f}s, best score {state.best_score:.5g} "
            f"with {state.best_params}",
            flush=True,
        )


def _check_callbacks(callbacks):
    if callbacks is None:
        return []
    callbacks = [callbacks] if callable(callbacks) else list(callbacks)
    for i, callback in enumerate(callbacks):
        if not callable(callback):
            raise ValueError(
                f"callbacks[{i}] must be callable (taking a SearchState), got "
                f"{_describe(callback)}."
            )
    return callbacks


def check_parameter_names(space, estimator):
    """Raise if a searched name is not a parameter ``set_params`` accepts."""
    for b, branch in enumerate(space.branches):
        dims = dict(zip(branch.names, branch.dimensions))
        for name in branch.names:
            problem = _settable_problem(name, estimator, dims)
            if problem:
                where = f" (branch {b})" if space.n_branches > 1 else ""
                raise ValueError(f"search space parameter {name!r}{where}: {problem}")


def _settable_problem(name, estimator, dims):
    """Why ``name`` cannot be set on ``estimator``, or None if it can.

    ``dims`` are the searched dimensions of the same branch: a nested name
    such as ``clf__C`` is valid when ``clf`` is itself searched and every
    one of its categories has a parameter ``C``.
    """
    if not hasattr(estimator, "get_params"):
        return f"{_describe(estimator)} has no parameters to set."
    parts = name.split("__")
    for cut in range(1, len(parts)):
        prefix, rest = "__".join(parts[:cut]), "__".join(parts[cut:])
        dim = dims.get(prefix)
        if dim is None or not dim.is_categorical:
            continue
        sub_dims = {
            key[len(prefix) + 2 :]: d for key, d in dims.items() if key.startswith(prefix + "__")
        }
        for value in dim.categories:
            problem = _settable_problem(rest, value, sub_dims)
            if problem:
                return f"not settable when {prefix!r} is {_describe(value)}: {problem}"
        return None
    params = estimator.get_params(deep=True)
    if name in params:
        return None
    valid = sorted(key for key in params if "__" not in key)
    return (
        f"{type(estimator).__name__} has no parameter {name!r}; its parameters "
        f"are {valid} (nested ones as step__param)."
    )
