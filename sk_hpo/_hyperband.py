"""Successive halving and Hyperband whose new candidates come from a model.

The BOHB scheme (Falkner, Klein and Hutter 2018, "BOHB: Robust and
Efficient Hyperparameter Optimization at Scale"), with any of sk_hpo's
ask/tell optimizers as the model.  Knows nothing of scikit-learn.

Resources come in levels ``r_0 < r_1 < ... < r_K`` a ``factor`` apart.  A
bracket starts ``n`` new candidates at some level, evaluates them, keeps
the best ``1/factor`` for the next level, and so on up to ``r_K``: a rung
per level.  Plain successive halving runs the most aggressive bracket (it
starts at ``r_0``) again and again; Hyperband cycles through all of them,
from starting many candidates at ``r_0`` to starting a few at ``r_K``.

A new candidate is proposed by a fresh optimizer told the results of the
highest level that holds at least ``n_min`` of them (BOHB's rule: the
most faithful level with enough data); before any level does, candidates
come from a space-filling design, then from the prior.
"""

import math

import numpy as np

from ._optimizer import ASK_ROUNDS, RANDOM_TRIES, initial_design
from ._state import register


def bracket_sizes(n_start, n_rungs, factor):
    """Candidates per rung of a bracket that starts ``n_start``: each rung keeps ``1/factor``."""
    return [max(1, math.floor(n_start / factor**i + 1e-9)) for i in range(n_rungs)]


@register
class _Bracket:
    STATE_FORMAT = 1
    STATE_FIELDS = ("number", "first_level", "sizes", "rung", "points", "n_asked", "told_points",
                    "told_losses")

    def __init__(self, number, first_level, sizes):
        self.number = number
        self.first_level = first_level
        self.sizes = sizes  # candidates of each rung
        self.rung = 0
        self.points = []  # the current rung's candidates (promoted ones, above rung 0)
        self.n_asked = 0  # of the current rung
        self.told_points = []
        self.told_losses = []

    @property
    def level(self):
        return self.first_level + self.rung


