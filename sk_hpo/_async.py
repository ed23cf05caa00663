"""Asynchronous evaluation: a new candidate the moment a worker frees.

In the default (batch) mode a search proposes ``n_points`` candidates,
waits for the slowest of their fits, tells the algorithm, and proposes the
next batch; every worker idles while the slowest fit runs and while the
algorithm computes its next proposals.  With ``asynchronous=True`` the
search keeps every worker busy instead, as asynchronous parallel Bayesian
optimisation does (Ginsbourger, Le Riche and Carraro 2010, "Kriging is
well-suited to parallelize optimization"; Optuna's parallel trials):

- each (candidate, split) fit is its own task on the executor of
  ``sk_hpo._executor``, and every worker has its next fit queued behind the
  one it runs (twice as many fits submitted as there are workers), so a
  worker that frees starts the next fit at once while the algorithm learns
  the result and proposes, in the calling thread.  With 8 workers and fits
  of 0.05-0.8 s, one queued fit in all (tried first) left a Gaussian
  process's workers idle a quarter of the time while it proposed
  (``benchmarks/results/asynchronous.md``); so many candidates under way
  at once are as many as batches of ``2 * n_jobs / n_splits`` would
  evaluate together.  After the first candidates, they are proposed one
  at a time, and the fits finished meanwhile are told before the next
  proposal: asking for several at once when several places are free (as
  first written) cost as many proposals and made the first free worker
  wait for all of them.  Measured alone, this left the utilisation where
  it was (a Gaussian process with 8 threads: 0.85 on 10 seeds); what
  raised it to 0.93 was cheaper proposals (``BayesSearchCV``'s
  ``_configure_workers``; ``benchmarks/results/asynchronous.md``);
- a candidate is told to the algorithm, stored, shown by the progress bar
  and passed to the callbacks as soon as its last split finishes, so
  ``cv_results_`` rows come in completion order;
- proposals account for the candidates still running: the algorithm
  asked for them and has not been told, so the Gaussian process believes
  its own mean there (kriging believer) and TPE counts them as bad (a
  constant liar).

What this gives up: the candidates depend on which fit finishes first, so
the same ``random_state`` gives the same candidates only with one worker.

The loop knows nothing of what is searched: a *run* (``SearchRun`` or the
multi-fidelity one) gives it the next candidates (``next_candidates``) and
takes each finished one (``finish``).  The executor runs the fits; the
run's algorithm (or its ASHA scheduler) decides.  Ray Tune keeps the same
three parts apart.
"""

import math
from dataclasses import dataclass, field

from sklearn.base import clone


@dataclass
class Ticket:
    """A candidate being evaluated."""

    number: int  # order of submission
    point: object
    params: dict
    more: dict  # this candidate's extra cv_results_ columns, one value each
    n_splits: int
    outs: list = field(default=None)
    twins: list = field(default_factory=list)  # proposals equal to it, told its loss
    splits: list = None  # (train, test) pairs other than the search's (subsampled rungs)
    chains: list = None  # per split, how it continues a lower rung (sk_hpo._continuation)

    def __post_init__(self):
        self.outs = [None] * self.n_splits

    @property
    def done(self):
        return all(out is not None for out in self.outs)


def run_asynchronously(run, pool):
    """Evaluate ``run``'s candidates on ``pool`` until it has no more to give.

    ``run.next_candidates(running, n)`` returns up to ``n`` ``Ticket``s to
    start, none when it has none now (``running``: the tickets under way);
    ``run.finish(ticket)`` records a finished one and returns True to stop.
    Returns True when a callback stopped the search.
    """
    running = {}  # future -> (ticket, split)
    tickets = []  # started and not finished, in submission order
    base = pool.context.base_estimator
    stopped = False
    # Every worker's next fit queued behind the one it runs; one worker: none.
    capacity = 1 if pool.backend == "sequential" else 2 * pool.n_workers
    n_splits = len(pool.context.splits)

    def collect(done):
        """Record the finished fits of ``done``; True once a callback stops."""
        nonlocal stopped
        for future in sorted(done, key=lambda f: (running[f][0].number, running[f][1])):
            ticket, split = running.pop(future)
            if future.cancelled():
                continue
            ticket.outs[split] = future.result()  # error_score="raise" raises here
            if ticket.done:
                tickets.remove(ticket)
                if run.finish(ticket) and not stopped:
                    stopped = True
                    # No new fit starts; the ones running finish and are recorded.
                    for other in list(running):
                        if other.cancel():
                            running.pop(other)

    try:
        while True:
            while not stopped and len(running) < capacity:
                # Candidates to fill the free places: all of them at the start,
                # then one at a time, taking in the fits finished meanwhile, so
                # that a worker waits for one proposal at most and every
                # proposal knows every result finished before it.
                n_wanted = 1 if running else math.ceil((capacity - len(running)) / n_splits)
                new = run.next_candidates(tickets, n_wanted)
                if not new:
                    break
                for ticket in new:
                    tickets.append(ticket)
                    for split in range(ticket.n_splits):
                        chain = ticket.chains[split] if ticket.chains else None
                        future = pool.submit(
                            clone(base), ticket.params, split, ticket.splits, chain
                        )
                        running[future] = (ticket, split)
                collect([future for future in running if future.done()])
            if not running:
                break
            collect(pool.wait(running))
    except BaseException:
        pool.close(list(running), wait=False)
        raise
    pool.close(list(running))
    return stopped

