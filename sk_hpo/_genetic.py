"""A genetic algorithm on the unit cube, ask/tell.

The first generation is a space-filling design.  Each later generation is
bred from the population: parents are picked by tournament, crossed over
gene by gene (a blend of the two values for numbers, one parent's value
for categories), and mutated (a Gaussian step reflected at the bounds for
numbers, another category for categories).  The next population is the
``elitism`` best of the previous one plus the best of the new generation.

The mutation step adapts by Rechenberg's one-fifth success rule: it grows
when more than a fifth of the children beat their better parent, and
shrinks otherwise, so the search widens while it finds improvements and
narrows as it converges.

Conditional spaces: crossover happens only between parents of the same
branch (a child of parents of two branches copies one of them), and a
mutation may move a child to another branch, where it starts from that
branch's best individual so far, or from a random point of it.  A child
never carries a parameter of a branch it is not in.  Per-layer parameters
(``PerLayer``) of layers a child does not have are dormant genes: carried,
crossed and mutated, but not part of the candidate; the mutation rate
counts the active genes.  When a child has a layer its first parent did
not, that layer's genes come from the best candidate so far that had it
(chosen after measuring: on ``tests/test_per_layer.py``'s network loss,
12 seeds, the mean best loss fell from 0.40 to 0.30 at 48 evaluations and
from 0.27 to 0.135 at 96, against random search's 0.45 and 0.38).

Steady state (``steady_state=True``, the asynchronous searches' mode):
no generation waits for its last member.  Every ``ask`` breeds a child
at once from the population as it stands (while the design has not yet
filled it, a free worker gets another design point), and the population
is renewed, as above, as soon as ``population_size`` children have been
told, whichever they are: children bred from the previous population and
told later join the next renewal.  The candidates' ``generation`` is the
population they were bred from (0: the design), so the column and
``history_`` mean what they mean in batches.  Measured on
``benchmarks/asynchronous.py`` (5 seeds, 8 workers), this mode ends about
0.5 below the generational search on Hartmann-6 (per-seed differences
straddle 0); a fully steady (mu + 1) scheme, each child replacing the
worst at once (Whitley's GENITOR, 1989), and breeding from half the
design before the rest is told, measured the same, so neither was kept.

Generations and batches: a generation ends when ``ask`` is called while
every point asked before has been told.  Points re-asked while some are
still pending (to replace a child that repeated a known candidate) belong
to the same generation.  Points told without being asked (configurations
given to evaluate first) join the current generation, and do not end it:
the first generation is the given configurations plus a full design.
"""

import numpy as np

from ._optimizer import Optimizer, initial_design
from ._search_space import Point
from ._state import register

_STEP_BOUNDS = (0.01, 0.5)
_STEP_UP, _STEP_DOWN = 1.5, 0.82  # one-fifth rule factors
_BLEND_ALPHA = 0.5  # BLX-alpha: children may fall a half-interval outside the parents


