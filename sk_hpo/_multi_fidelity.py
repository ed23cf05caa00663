"""The scikit-learn side of ``resource=``: levels, rungs and their ``cv_results_``.

With ``resource`` set, a search runs ``sk_hpo._hyperband.Hyperband`` with
its own optimizer as the model.  Each rung is one ``evaluate_candidates``
call at one resource level: the estimator's ``resource`` parameter set to
the level, or (``resource="n_samples"``) every CV split subsampled to it,
as scikit-learn's Halving searches do.  ``cv_results_`` gains their
``iter`` (the level, 0 for the least resource) and ``n_resources``
columns, and a ``bracket`` column.  With ``asynchronous=True`` the rungs
are scheduled by ``sk_hpo._asha.ASHA`` instead, one evaluation at a time.

Where the estimator can continue training (``sk_hpo._continuation``), a
promoted candidate's folds continue the models its lower rung trained: the
rung's fits then run outside ``evaluate_candidates`` (on the executor the
asynchronous mode uses) and are recorded with ``_internals.replay``.
"""

import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
from sklearn.base import clone, is_classifier
from sklearn.model_selection import check_cv

from ._asha import ASHA
from ._continuation import Continuation, ModelStore, detect
from ._executor import Pool
from ._hyperband import Hyperband
from ._internals import SubsampleMetaSplitter, num_samples, select_best_index
from ._run import SearchRun


@dataclass
class Fidelity:
    resource: str
    levels: list  # the resource of each level, increasing
    factor: float
    hyperband: bool


def check_fidelity(search, space, X, y):
    """The resource levels of ``search``, or None without ``resource``; raise on bad values."""
    resource = search.resource
    if resource is None:
        return None
    estimator = search.estimator
    params = estimator.get_params(deep=True) if hasattr(estimator, "get_params") else {}
    if resource != "n_samples" and resource not in params:
        integers = sorted(
            name for name, value in params.items()
            if isinstance(value, numbers.Integral) and not isinstance(value, bool)
        )  # fmt: skip
        raise ValueError(
            f"resource={resource!r}: the estimator has no parameter {resource!r}; use "
            f"'n_samples' or one of its integer parameters: {integers}."
        )
    searched = sorted({name for branch in space.branches for name in branch.names})
    if resource in searched:
        raise ValueError(
            f"resource={resource!r} is also searched in search_spaces: the search sets it at "
            "each rung; remove it from the space and give its full value as max_resources."
        )
    factor = search.factor
    if not isinstance(factor, numbers.Real) or isinstance(factor, bool) or not factor > 1:
        raise ValueError(f"factor={factor!r} must be a number greater than 1.")

    max_resources = search.max_resources
    if max_resources == "auto":
        if resource == "n_samples":
            max_resources = num_samples(X)
        else:
            max_resources = params[resource]
            if not _is_count(max_resources):
                raise ValueError(
                    f"max_resources='auto' takes the estimator's {resource}={max_resources!r}, "
                    "which is not a positive integer; give max_resources=<int>."
                )
    elif not _is_count(max_resources):
        raise ValueError(f"max_resources={max_resources!r} must be 'auto' or a positive integer.")
    elif resource == "n_samples" and max_resources > num_samples(X):
        raise ValueError(
            f"max_resources={max_resources} is more than the {num_samples(X)} samples of X."
        )

    min_resources = search.min_resources
    if min_resources == "smallest":
        min_resources = 1
        if resource == "n_samples":
            cv = check_cv(search.cv, y, classifier=is_classifier(estimator))
            min_resources = 2 * cv.get_n_splits(X, y)
            if is_classifier(estimator):
                min_resources *= len(np.unique(y))
    elif not _is_count(min_resources):
        raise ValueError(
            f"min_resources={min_resources!r} must be 'smallest' or a positive integer."
        )
    if min_resources >= max_resources:
        raise ValueError(
            f"min_resources={min_resources} must be less than max_resources={max_resources}."
        )
    levels = resource_levels(min_resources, max_resources, factor)
    if len(levels) < 2:
        raise ValueError(
            f"min_resources={min_resources}, max_resources={max_resources} and factor={factor} "
            "leave a single resource level: lower min_resources or factor."
        )
    return Fidelity(resource, levels, factor, bool(search.hyperband))


