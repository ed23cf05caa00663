"""One ``fit`` of a search: ask the algorithm, evaluate, tell, store, until the budget is spent.

:class:`SearchRun` holds what a single ``fit`` knows (the candidates so far,
their scores split by split, the stored study, the progress bar) and runs
the loop, in batches or asynchronously (``sk_hpo._async``).  The search
class (``sk_hpo._base``) builds it; a multi-fidelity search builds its
subclass (``sk_hpo._multi_fidelity``).
"""

import contextlib
import itertools
import time
import warnings

import numpy as np

from ._async import Ticket, run_asynchronously
from ._internals import check_fit_results, raise_all_failed, replay
from ._optimizer import ASK_ROUNDS, RANDOM_TRIES
from ._progress import Progress, quiet_batches
from ._state import StateError
from ._state import dumps as dumps_state
from ._state import loads as loads_state
from ._state import settings as state_settings
from ._storage import StoredCandidate
from .callbacks import SearchState

# A search whose first candidates all fail is misconfigured: stop after this
# many (or at the end of a smaller budget) rather than burn the whole budget.
FAILURE_PATIENCE = 10

# What a stored state holds besides the algorithm's own.
_STATE_KEYS = {"algorithm", "optimizer", "fallback_rng", "n_duplicates"}


class SearchRun:
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
        self.branches = []  # the branch of each candidate's point
        self.batches = []  # index of the batch of each candidate
        self.n_iter = search._budget()
        self.n_duplicates = 0
        self.n_failed = 0
        self.n_resumed = 0
        self.fit_results = None
        self.results = None
        self.context = None  # the fits' data and estimator, when fitted outside sklearn's loop
        self.asynchronous = False
        self.callback_ctx = None  # scikit-learn's callback context of the search (1.9+)
        # scikit-learn's last warning of non-finite scores, per kind (test, train).
        self._non_finite = {}
        self.queued = []  # initial points not evaluated yet
        self.start_time = time.monotonic()
        self._unstorable_warned = False
        # What a stored algorithm state depends on; constant during a fit.
        self.algorithm = search._algorithm_description() if study is not None else None

    def start_outside_fits(self, pool):
        """Start what runs fits outside ``evaluate_candidates`` (a subclass's part)."""

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
            self.branches.append(point.branch)
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
                self.callbacks, self.progress = callbacks, progress
                self._start_async(initial_points)
                stopped = run_asynchronously(self, pool)
                self._end_async(stopped)
        finally:
            progress.close()
        for warning in self._non_finite.values():  # test, then train, as scikit-learn
            warnings.warn(warning.message, warning.category)
        self._raise_if_all_failed()

    @contextlib.contextmanager
    def _formatting_results(self):
        """Around scikit-learn's formatting of ``cv_results_``: its warning of
        non-finite scores is kept and given once per ``fit`` for each kind of
        score it names (test, train; at the end of ``loop``), as
        scikit-learn's own searches give it, not once per batch or
        candidate; other warnings pass."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
        for warning in caught:
            message = str(warning.message)
            if issubclass(warning.category, UserWarning) and "non-finite" in message:
                self._non_finite[message.split(" scores are non-finite")[0]] = warning
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
            batch_ctx = None
            if self.callback_ctx is not None:
                batch_ctx = self.callback_ctx.subcontext(
                    task_name="batch", max_subtasks=len(candidates) * self.search.n_splits_,
                    sequential_subtasks=False,
                ).call_on_fit_task_begin(estimator=self.search)
            extra = {} if batch_ctx is None else {"callback_ctx": batch_ctx}
            self.results = self.evaluate_candidates(
                candidates, cv=cv, more_results=more or None, **extra
            )
            if batch_ctx is not None:
                batch_ctx.call_on_fit_task_end(estimator=self.search)
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
            self.branches.append(point.branch)
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
