"""The search engine: any ask/tell optimizer as a scikit-learn search."""

import contextlib
import itertools
import numbers
import os
import time
import warnings
from abc import abstractmethod

import numpy as np
from sklearn.model_selection._search import BaseSearchCV
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval

from ._failures import check_fit_results, collecting_fit_results, raise_all_failed
from ._fingerprint import describe, search_fingerprint
from ._internals import check_internals, replay
from ._optimizer import ASK_ROUNDS, RANDOM_TRIES
from ._progress import Progress, quiet_batches
from ._search_space import SearchSpace
from ._state import StateError
from ._state import dumps as dumps_state
from ._state import loads as loads_state
from ._state import settings as state_settings
from ._storage import StoredCandidate, Study
from ._validation import (
    check_callbacks,
    check_data,
    check_initial_params,
    check_parameter_names,
)
from .callbacks import SearchState

# A search whose first candidates all fail is misconfigured: stop after this
# many (or at the end of a smaller budget) rather than burn the whole budget.
FAILURE_PATIENCE = 10

# What a stored state holds besides the algorithm's own.
_STATE_KEYS = {"algorithm", "optimizer", "fallback_rng", "n_duplicates"}

# Parameters that change neither the algorithm nor its random draws: a
# stored algorithm state stays valid when only these change.
_NOT_ALGORITHM = {
    "estimator", "search_spaces", "n_iter", "scoring", "n_jobs", "refit", "cv",
    "verbose", "pre_dispatch", "error_score", "return_train_score", "callbacks",
    "initial_params", "storage", "study_name", "resume", "generations", "continuation",
    "model_directory", "max_model_bytes",
}


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
        return self.n_iter

    def _batch_size(self):
        """Candidates proposed and evaluated together."""
        return self.n_points

    def fit(self, X, y=None, **params):
        """Run the search: propose, cross-validate and learn, ``n_iter`` candidates.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or (n_samples, ...)
            Training data; images for a convolutional Keras network.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs), default=None
            Target, None for unsupervised learning.
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
        try:
            return super().fit(X, y, **params)
        finally:
            del self._fit_data

    def _run_search(self, evaluate_candidates):
        asynchronous = bool(getattr(self, "asynchronous", False))
        # Continuing promoted candidates fits outside evaluate_candidates, as
        # the asynchronous mode does (sk_hpo._continuation).
        continuing = getattr(self, "resource", None) is not None and (
            getattr(self, "continuation", False) is not False
        )
        check_internals(
            evaluate_candidates, self, self.storage is not None, asynchronous or continuing
        )
        space = SearchSpace(self.search_spaces)
        check_parameter_names(space, self.estimator)
        callbacks = check_callbacks(self.callbacks)
        initial_points = check_initial_params(self.initial_params, space, self._budget())
        X, y = self._fit_data
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        fidelity = self._check_fidelity(space, X, y)
        study = self._open_study(space, X, y, evaluate_candidates)
        if fidelity is None:
            optimizer = self._make_optimizer(space, seed)
            run = _SearchRun(self, space, optimizer, evaluate_candidates, seed, study)
        else:
            from ._multi_fidelity import MultiFidelityRun, make_hyperband

            optimizer = make_hyperband(self, space, fidelity, seed)
            run = MultiFidelityRun(self, space, optimizer, evaluate_candidates, seed, study, fidelity)
        run.asynchronous = asynchronous
        pool = None
        try:
            if asynchronous or continuing:
                from ._internals import fit_context

                run.context = fit_context(evaluate_candidates, self)
            if asynchronous:
                from ._executor import Pool

                pool = Pool(run.context, self.n_jobs)
                self._configure_workers(run.optimizer, pool.n_workers)
            if continuing and fidelity is not None:
                run.start_continuation(pool)
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
        if fidelity is not None:
            self._set_fidelity_attributes(fidelity, run)

    def _configure_workers(self, optimizer, n_workers):
        """Adapt the algorithm to an asynchronous search on ``n_workers`` (a hook)."""

    def _check_fidelity(self, space, X, y):
        """The resource levels of a multi-fidelity search; None for the others."""
        if getattr(self, "resource", None) is None:
            return None
        from ._multi_fidelity import check_fidelity

        return check_fidelity(self, space, X, y)

    def _set_fidelity_attributes(self, fidelity, run):
        levels = np.asarray(run.results["iter"]) if run.results else np.array([], int)
        self.n_resources_ = list(fidelity.levels)
        self.min_resources_ = fidelity.levels[0]
        self.max_resources_ = fidelity.levels[-1]
        self.n_candidates_ = [int(np.sum(levels == k)) for k in range(len(fidelity.levels))]
        self.n_brackets_ = run.optimizer.n_brackets
        self.continuation_ = run.continuation.mode if run.continuation is not None else None

    def _n_startup(self):
        """Results a model needs before it proposes (multi-fidelity: per level)."""
        return 10

    @staticmethod
    def _select_best_index(refit, refit_metric, results):
        # A multi-fidelity search picks its best among the candidates
        # evaluated with the most resource, as scikit-learn's Halving searches.
        if callable(refit) or "n_resources" not in results:
            return BaseSearchCV._select_best_index(refit, refit_metric, results)
        top = np.flatnonzero(results["n_resources"] == np.max(results["n_resources"]))
        scores = np.asarray(results[f"mean_test_{refit_metric}"], dtype=float)[top]
        return int(top[0] if np.isnan(scores).all() else top[np.nanargmax(scores)])

    def _open_study(self, space, X, y, evaluate_candidates):
        if self.storage is None:
            return None
        name = self.study_name if self.study_name is not None else type(self).__name__
        return Study(self.storage, name, search_fingerprint(self, space, X, y), self.resume)

    def _algorithm_description(self):
        """What a stored algorithm state depends on (see ``_NOT_ALGORITHM``)."""
        params = self.get_params(deep=False)
        return describe({k: v for k, v in params.items() if k not in _NOT_ALGORITHM})


class _SearchRun:
    """The state of one ``fit``: ask, evaluate, tell, until the budget is spent."""

    unit = "candidate"  # what the progress bar counts

    def __init__(self, search, space, optimizer, evaluate_candidates, seed, study=None):
        self.search = search
        self.space = space
        self.optimizer = optimizer
        self.evaluate_candidates = evaluate_candidates
        self.study = study
        self.fallback_rng = np.random.default_rng([seed, 1])
        self.known = {}  # candidate key -> loss
        self.known_splits = {}  # candidate key -> its scores split by split, or None
        self.scores = []  # optimised score of each candidate, nan if failed
        self.batches = []  # index of the batch of each candidate
        self.n_iter = search._budget()
        self.n_duplicates = 0
        self.n_failed = 0
        self.n_resumed = 0
        self.fit_results = None
        self.results = None
        self.context = None  # the fits' data and estimator, when fitted outside sklearn's loop
        self.asynchronous = False
        self._non_finite = None  # scikit-learn's last warning of non-finite scores
        self.queued = []  # initial points not evaluated yet
        self.start_time = time.monotonic()
        self._unstorable_warned = False
        # What a stored algorithm state depends on; constant during a fit.
        self.algorithm = search._algorithm_description() if study is not None else None

    # -- storage ------------------------------------------------------------
    def resume(self):
        """Load the study's candidates into ``cv_results_`` and the algorithm."""
        stored = self.study.candidates()
        if not stored:
            return
        n_splits = self.search.n_splits_
        for candidate in stored:
            problem = self._stored_problem(candidate)
            if problem:
                raise ValueError(
                    f"storage={self.study.path!r}, study {self.study.name!r}: candidate "
                    f"{candidate.number} {problem}; the file has been changed. Use "
                    "resume=False to start again."
                )
            if len(candidate.results) != n_splits:
                raise ValueError(
                    f"storage={self.study.path!r}, study {self.study.name!r}: candidate "
                    f"{candidate.number} holds {len(candidate.results)} split results, "
                    f"this search makes {n_splits}; use resume=False to start again."
                )
        points = [self.space.canonical(c.point) for c in stored]
        outs = [out for c in stored for out in c.results]
        more = {key: [c.more.get(key) for c in stored] for key in stored[-1].more}
        params = [self._params_of(point, c.more) for c, point in zip(stored, points)]
        with self._formatting_results():
            self.results = replay(self.evaluate_candidates, self.search, params, outs, more)
        self.fit_results.extend(outs)
        splits = self._split_scores(slice(None), n_splits)
        for candidate, point, split in zip(stored, points, splits):
            self.known[self.space.key(point)] = candidate.loss
            self.known_splits[self.space.key(point)] = (
                split if np.isfinite(candidate.loss) else None
            )
            self.scores.append(-candidate.loss if np.isfinite(candidate.loss) else np.nan)
            self.batches.append(candidate.batch)
            self.n_failed += candidate.status == "failed"
        self.n_resumed = len(stored)
        if not self._restore_state(len(stored)):
            self._retell(stored, points)
        if self.search.verbose:
            print(
                f"[{type(self.search).__name__}] resumed {len(stored)} candidates from "
                f"{self.study.path!r} (study {self.study.name!r})",
                flush=True,
            )

    def _stored_problem(self, candidate):
        """What makes a stored candidate unusable by this search, or None."""
        point = candidate.point
        branch_ok = 0 <= point.branch < self.space.n_branches
        if not branch_ok or len(point.x) != len(self.space.branches[point.branch].dimensions):
            return (
                f"is not a point of this search space (branch {point.branch}, "
                f"{len(point.x)} coordinates)"
            )
        return None

    def _params_of(self, point, more):
        """The parameters of the candidate at ``point`` (``more``: its extra columns)."""
        return self.space.to_params(point)

    def _retell(self, stored, points):
        """Teach a fresh algorithm the stored candidates batch by batch.

        They are stored in evaluation order, so each batch is one run.
        """
        pairs = zip(stored, points)
        for _, batch in itertools.groupby(pairs, key=lambda pair: pair[0].batch):
            candidates, batch_points = zip(*batch)
            self.optimizer.tell(list(batch_points), [c.loss for c in candidates],
                                self._splits_of(batch_points))  # fmt: skip

    def _restore_state(self, n_stored):
        """Continue the stored algorithm, if it is the one this search runs.

        The state is data (``sk_hpo._state``), read without unpickling.  A
        state that is unusable (written for other algorithm options, not
        up to date with the candidates, in an older form, damaged) is set
        aside with a warning where the user should know, and the stored
        candidates are re-told to a new algorithm.  An asynchronous search
        stores no state (its algorithm holds the candidates that were
        running) and always re-tells.
        """
        if self.asynchronous:
            return False
        stored = self.study.state()
        where = f"storage={self.study.path!r}, study {self.study.name!r}"
        if stored.legacy:
            warnings.warn(
                f"{where}: the algorithm's state was stored by an earlier sk_hpo as a "
                "pickle, which this version never loads. The stored candidates are "
                "re-told to a new algorithm: the search continues from them, though "
                "not necessarily with the candidates the uninterrupted search would "
                "have proposed.",
                UserWarning,
            )
            return False
        if stored.problem is None and (stored.document is None or stored.n_candidates != n_stored):
            return False
        try:
            if stored.problem is not None:
                raise StateError(stored.problem)
            settings = state_settings(self.space, self.optimizer)
            state = loads_state(stored.document, stored.arrays, settings)
            if not isinstance(state, dict) or set(state) != _STATE_KEYS:
                raise StateError("the state does not hold an algorithm, a generator and counts")
        except StateError as exc:
            warnings.warn(
                f"{where}: the stored algorithm state cannot be used ({exc}); nothing in "
                "it was run. The stored candidates are re-told to a new algorithm.",
                UserWarning,
            )
            return False
        if state["algorithm"] != self.algorithm:
            return False  # other algorithm options: a re-tell, as documented
        optimizer, fallback_rng = state["optimizer"], state["fallback_rng"]
        if type(optimizer) is not type(self.optimizer) or not isinstance(
            fallback_rng, np.random.Generator
        ):
            return False
        self.optimizer, self.fallback_rng = optimizer, fallback_rng
        self.n_duplicates = int(state["n_duplicates"])
        return True

    def _state_snapshot(self):
        """``(document, arrays)`` of the algorithm's state, or None if it is not data."""
        state = {
            "algorithm": self.algorithm,
            "optimizer": self.optimizer,
            "fallback_rng": self.fallback_rng,
            "n_duplicates": self.n_duplicates,
        }
        try:
            return dumps_state(state, state_settings(self.space, self.optimizer))
        except StateError as exc:
            if not self._unstorable_warned:
                warnings.warn(
                    f"The search algorithm's state cannot be stored as data ({exc}); a "
                    "resumed search will re-tell the stored candidates to a new algorithm "
                    "rather than continue exactly where it stopped.",
                    UserWarning,
                )
                self._unstorable_warned = True
            return None

    def close(self):
        """Release what the run holds beyond ``fit`` (a hook)."""

    # -- the loop -----------------------------------------------------------
    def loop(self, callbacks, initial_points=(), pool=None):
        progress = Progress(
            type(self.search).__name__, self.n_iter, len(self.scores), self.search.verbose, self.unit
        )
        try:
            if pool is None:
                self._loop(callbacks, initial_points, progress)
            else:
                from ._async import run_asynchronously

                self.callbacks, self.progress = callbacks, progress
                self._start_async(initial_points)
                stopped = run_asynchronously(self, pool)
                self._end_async(stopped)
        finally:
            progress.close()
        if self._non_finite is not None:
            warnings.warn(self._non_finite.message, self._non_finite.category)
        self._raise_if_all_failed()

    @contextlib.contextmanager
    def _formatting_results(self):
        """Around scikit-learn's formatting of ``cv_results_``: its warning of
        non-finite scores is kept and given once per ``fit`` (at the end of
        ``loop``), as scikit-learn's own searches give it, not once per batch
        or candidate; other warnings pass."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for warning in caught:
            if issubclass(warning.category, UserWarning) and "non-finite" in str(warning.message):
                self._non_finite = warning
            else:
                warnings.warn_explicit(
                    warning.message, warning.category, warning.filename, warning.lineno
                )

    def _loop(self, callbacks, initial_points, progress):
        search = self.search
        queued = [p for p in initial_points if self.space.key(p) not in self.known]
        while len(self.scores) < self.n_iter:
            n_wanted = min(search._batch_size(), self.n_iter - len(self.scores))
            if queued:
                points, twins, queued = queued[:n_wanted], [], queued[n_wanted:]
            else:
                points, twins = self._ask_new(n_wanted)
            if not points:
                self._warn_exhausted()
                break
            losses, evaluated = self._evaluate(points)
            self.optimizer.tell(points, losses, self._splits_of(points))
            if twins:
                self.optimizer.tell(
                    [twin for twin, _ in twins], [self.known[key] for _, key in twins],
                    [self.known_splits[key] for _, key in twins],
                )  # fmt: skip
            if self.study is not None:
                self.study.save_batch(evaluated, self._state_snapshot())
            self._check_all_failed()
            state = self._state()
            progress.update(state, len(points))
            if any(callback(state) for callback in callbacks):
                break

    # -- the asynchronous mode (sk_hpo._async) ---------------------------------
    def _start_async(self, initial_points):
        self.queued = [p for p in initial_points if self.space.key(p) not in self.known]
        self._n_tickets = 0

    def _end_async(self, stopped):
        if not stopped and len(self.scores) < self.n_iter:
            self._warn_exhausted()

    def _warn_exhausted(self):
        warnings.warn(
            f"The search space has no new candidate left after {len(self.scores)} "
            f"distinct candidates (of n_iter={self.n_iter}); the search stops here.",
            UserWarning,
        )

    def _ticket(self, point, params, more, splits=None):
        from ._async import Ticket

        self._n_tickets += 1
        return Ticket(self._n_tickets, point, params, more, self.search.n_splits_,
                      splits=splits)  # fmt: skip

    def next_candidates(self, running, n_wanted):
        """Up to ``n_wanted`` new candidates for free workers (none: budget spent,
        or no new one now)."""
        n_wanted = min(n_wanted, self.n_iter - len(self.scores) - len(running))
        if n_wanted <= 0:
            return []
        busy = {self.space.key(t.point): t for t in running}
        points = []
        while self.queued and len(points) < n_wanted:
            point = self.queued.pop(0)
            if self.space.key(point) not in busy:
                points.append(point)
        twins = []
        if not points:
            points, twins = self._ask_new(n_wanted, busy)
        more_results = getattr(self.optimizer, "more_results", None)
        more = more_results(points) if more_results and points else {}
        tickets = [
            self._ticket(point, self.space.to_params(point), {k: v[i] for k, v in more.items()})
            for i, point in enumerate(points)
        ]
        # A proposal equal to a candidate under way is told its loss with it.
        busy.update((self.space.key(t.point), t) for t in tickets)
        for twin, key in twins:
            busy[key].twins.append(twin)
        return tickets

    def finish(self, ticket):
        """Record a candidate whose splits all finished; True when a callback stops."""
        losses, evaluated = self._record_finished(ticket)
        self.optimizer.tell([ticket.point], losses, self._splits_of([ticket.point]))
        if ticket.twins:
            self.optimizer.tell(ticket.twins, losses * len(ticket.twins),
                                self._splits_of(ticket.twins))  # fmt: skip
        return self._after_finish(evaluated)

    def _record_finished(self, ticket):
        """``cv_results_`` rows, stored record and losses of a finished ticket."""
        more = {key: [value] for key, value in ticket.more.items()}
        # Each candidate is its own batch (a genetic search's: its generation).
        batch = int(ticket.more.get("generation", self.batches[-1] + 1 if self.batches else 0))
        return self._record_outs([ticket.point], [ticket.params], ticket.outs, more, batch)

    def _record_outs(self, points, candidates, outs, more, batch):
        """Record candidates fitted outside ``evaluate_candidates`` (``outs``:
        ``_fit_and_score``'s results, split after split of each), as it would."""
        self.context.insert_error_scores(outs, self.search.scoring)
        n_before = len(self.fit_results)
        check_fit_results(outs, self.search.error_score)  # appends to self.fit_results
        with self._formatting_results():
            self.results = replay(self.evaluate_candidates, self.search, candidates, outs, more)
        return self._record(points, candidates, more, n_before, batch)

    def _after_finish(self, evaluated, detail=""):
        if self.study is not None:
            self.study.save_batch(evaluated, None)
        self._check_all_failed()
        state = self._state()
        self.progress.update(state, len(evaluated), detail=detail)
        return any(callback(state) for callback in self.callbacks)

    def _raise_if_all_failed(self):
        if self.n_failed == len(self.scores) and self.scores:
            raise_all_failed(self.fit_results, self.search.error_score)

    def _ask_new(self, n_wanted, busy=()):
        """Up to ``n_wanted`` points never evaluated, and in-batch twins.

        A proposal already evaluated is answered at once from the known loss
        and costs no budget; a proposal equal to another of this batch (or
        of ``busy``, the keys of candidates under way) is told that one's
        loss after it is evaluated.
        """
        batch, batch_keys, twins = [], set(busy), []
        for _ in range(ASK_ROUNDS):
            for point in self.optimizer.ask(n_wanted - len(batch)):
                point = self.space.canonical(point)
                key = self.space.key(point)
                if key in self.known:
                    self.n_duplicates += 1
                    self.optimizer.tell([point], [self.known[key]], [self.known_splits.get(key)])
                elif key in batch_keys:
                    self.n_duplicates += 1
                    twins.append((point, key))
                else:
                    batch.append(point)
                    batch_keys.add(key)
            if len(batch) == n_wanted:
                return batch, twins
        # The optimizer keeps proposing known candidates: fill up at random.
        for _ in range(RANDOM_TRIES * (n_wanted - len(batch))):
            if len(self.known) + len(batch_keys) >= self.space.size:
                break
            point = self.space.sample(1, self.fallback_rng)[0]
            key = self.space.key(point)
            if key not in self.known and key not in batch_keys:
                batch.append(point)
                batch_keys.add(key)
                if len(batch) == n_wanted:
                    break
        return batch, twins

    def _evaluate(self, points, params=None, more=None, cv=None):
        """Fit ``points``; their losses and their ``StoredCandidate`` records.

        ``params`` default to the points' parameters, ``more`` (columns
        added to ``cv_results_``) to the optimizer's ``more_results`` (the
        generation of a GA), ``cv`` to the search's.
        """
        n_before = len(self.fit_results)
        candidates = params if params is not None else [self.space.to_params(p) for p in points]
        if more is None:
            more_results = getattr(self.optimizer, "more_results", None)
            more = more_results(points) if more_results else {}
        with quiet_batches(self.search), self._formatting_results():
            self.results = self.evaluate_candidates(candidates, cv=cv, more_results=more or None)
        batch = self.batches[-1] + 1 if self.batches else 0
        return self._record(points, candidates, more, n_before, batch)

    def _record(self, points, candidates, more, n_before, batch):
        """Losses and ``StoredCandidate`` records of the last ``len(points)`` rows."""
        new_fits = self.fit_results[n_before:]
        n_splits = len(new_fits) // len(points)
        scores = np.asarray(self.results[self._score_key()][-len(points) :], float)
        splits = self._split_scores(slice(-len(points), None), n_splits)
        losses, evaluated = [], []
        for i, (point, candidate, score, split) in enumerate(
            zip(points, candidates, scores, splits)
        ):
            fits = new_fits[i * n_splits : (i + 1) * n_splits]
            errors = [fit["fit_error"] for fit in fits if fit["fit_error"] is not None]
            ok = not errors and np.isfinite(score)
            self.n_failed += bool(errors)
            loss = -score if ok else np.inf
            evaluated.append(
                StoredCandidate(
                    number=len(self.scores),
                    batch=batch,
                    point=point,
                    params=candidate,
                    status="failed" if errors else "ok",
                    error=errors[0] if errors else None,
                    loss=float(loss),
                    results=fits,
                    more={key: values[i] for key, values in more.items()},
                )
            )
            self.scores.append(score if ok else np.nan)
            self.batches.append(batch)
            self.known[self.space.key(point)] = loss
            self.known_splits[self.space.key(point)] = split if ok else None
            losses.append(loss)
        return losses, evaluated

    def _splits_of(self, points):
        """The known scores of ``points`` split by split (None where unknown)."""
        return [self.known_splits.get(self.space.key(p)) for p in points]

    def _split_scores(self, rows, n_splits):
        """The optimised score on each split of ``cv_results_``' ``rows`` (a
        slice): a tuple per row, read as the loss is (``_score_key``)."""
        name = self._score_key()[len("mean_") :]  # test_score, or test_<metric>
        columns = [np.asarray(self.results[f"split{k}_{name}"], dtype=float)[rows]
                   for k in range(n_splits)]  # fmt: skip
        return [tuple(row) for row in np.column_stack(columns).tolist()]

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

    def _comparable(self, scores):
        """The scores the best so far is chosen from (nan: not a contender)."""
        return scores

    def _state(self):
        scores = np.asarray(self.scores, dtype=float)
        comparable = self._comparable(scores)
        finite = np.isfinite(comparable)
        if finite.any():
            best = int(np.flatnonzero(finite)[np.argmax(comparable[finite])])
            best_score, best_params = float(comparable[best]), self.results["params"][best]
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