def resource_levels(min_resources, max_resources, factor):
    """The resource of each level, smallest first: ``max_resources`` divided by
    ``factor`` again and again while it stays at or above ``min_resources``."""
    n_halvings = math.floor(math.log(max_resources / min_resources) / math.log(factor) + 1e-9)
    return sorted({round(max_resources / factor ** (n_halvings - k)) for k in range(n_halvings + 1)})


def _is_count(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and value >= 1


class MultiFidelityMixin:
    """``resource=`` as a part of a search: compose it before ``BaseModelSearchCV``.

    The engine's hooks (``_plan_run``, ``_make_run``, ``_end_run``,
    ``_fits_outside_sklearn``) check the resource levels, race the
    candidates in ``Hyperband`` brackets (``ASHA`` with
    ``asynchronous=True``) with the search's own optimizer as the model,
    continue promoted candidates where the estimator can, and set the
    fitted attributes.  The class that composes it declares the
    parameters (``resource``, ``min_resources``, ``max_resources``,
    ``factor``, ``hyperband``, ``continuation``, ``model_directory``,
    ``max_model_bytes``).
    """

    # Parameters that do not change the algorithm's stored state.
    _NOT_ALGORITHM = frozenset({"continuation", "model_directory", "max_model_bytes"})

    def _fits_outside_sklearn(self):
        # Continuing promoted candidates fits outside evaluate_candidates, as
        # the asynchronous mode does (sk_hpo._continuation).
        return self.resource is not None and self.continuation is not False

    def _searches_subspaces(self):
        return self.resource is None

    def _plan_run(self, space, X, y):
        return None if self.resource is None else check_fidelity(self, space, X, y)

    def _make_run(self, plan, space, evaluate_candidates, seed, study):
        if plan is None:
            return super()._make_run(plan, space, evaluate_candidates, seed, study)
        optimizer = make_hyperband(self, space, plan, seed)
        return MultiFidelityRun(self, space, optimizer, evaluate_candidates, seed, study, plan)

    def _end_run(self, plan, run):
        super()._end_run(plan, run)
        if plan is None:
            return
        levels = np.asarray(run.results["iter"]) if run.results else np.array([], int)
        self.n_resources_ = list(plan.levels)
        self.min_resources_ = plan.levels[0]
        self.max_resources_ = plan.levels[-1]
        self.n_candidates_ = [int(np.sum(levels == k)) for k in range(len(plan.levels))]
        self.n_brackets_ = run.optimizer.n_brackets
        self.continuation_ = run.continuation.mode if run.continuation is not None else None

    # scikit-learn's hook for the best candidate: the best at the most
    # resource (see sk_hpo._internals).
    _select_best_index = staticmethod(select_best_index)


def make_hyperband(search, space, fidelity, seed):
    scheduler = ASHA if getattr(search, "asynchronous", False) else Hyperband
    hyperband = scheduler(
        space,
        n_levels=len(fidelity.levels),
        factor=fidelity.factor,
        n_candidates=search._budget(),
        n_min=search._n_startup(),
        hyperband=fidelity.hyperband,
        seed=seed,
    )
    hyperband.make_optimizer = lambda model_seed: search._make_optimizer(space, model_seed)
    return hyperband


class MultiFidelityRun(SearchRun):
    """``SearchRun`` whose batches are the rungs of ``Hyperband`` brackets."""

    unit = "evaluation"

    def __init__(self, search, space, optimizer, evaluate_candidates, seed, study, fidelity):
        super().__init__(search, space, optimizer, evaluate_candidates, seed, study)
        self.fidelity = fidelity
        self.seed = seed
        self.make_optimizer = optimizer.make_optimizer
        self.n_iter = optimizer.planned_evaluations()
        X, y = search._fit_data
        self.n_samples = num_samples(X)
        self.cv = check_cv(search.cv, y, classifier=is_classifier(search.estimator))
        self.continuation = None  # sk_hpo._continuation.Continuation, when candidates continue
        self.fit_pool = None  # where a batch search's continuing fits run

    # -- continuation (sk_hpo._continuation) -----------------------------------
    def start_outside_fits(self, pool):
        """Find out how the estimator continues; set up the model store (and, for
        batches, the executor its fits run on).  Raises with ``continuation=True``
        when it cannot."""
        search, fidelity, context = self.search, self.fidelity, self.context
        required = search.continuation is True
        train = context.splits[0][0]
        mode, warm_start, reason = detect(
            context.base_estimator, fidelity.resource, context.X, context.y, train
        )
        if mode is None:
            if required:
                raise ValueError(
                    f"continuation=True, but promoted candidates cannot continue training: "
                    f"{reason}. Use continuation='auto' to train each rung from scratch."
                )
            return
        self.fit_pool = pool
        if pool is None:
            try:
                self.fit_pool = Pool(context, search.n_jobs)
            except ValueError as exc:
                if required:
                    raise ValueError(f"continuation=True: {exc}") from None
                warnings.warn(
                    f"Promoted candidates are trained from scratch: {exc}", UserWarning
                )
                return
        store = ModelStore(search.model_directory, search.max_model_bytes)
        self.continuation = Continuation(
            mode, fidelity.resource, warm_start, store, fidelity.levels[-1]
        )

    def close(self):
        if self.continuation is not None:
            self.continuation.store.close()
        if self.fit_pool is not None and not self.asynchronous:
            self.fit_pool.close()

    def _chains(self, point, bracket, first_level, level):
        """How each split of ``point`` at ``level`` continues its lower rungs."""
        resources = self.fidelity.levels[first_level : level + 1]
        key = self.space.key(point)
        return [
            self.continuation.chain(key, bracket, resources, split)
            for split in range(self.search.n_splits_)
        ]

    def _forget(self, bracket, level, key=None):
        """Delete stored models no rung will continue: other brackets', and this
        bracket's more than a level below ``level`` (with ``key``: that
        candidate's below ``level``)."""
        if self.continuation is None:
            return
        levels = self.fidelity.levels
        if key is None:
            floor = levels[max(level - 1, 0)]
            self.continuation.forget(lambda b, _, r: b == bracket and r >= floor)
        else:
            digest = self.continuation.digest(key)
            self.continuation.forget(
                lambda b, d, r: not (b == bracket and d == digest and r < levels[level])
            )

    def _evaluate_continuing(self, points, params, more, level):
        """``_evaluate`` for a rung whose candidates continue their lower rung's models."""
        bracket = self.optimizer.bracket
        self._forget(bracket.number, level)
        pool, base = self.fit_pool, self.context.base_estimator
        futures = []
        for point, candidate in zip(points, params):
            chains = self._chains(point, bracket.number, bracket.first_level, level)
            for split, chain in enumerate(chains):
                futures.append(pool.submit(clone(base), candidate, split, None, chain))
        try:
            outs = [future.result() for future in futures]  # error_score="raise" raises here
        except BaseException:
            for future in futures:
                future.cancel()
            raise
        batch = self.batches[-1] + 1 if self.batches else 0
        return self._record_outs(points, params, outs, more, batch)

    def _stored_problem(self, candidate):
        problem = super()._stored_problem(candidate)
        if problem:
            return problem
        more = candidate.more
        if more.get("n_resources") not in self.fidelity.levels:
            return f"has n_resources={more.get('n_resources')!r}, not one of {self.fidelity.levels}"
        bracket = more.get("bracket")
        if bracket is not None and (not isinstance(bracket, int) or isinstance(bracket, bool)):
            return f"has bracket={bracket!r}, not a bracket number"
        return None

    def _params_of(self, point, more):
        params = self.space.to_params(point)
        if self.fidelity.resource != "n_samples":
            params[self.fidelity.resource] = int(more["n_resources"])
        return params

    def _retell(self, stored, points):
        levels = [self.fidelity.levels.index(c.more["n_resources"]) for c in stored]
        losses = [c.loss for c in stored]
        if isinstance(self.optimizer, ASHA):
            brackets = [c.more.get("bracket") for c in stored]
            self.optimizer.observe(points, levels, losses, brackets)
        else:
            self.optimizer.observe(points, levels, losses)

    def resume(self):
        super().resume()
        self.optimizer.make_optimizer = self.make_optimizer
        self.n_iter = max(self.n_iter, len(self.scores))

    def _loop(self, callbacks, initial_points, progress):
        search, hyperband = self.search, self.optimizer
        hyperband.queue = [p for p in initial_points if self.space.key(p) not in hyperband.started]
        while True:
            level, points = hyperband.ask(search._batch_size())
            if not points:
                break
            bracket = hyperband.bracket.number
            losses, evaluated = self._evaluate_level(points, level)
            hyperband.tell(points, losses)
            self.n_duplicates = hyperband.n_duplicates
            if self.study is not None:
                self.study.save_batch(evaluated, self._state_snapshot())
            self._check_all_failed()
            state = self._state()
            progress.update(state, len(points), detail=self._detail(bracket, level))
            if any(callback(state) for callback in callbacks):
                break

    # -- asynchronous: ASHA ----------------------------------------------------
    def _start_async(self, initial_points):
        super()._start_async(initial_points)
        self.optimizer.queue = [
            p for p in initial_points if self.space.key(p) not in self.optimizer.started
        ]
        self.queued = []
        self._splits = {}  # level -> subsampled splits (resource="n_samples")

    def _end_async(self, stopped):
        self.n_iter = len(self.scores)  # ASHA's evaluations are known only at the end
        super()._end_async(stopped)

    def next_candidates(self, running, n_wanted):
        running_points = [t.point for t in running]
        tickets = []
        for _ in range(n_wanted):
            job = self.optimizer.ask(running_points)
            if job is None:
                break
            level, bracket, point = job
            resource = self.fidelity.levels[level]
            more = {"iter": level, "n_resources": resource, "bracket": bracket}
            params = self._params_of(point, {"n_resources": resource})
            splits = self._level_splits(level)
            ticket = self._ticket(point, params, more, splits=splits)
            if self.continuation is not None:
                first = self.optimizer.bracket_levels[bracket]
                ticket.chains = self._chains(point, bracket, first, level)
            tickets.append(ticket)
            running_points.append(point)
        return tickets

    def _level_splits(self, level):
        if self.fidelity.resource != "n_samples":
            return None
        if level not in self._splits:
            cv = self._subsampler(self.fidelity.levels[level])
            self._splits[level] = self.context.split(cv)
        return self._splits[level]

    def finish(self, ticket):
        losses, evaluated = self._record_finished(ticket)
        level, bracket = ticket.more["iter"], ticket.more["bracket"]
        self.optimizer.tell(ticket.point, level, bracket, losses[0])
        self._forget(bracket, level, self.space.key(ticket.point))
        self.n_duplicates = self.optimizer.n_duplicates
        self.n_iter = max(self.n_iter, len(self.scores) + 1)
        return self._after_finish(evaluated, detail=self._detail(bracket, level))

    def _detail(self, bracket, level):
        """What the progress bar says of a rung."""
        return f"bracket {bracket}, {self.fidelity.resource}={self.fidelity.levels[level]}, "

    def _subsampler(self, resource):
        return SubsampleMetaSplitter(
            base_cv=self.cv,
            fraction=resource / self.n_samples,
            subsample_test=True,
            random_state=self.seed,
        )

    def _evaluate_level(self, points, level):
        resource = self.fidelity.levels[level]
        n = len(points)
        more = {
            "iter": [level] * n,
            "n_resources": [resource] * n,
            "bracket": [self.optimizer.bracket.number] * n,
        }
        params = [self._params_of(point, {"n_resources": resource}) for point in points]
        if self.continuation is not None:
            return self._evaluate_continuing(points, params, more, level)
        cv = self._subsampler(resource) if self.fidelity.resource == "n_samples" else None
        return self._evaluate(points, params=params, more=more, cv=cv)

    def _comparable(self, scores):
        # The best so far is the best with the most resource evaluated yet
        # (any level's, while every candidate there failed).
        resources = np.asarray(self.results["n_resources"])
        top = np.where(resources == resources.max(), scores, np.nan)
        return top if np.isfinite(top).any() else scores
