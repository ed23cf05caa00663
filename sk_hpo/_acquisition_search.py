"""Maximising an acquisition over a mixed search space.

``GPOptimizer`` proposes through this part: the acquisitions are scored
on random candidates and on candidates near the best told points (a few
coordinates changed at a time, as trust-region methods do), the best few
of each acquisition are polished by L-BFGS-B over their numeric
coordinates (categories stay as drawn), and the proposal is the best
polished point that is new and worth a fit: one whose score could differ
from a known point's by more than the noise the GP learned.
"""

import numpy as np
from scipy.optimize import minimize
from scipy.spatial.distance import cdist

from ._search_space import INACTIVE_UNIT, Point

# Perturbation scales of the local candidates, on the unit interval.
_LOCAL_SCALES = (0.005, 0.2)
_N_ELITE = 5
# Proposals closer than this to a told or pending point (in the unit cube)
# are not worth a fit.
_MIN_DISTANCE = 1e-5
# ... nor are those whose latent value the prior lets differ from the
# nearest known point's by less than this many noise standard deviations.
_RESOLUTION = 0.3


class AcquisitionSearch:
    """The proposal step of ``GPOptimizer``: a mixin that reads its space,
    encoding, GP, told points and random generator, and calls its
    ``_fit`` and ``_acquire``."""

    def _propose(self):
        best = self._fit()
        candidates = self._candidates()
        rows = np.vstack([self.encoding.encode_branch(b, xs) for b, xs in candidates])
        owners = np.concatenate([np.full(len(xs), b) for b, xs in candidates])
        xs_all = [x for _, xs in candidates for x in xs]
        posterior = self.gp.predict(rows)
        worth = self._worth_a_fit(rows)
        names = [self.acq_func] if self.hedge is None else self.hedge.names
        orders, starts = [], []  # starts: (acquisition, point, value) to polish
        for name in names:
            values = self._acquire(name, rows, best, posterior=posterior)
            order = np.argsort(-values, kind="stable")
            orders.append(order)
            starts += [(name, Point(int(owners[i]), np.asarray(xs_all[i], dtype=float)),
                        values[i]) for i in order[: self.n_polish]]  # fmt: skip
        polished = self._polish(starts, best)
        nominees = []
        for name, order in zip(names, orders):
            # This acquisition's polished points, branch after branch.
            mine = [(value, point) for (n, _, _), (value, point) in zip(starts, polished)
                    if n == name]  # fmt: skip
            mine.sort(key=lambda item: item[1].branch)  # ties broken as they always were
            nominees.append(self._nominee(mine, order, owners, xs_all, worth))
        if self.hedge is None:
            return nominees[0]
        return nominees[self.hedge.choose(self.encoding.encode(nominees), self.rng)]

    def _nominee(self, polished, order, owners, xs_all, worth):
        """An acquisition's proposal: its best polished point that is new and
        worth a fit, else its best such candidate (``order``), else a random point."""
        polished.sort(key=lambda item: -item[0])
        for _, point in polished:
            point = self.space.canonical(point)
            if self._is_new(point) and self._worth_a_fit(
                self.encoding.encode_branch(point.branch, point.x)
            )[0]:
                return point
        # Every polished point is known: the best unpolished candidate that is not.
        for i in order[worth[order]]:
            point = self.space.canonical(Point(int(owners[i]), xs_all[i]))
            if self._is_new(point):
                return point
        # Every candidate is known (a small discrete space) or too close to
        # known points to be worth a fit: a random point.
        return self.space.sample(1, self.rng)[0]

    def _is_new(self, point):
        key = self.space.key(point)
        return key not in self.pending and key not in self.told_keys

    def _worth_a_fit(self, rows):
        """Whether a score at each of ``rows`` could differ from a known point's by more than noise.

        Closer than that, a fit only repeats the nearest known score: on a
        plateau of a cross-validated accuracy, exactly.  There the noise the
        GP learns is large, and the acquisitions of a model sure of the
        plateau's top would otherwise propose it again and again, a hair
        apart.  On a smooth function the noise is tiny and fine steps stay
        allowed.  The prior variance of ``f(row) - f(x)`` for the nearest
        known ``x`` is ``2 signal (1 - k(r))``, ``r`` the scaled distance.
        """
        known = self.gp.X
        near = cdist(rows, known, "sqeuclidean").min(axis=1) <= _MIN_DISTANCE**2
        scale = self.gp.length_scales
        r = np.sqrt(cdist(rows / scale, known / scale, "sqeuclidean").min(axis=1))
        distinct = 2.0 * self.gp.signal * (1.0 - self.gp.correlation(r)[0]) > (
            _RESOLUTION**2 * self.gp.noise
        )
        return distinct & ~near

    def _polish(self, starts, best):
        """L-BFGS-B on the numeric coordinates of ``starts``, ``(acquisition,
        point, value)`` triples; a ``(value, point)`` pair for each.

        The starts of one branch and one acquisition are polished together,
        as one problem whose objective is the sum of their (independent)
        acquisitions, so each step costs one vectorised prediction rather
        than one per start; with ``polish_jointly``, those of every
        acquisition (the asynchronous mode, where proposals must keep up
        with the workers: a third as many predictions).  A polished point
        that, made canonical, scores below its start is replaced by the start.
        """
        out = [None] * len(starts)
        groups = {}  # (branch,) or (branch, acquisition) -> indices of starts
        for i, (name, point, _) in enumerate(starts):
            key = (point.branch,) if self.polish_jointly else (point.branch, name)
            groups.setdefault(key, []).append(i)
        # The problems are independent and draw nothing at random: their order is free.
        for key, members in groups.items():
            b = key[0]
            names = [starts[i][0] for i in members]
            names = names[0] if len(set(names)) == 1 else names
            numeric = self.encoding.numeric[b]
            columns = self.encoding.numeric_columns[b]
            if len(numeric) == 0:
                for i in members:
                    out[i] = (float(starts[i][2]), starts[i][1])
                continue
            xs = np.array([starts[i][1].x for i in members])
            base = self.encoding.encode_branch(b, xs)
            shape = (len(members), len(numeric))

            def objective(flat, base=base, columns=columns, shape=shape, names=names):
                trial = base.copy()
                trial[:, columns] = flat.reshape(shape)
                value, grad = self._acquire(names, trial, best, grad=True)
                return -float(value.sum()), -grad[:, columns].ravel()

            result = minimize(
                objective, xs[:, numeric].ravel(), jac=True, method="L-BFGS-B",
                bounds=[(0.0, 1.0)] * (shape[0] * shape[1]), options={"maxiter": 50},
            )
            polished = xs.copy()
            polished[:, numeric] = result.x.reshape(shape)
            polished = self._canonical_rows(b, polished)
            values = self._acquire(names, self.encoding.encode_branch(b, polished), best)
            for i, x, value in zip(members, polished, values):
                _, start, start_value = starts[i]
                if value >= start_value:
                    out[i] = (float(value), Point(b, x))
                else:
                    out[i] = (float(start_value), start)
        return out

    def _candidates(self):
        """``(branch, unit vectors)`` pairs: random ones and ones near the best."""
        out = []
        n_branches = self.space.n_branches
        counts = np.bincount(self.rng.integers(n_branches, size=self.n_candidates),
                             minlength=n_branches)
        for b, count in enumerate(counts):
            if count:
                out.append((b, self._canonical_rows(b, self.rng.random(
                    (count, self.space.branches[b].n_dims)))))
        losses = np.asarray(self.losses)
        finite = np.flatnonzero(np.isfinite(losses))
        elite = finite[np.argsort(losses[finite], kind="stable")[:_N_ELITE]]
        per_elite = self.n_candidates // max(len(elite), 1)
        for i in elite:
            point = self.points[i]
            out.append((point.branch, self._perturb(point, per_elite)))
        return out

    def _perturb(self, point, n):
        b, x = point.branch, np.asarray(point.x, dtype=float)
        d = len(x)
        xs = np.repeat(x[None, :], n, axis=0)
        if d == 0:
            return xs
        numeric = self.encoding.numeric[b]
        if len(numeric):
            # Change a few coordinates at a time, as trust-region methods do:
            # in many dimensions, moving all of them rarely improves.
            p = min(1.0, 3.0 / len(numeric))
            mask = self.rng.random((n, len(numeric))) < p
            mask[np.arange(n), self.rng.integers(len(numeric), size=n)] = True
            low, high = np.log(_LOCAL_SCALES)
            scale = np.exp(self.rng.uniform(low, high, size=(n, 1)))
            step = self.rng.normal(size=(n, len(numeric))) * scale * mask
            xs[:, numeric] = np.clip(xs[:, numeric] + step, 0.0, 1.0)
        for j, _, _ in self.encoding.categorical[b]:
            flip = self.rng.random(n) < 1.0 / d
            xs[flip, j] = self.rng.random(int(flip.sum()))
        return self._canonical_rows(b, xs)

    def _canonical_rows(self, b, xs):
        branch = self.space.branches[b]
        for j, dim in enumerate(branch.dimensions):
            xs[:, j] = dim.canonical_unit(xs[:, j])
        if branch.conditional:
            # An absent layer's coordinate is not data to the model (its
            # encoding is zero): set as ``to_point`` sets it, so that no
            # proposal depends on it, polishing's steps included.
            xs[~branch.active(xs)] = INACTIVE_UNIT
        return xs
