"""Asynchronous successive halving (ASHA), fed by a model.  Knows nothing of scikit-learn.

Li, Jamieson, Rostamizadeh, Gonina, Ben-Tzur, Hardt, Recht and Talwalkar
(2020), "A System for Massively Parallel Hyperparameter Tuning" (MLSys).
Synchronous successive halving (``sk_hpo._hyperband``) waits for a rung
to fill before it promotes anyone, so with several workers the rung's
slowest fit idles the rest.  ASHA never waits: whenever a worker frees,

1. a candidate is promoted to the next level if it is in the top
   ``1 / factor`` of the results its rung holds so far and has not been
   promoted yet (the highest rung first, the best candidate first);
2. otherwise a new candidate starts at the bracket's lowest level, until
   ``n_candidates`` have started.

A rung's top ``1 / factor`` is taken of the results it holds, which grow
as candidates finish: a candidate may be promoted late, once enough
results have arrived behind it, and is never demoted.  Li et al. run
without end; a search has a budget, so once every candidate has started
and nothing is running, a rung whose top ``1 / factor`` rounds down to
nobody still promotes its best, as synchronous successive halving does
(``max(1, floor(n / factor))``): every search ends with a candidate
trained at full resource.  With
``hyperband=True`` the brackets of Hyperband (each starting at a higher
level) run side by side, new candidates shared between them in the
proportions synchronous Hyperband gives them, so each bracket costs about
the same (Li et al. 2020, section 3.3, "asynchronous Hyperband").

New candidates come from the model of BOHB's rule, as in the synchronous
search (``Hyperband._propose``): a fresh optimizer told the results of
the highest level holding ``n_min`` of them, and told which candidates
are running so that it proposes elsewhere (``Optimizer.pend``).
"""

import math

import numpy as np

from ._hyperband import Hyperband
from ._state import register


@register
class ASHA(Hyperband):
    """Asynchronous successive halving over resource levels.

    Takes ``Hyperband``'s parameters.  ``ask(running)`` returns one
    ``(level, bracket, point)`` to evaluate now, or None; ``tell(point,
    level, bracket, loss)`` records its result.
    """

    STATE_FORMAT = 1
    STATE_FIELDS = (*Hyperband.STATE_FIELDS, "bracket_levels", "bracket_starts", "bracket_weights",
                    "promoted", "rungs")

    def __init__(self, space, n_levels, factor, n_candidates, n_min, hyperband=False, seed=None):
        super().__init__(space, n_levels, factor, n_candidates, n_min, hyperband, seed)
        # Synchronous Hyperband's brackets and starts: each bracket costs about the same.
        plans = [self._bracket_plan(number) for number in range(n_levels if hyperband else 1)]
        self.bracket_levels = [first for first, _, _ in plans]
        self.bracket_weights = np.array([n_start for _, n_start, _ in plans], dtype=float)
        self.bracket_starts = [0] * len(self.bracket_levels)
        # rungs[b][level]: [key, point, loss] of every result of bracket b at that level.
        self.rungs = [[[] for _ in range(n_levels)] for _ in self.bracket_levels]
        self.promoted = [[set() for _ in range(n_levels)] for _ in self.bracket_levels]
        self.n_brackets = len(self.bracket_levels)

    def ask(self, running=()):
        """``(level, bracket, point)`` to evaluate now, or None.

        ``running``: the points under evaluation, which proposals avoid.
        """
        promotion = self._promotion()
        if promotion is not None:
            return promotion
        if self.n_started >= self.n_candidates or self.exhausted:
            return None if len(running) else self._promotion(at_least_one=True)
        points = self._propose(1, running)
        if not points:
            self.exhausted = True
            return None
        bracket = self._next_bracket()
        self.bracket_starts[bracket] += 1
        self.n_started += 1
        return self.bracket_levels[bracket], bracket, points[0]

    def tell(self, point, level, bracket, loss):
        loss = float(loss) if np.isfinite(loss) else np.inf
        level_points, level_losses = self.results[level]
        level_points.append(point)
        level_losses.append(loss)
        self.rungs[bracket][level].append((self.space.key(point), point, loss))

    def observe(self, points, levels, losses, brackets=None):
        """Results evaluated elsewhere (a stored search): into their rungs when known."""
        super().observe(points, levels, losses)
        if brackets is None:
            return
        for point, level, loss, bracket in zip(points, levels, losses, brackets):
            if bracket is None or not 0 <= bracket < self.n_brackets:
                continue
            key = self.space.key(point)
            loss = float(loss) if np.isfinite(loss) else np.inf
            self.rungs[bracket][level].append((key, point, loss))
            if level > self.bracket_levels[bracket]:
                self.promoted[bracket][level - 1].add(key)
            else:
                self.bracket_starts[bracket] += 1

    def _promotion(self, at_least_one=False):
        top = self.n_levels - 1
        for level in reversed(range(top)):
            for bracket, first in enumerate(self.bracket_levels):
                if level < first:
                    continue
                rung = self.rungs[bracket][level]
                n_top = math.floor(len(rung) / self.factor + 1e-9)
                if at_least_one and rung and not self.promoted[bracket][level]:
                    n_top = max(n_top, 1)
                if n_top == 0:
                    continue
                order = sorted(range(len(rung)), key=lambda i: rung[i][2])[:n_top]
                for i in order:
                    key, point, loss = rung[i]
                    if np.isfinite(loss) and key not in self.promoted[bracket][level]:
                        self.promoted[bracket][level].add(key)
                        return level + 1, bracket, point
        return None

    def _next_bracket(self):
        """The bracket furthest below its share of the starts."""
        starts = np.array(self.bracket_starts, dtype=float)
        share = (starts + 1) / self.bracket_weights
        return int(np.argmin(share))

    def planned_evaluations(self):
        """Evaluations if every rung promotes its top ``1 / factor`` (an estimate)."""
        weights = self.bracket_weights / self.bracket_weights.sum()
        total = 0.0
        for weight, first in zip(weights, self.bracket_levels):
            n = weight * self.n_candidates
            total += sum(n / self.factor**i for i in range(self.n_levels - first))
        return max(self.n_candidates, int(round(total)))