@register
class Hyperband:
    """Brackets of successive halving over resource levels, fed by a model.

    Parameters
    ----------
    space : SearchSpace
    n_levels : int
        Resource levels (``K + 1``); the caller maps level ``k`` to a resource.
    factor : float
        Each rung keeps the best ``1 / factor`` of its candidates.
    n_candidates : int
        New candidates to start in all brackets together.
    n_min : int
        Results a level needs before its model proposes candidates.
    hyperband : bool
        Cycle through every bracket (Hyperband) rather than only the one
        that starts at the lowest level (successive halving).
    seed : int
        Seeds the design, the prior draws and the models.

    ``make_optimizer(seed)`` (an attribute set by the caller, not stored)
    returns a new ask/tell optimizer of the space.
    """

    STATE_FORMAT = 1
    # ``make_optimizer`` is not state: the engine sets it on the restored object.
    STATE_FIELDS = (
        "space", "rng", "factor", "hyperband", "n_levels", "n_min", "n_candidates", "n_started",
        "n_brackets", "n_duplicates", "bracket", "exhausted", "_design", "queue", "results",
        "started",
    )  # fmt: skip

    def __init__(self, space, n_levels, factor, n_candidates, n_min, hyperband=False, seed=None):
        if n_levels < 2:
            raise ValueError(f"Hyperband needs at least 2 resource levels, got {n_levels}.")
        self.space = space
        self.n_levels = n_levels
        self.factor = factor
        self.n_candidates = n_candidates
        self.n_min = n_min
        self.hyperband = hyperband
        self.rng = np.random.default_rng(seed)
        self.make_optimizer = None
        self.results = [([], []) for _ in range(n_levels)]  # per level: points, losses
        self.started = set()  # keys of every candidate started
        self.queue = []  # points to start before any proposal
        self.n_started = 0
        self.n_brackets = 0
        self.n_duplicates = 0
        self.bracket = None
        self.exhausted = False
        self._design = None  # the space-filling start, made at the first proposal

    def __getstate__(self):
        state = self.__dict__.copy()
        state["make_optimizer"] = None
        return state

    # -- the schedule -------------------------------------------------------
    def _bracket_plan(self, number):
        """(first level, candidates per rung) of bracket ``number``, for ``n_left`` starts."""
        top = self.n_levels - 1
        halvings = top - number % self.n_levels if self.hyperband else top
        n_rungs = halvings + 1
        # Hyperband's n = ceil((K+1)/(s+1) * factor^s): every bracket costs about the same.
        n_start = math.ceil((top + 1) / n_rungs * self.factor**halvings - 1e-9)
        return top - halvings, n_start, n_rungs

    def _new_bracket(self):
        n_left = self.n_candidates - self.n_started
        if n_left <= 0 or self.exhausted:
            return None
        first_level, n_start, n_rungs = self._bracket_plan(self.n_brackets)
        sizes = bracket_sizes(min(n_start, n_left), n_rungs, self.factor)
        self.n_brackets += 1
        return _Bracket(self.n_brackets - 1, first_level, sizes)

    def planned_evaluations(self):
        """Evaluations the whole search makes if no candidate fails."""
        total, n_started, number = 0, 0, 0
        while n_started < self.n_candidates:
            _, n_start, n_rungs = self._bracket_plan(number)
            sizes = bracket_sizes(min(n_start, self.n_candidates - n_started), n_rungs, self.factor)
            total += sum(sizes)
            n_started += sizes[0]
            number += 1
        return total

    # -- ask / tell ---------------------------------------------------------
    def ask(self, n_points=1):
        """``(level, points)`` to evaluate next, or ``(None, [])`` when done.

        New candidates come ``n_points`` at a time; promoted ones a whole
        rung at once.  Every point must be told before the next ask.
        """
        if self.bracket is None:
            self.bracket = self._new_bracket()
            if self.bracket is None:
                return None, []
        bracket = self.bracket
        if bracket.rung > 0:
            points = bracket.points[bracket.n_asked :]
            bracket.n_asked = len(bracket.points)
            return bracket.level, points
        n = min(n_points, bracket.sizes[0] - bracket.n_asked)
        points = self._propose(n)
        if len(points) < n:
            # The space has no new candidate left: the bracket starts fewer.
            self.exhausted = True
            n_start = bracket.n_asked + len(points)
            if n_start == 0:
                self.bracket = None
                return None, []
            bracket.sizes = bracket_sizes(n_start, len(bracket.sizes), self.factor)
        bracket.n_asked += len(points)
        self.n_started += len(points)
        return bracket.level, points

    def tell(self, points, losses):
        """The losses of the points of the last ask (``inf`` for a failure)."""
        bracket = self.bracket
        losses = np.asarray(losses, dtype=float)
        losses = np.where(np.isnan(losses), np.inf, losses).tolist()
        level_points, level_losses = self.results[bracket.level]
        level_points.extend(points)
        level_losses.extend(losses)
        bracket.told_points.extend(points)
        bracket.told_losses.extend(losses)
        if len(bracket.told_points) == bracket.sizes[bracket.rung]:
            self._promote(bracket)

    def _promote(self, bracket):
        losses = np.asarray(bracket.told_losses)
        order = [i for i in np.argsort(losses, kind="stable") if np.isfinite(losses[i])]
        last = bracket.rung == len(bracket.sizes) - 1
        if last or not order:
            self.bracket = None
            return
        keep = [bracket.told_points[i] for i in order[: bracket.sizes[bracket.rung + 1]]]
        bracket.rung += 1
        bracket.sizes[bracket.rung] = len(keep)
        bracket.points, bracket.n_asked = keep, 0
        bracket.told_points, bracket.told_losses = [], []

    def observe(self, points, levels, losses):
        """Learn results evaluated elsewhere (a stored search), outside any bracket."""
        for point, level, loss in zip(points, levels, losses):
            key = self.space.key(point)
            if key not in self.started:
                self.started.add(key)
                self.n_started += 1
            level_points, level_losses = self.results[level]
            level_points.append(point)
            level_losses.append(float(loss) if np.isfinite(loss) else np.inf)

    # -- proposals ----------------------------------------------------------
    def _propose(self, n, running=()):
        """``n`` new candidates; ``running``: points under evaluation, for the model."""
        out = []

        def take(point):
            point = self.space.canonical(point)
            key = self.space.key(point)
            if key in self.started:
                self.n_duplicates += 1
                return
            self.started.add(key)
            out.append(point)

        while self.queue and len(out) < n:
            take(self.queue.pop(0))
        level = self._model_level()
        if level is None:
            while len(out) < n and self._next_design_point(take):
                pass
        else:
            optimizer = self.make_optimizer(int(self.rng.integers(2**31)))
            optimizer.tell(*self.results[level])
            if running:
                optimizer.pend(list(running))
            for _ in range(ASK_ROUNDS):
                if len(out) == n:
                    break
                for point in optimizer.ask(n - len(out)):
                    take(point)
        tries = RANDOM_TRIES * (n - len(out))
        while len(out) < n and tries > 0 and len(self.started) < self.space.size:
            take(self.space.sample(1, self.rng)[0])
            tries -= 1
        return out

    def _model_level(self):
        """The highest level with ``n_min`` successful results, or None."""
        for level in reversed(range(self.n_levels)):
            if np.isfinite(self.results[level][1]).sum() >= self.n_min:
                return level
        return None

    def _next_design_point(self, take):
        """Offer the next point of the space-filling start; False once it is used up."""
        if self._design is None:
            self._design = initial_design(self.space, self.n_min, self.rng)[::-1]
        if not self._design:
            return False
        take(self._design.pop())
        return True