@register
class GeneticAlgorithm(Optimizer):
    """A generational, elitist genetic algorithm on a ``SearchSpace``.

    Parameters
    ----------
    space : SearchSpace
    seed : int, optional
    population_size : int, default=10
        Individuals kept between generations; also the initial design's size.
    tournament_size : int, default=5
        Individuals drawn (with replacement) per tournament; the best wins.
        5 measured better than 2 and 3 (sklearn-genetic-opt's default) at
        30 and 60 evaluations (``benchmarks/results/genetic_defaults.md``):
        with such budgets, strong selection pays.
    crossover_probability : float, default=0.8
        Chance that a child has two parents rather than being a copy of one.
    mutation_probability : float or None, default=None
        Chance that each gene of a child mutates; ``None`` is ``1 / d`` for a
        branch of ``d`` parameters.  A child identical to a parent always
        gets at least one mutation.
    elitism : int, default=1
        The best individuals of a population that survive into the next one
        whatever their children score.
    mutation_step : float, default=0.1
        Initial standard deviation of a numeric mutation, on the unit
        interval.
    initial_point_generator : str, default="sobol"
        The design of the first generation (see ``initial_design``).
    steady_state : bool, default=False
        Never wait for a generation's last member: breed each child when
        asked, from the current population, and renew the population once
        ``population_size`` children have been told.
    """

    STATE_FORMAT = 2
    STATE_FIELDS = (
        *Optimizer.STATE_FIELDS, "population_size", "tournament_size", "crossover_probability",
        "mutation_probability", "mutation_step", "elitism",
        "initial_point_generator", "steady_state", "population", "children", "generation",
        "history", "pending", "_design", "_generation_of", "_n_asked",
    )  # fmt: skip

    # The mutation step adapts by the one-fifth rule (a hook for the
    # benchmarks' variant without it, which measured level:
    # ``benchmarks/results/genetic_defaults.md``).
    adaptive_mutation = True

    def __init__(
        self,
        space,
        seed=None,
        *,
        population_size=10,
        tournament_size=5,
        crossover_probability=0.8,
        mutation_probability=None,
        elitism=1,
        mutation_step=0.1,
        initial_point_generator="sobol",
        steady_state=False,
    ):
        super().__init__(space, seed)
        self.population_size = population_size
        self.tournament_size = tournament_size
        self.crossover_probability = crossover_probability
        self.mutation_probability = mutation_probability
        self.elitism = elitism
        self.mutation_step = mutation_step
        self.initial_point_generator = initial_point_generator
        self.generation = 0
        self.population = []  # (point, loss) of the current parents
        self.children = []  # (point, loss) told in the current generation
        self.pending = {}  # key -> (point, loss of its better parent)
        self.history = []  # one dict per generation (see _record)
        self._design = []
        self._n_asked = 0  # points asked in the current generation
        self.steady_state = steady_state
        self._generation_of = {}  # steady state: key -> generation each point was bred in

    # -- ask / tell -----------------------------------------------------------
    def ask(self, n_points=1):
        if self.steady_state:
            return [self._ask_steady() for _ in range(n_points)]
        if not self.pending and self._n_asked:
            self._next_generation()
        batch = []
        for _ in range(n_points):
            if self.generation == 0:
                point, parent_loss = self._initial_point(), np.inf
            else:
                point, parent_loss = self._breed()
            self.pending[self.space.key(point)] = (point, parent_loss)
            batch.append(point)
        self._n_asked += len(batch)
        return batch

    def tell(self, points, losses, splits=None):
        keys = super().tell(points, losses, splits)
        if self.steady_state:
            for point, key, loss in zip(points, keys, self.losses[-len(points):]):
                self._tell_steady(self.space.canonical(point), key, loss)
            return keys
        for point, key, loss in zip(points, keys, self.losses[-len(points):]):
            point = self.space.canonical(point)
            _, parent_loss = self.pending.pop(key, (point, np.inf))
            self.children.append((point, loss, parent_loss))
        self._record()
        return keys

    def more_results(self, points):
        """The ``generation`` column of ``cv_results_`` for ``points``."""
        if self.steady_state:
            keys = [self.space.key(self.space.canonical(p)) for p in points]
            return {"generation": [self._generation_of.get(key, 0) for key in keys]}
        return {"generation": [self.generation] * len(points)}

    # -- steady state ---------------------------------------------------------
    def _ask_steady(self):
        if self.generation == 0:  # the design has not filled the population yet
            point, parent_loss = self._initial_point(), np.inf
        else:
            point, parent_loss = self._breed()
        key = self.space.key(point)
        self.pending[key] = (point, parent_loss)
        self._generation_of[key] = self.generation
        return point

    def _tell_steady(self, point, key, loss):
        _, parent_loss = self.pending.pop(key, (point, np.inf))
        self._generation_of.setdefault(key, self.generation)
        self.children.append((point, loss, parent_loss))
        self._record()
        if len(self.children) >= self.population_size:
            self._next_generation()

    # -- generations ----------------------------------------------------------
    def _initial_point(self):
        if not self._design:
            self._design = initial_design(
                self.space, self.population_size, self.rng, self.initial_point_generator
            )[::-1]
        return self._design.pop()

    def _next_generation(self):
        children = [(p, loss) for p, loss, _ in self.children]
        if self.adaptive_mutation and self.generation > 0:
            wins = np.mean([loss < parent for _, loss, parent in self.children])
            factor = _STEP_UP if wins > 0.2 else _STEP_DOWN
            self.mutation_step = float(np.clip(self.mutation_step * factor, *_STEP_BOUNDS))
        elites = _best_unique(self.space, self.population, self.elitism)
        chosen = _best_unique(self.space, elites + children, self.population_size,
                              first=len(elites))
        self.population = chosen
        self.children = []
        self._n_asked = 0
        self.generation += 1

    def _record(self):
        """Statistics of the current generation (updated as its points are told)."""
        losses = np.array([loss for _, loss, _ in self.children], dtype=float)
        finite = losses[np.isfinite(losses)]
        entry = {
            "generation": self.generation,
            "n_evaluated": len(self.told_keys),
            "n_individuals": len(losses),
            "n_failed": int(len(losses) - len(finite)),
            "best_loss": float(np.min(self.losses)),
            "min_loss": float(finite.min()) if len(finite) else np.inf,
            "mean_loss": float(finite.mean()) if len(finite) else np.inf,
            "std_loss": float(finite.std()) if len(finite) else np.nan,
            "max_loss": float(finite.max()) if len(finite) else np.inf,
            "mutation_step": self.mutation_step,
        }
        if self.history and self.history[-1]["generation"] == self.generation:
            self.history[-1] = entry
        else:
            self.history.append(entry)

    # -- breeding -------------------------------------------------------------
    def _tournament(self):
        picks = self.rng.integers(len(self.population), size=self.tournament_size)
        return self.population[min(picks, key=lambda i: self.population[i][1])]

    def _breed(self):
        (first, first_loss) = self._tournament()
        parent_loss = first_loss
        x = np.array(first.x, dtype=float)
        branch = first.branch
        crossed = False
        if self.rng.random() < self.crossover_probability:
            second, second_loss = self._tournament()
            if second.branch == branch and second is not first:
                x = self._crossover(branch, x, np.asarray(second.x, dtype=float))
                parent_loss = min(first_loss, second_loss)
                crossed = True
        branch, x = self._mutate(branch, x, force=not crossed)
        if branch == first.branch and self.space.branches[branch].conditional:
            x = self._wake(branch, np.asarray(first.x, dtype=float), x)
        return self.space.canonical(Point(branch, x)), parent_loss

    def _wake(self, branch, parent, x):
        """Genes of layers the child has and its parent had not: from the best
        candidate so far that had them (kept dormant if none had)."""
        space_branch = self.space.branches[branch]
        woken = space_branch.active(x)[0] & ~space_branch.active(parent)[0]
        if not woken.any():
            return x
        known = [(p, loss) for p, loss in zip(self.points, self.losses) if p.branch == branch]
        for p, _ in sorted(known, key=lambda item: item[1]):
            donor = space_branch.active(p.x)[0]
            take = woken & donor
            x[take] = np.asarray(p.x)[take]
            woken &= ~take
            if not woken.any():
                break
        return x

    def _crossover(self, branch, a, b):
        child = a.copy()
        take = self.rng.random(len(a)) < 0.5
        for j, dim in enumerate(self.space.branches[branch].dimensions):
            if not take[j]:
                continue
            if dim.is_categorical:
                child[j] = b[j]
            else:
                u = self.rng.uniform(-_BLEND_ALPHA, 1 + _BLEND_ALPHA)
                child[j] = _reflect(a[j] + u * (b[j] - a[j]))
        return child

    def _mutate(self, branch, x, force):
        n_branches = self.space.n_branches
        d = len(x)
        # Genes of absent layers are dormant: they mutate, but only the
        # active ones count for the rate and for a forced change.
        active = self.space.branches[branch].active(x)[0]
        n_active = int(active.sum())
        rate = self.mutation_probability if self.mutation_probability is not None else (
            1.0 / max(n_active, 1)
        )
        if n_branches > 1 and self.rng.random() < rate / 2:
            return self._switch_branch(branch)
        genes = self.rng.random(d) < rate
        if force and n_active and not genes[active].any():
            genes[np.flatnonzero(active)[self.rng.integers(n_active)]] = True
        dims = self.space.branches[branch].dimensions
        for j in np.flatnonzero(genes):
            dim = dims[j]
            if dim.is_categorical:
                k = dim.n_levels
                if k > 1:
                    current = min(int(x[j] * k), k - 1)
                    other = (current + 1 + self.rng.integers(k - 1)) % k
                    x[j] = (other + 0.5) / k
            else:
                step = self.mutation_step
                if dim.n_levels:
                    step = max(step, 1.0 / dim.n_levels)  # move at least one integer
                x[j] = _reflect(x[j] + self.rng.normal(0.0, step))
        return branch, x

    def _switch_branch(self, branch):
        others = [b for b in range(self.space.n_branches) if b != branch]
        target = int(self.rng.choice(others))
        known = [(p, loss) for p, loss in zip(self.points, self.losses) if p.branch == target]
        if known:
            best = min(known, key=lambda item: item[1])[0]
            return self._mutate(target, np.array(best.x, dtype=float), force=True)
        return target, _random_x(self.space, target, self.rng)


def _random_x(space, branch, rng):
    dims = space.branches[branch].dimensions
    return np.array([dim.sample_unit(1, rng)[0] for dim in dims], dtype=float)


def _reflect(u):
    """Fold a coordinate back into [0, 1] at the bounds."""
    u = abs(u) % 2.0
    return 2.0 - u if u > 1.0 else u


def _best_unique(space, individuals, n, first=0):
    """The ``n`` best individuals with distinct candidates; the ``first`` ones kept first."""
    head, rest = individuals[:first], individuals[first:]
    out, seen = [], set()
    for point, loss in head + sorted(rest, key=lambda item: item[1]):
        key = space.key(point)
        if key not in seen:
            seen.add(key)
            out.append((point, loss))
        if len(out) == n:
            break
    return out
