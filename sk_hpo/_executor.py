"""Where the asynchronous mode's fits run: a ``concurrent.futures`` executor.

The asynchronous mode needs to hand one fit to a worker the moment another
finishes, which joblib's ``Parallel`` (a call over a fixed iterable) does
not offer.  Every backend it supports has a well-kept executor that does,
and this module only picks the one matching joblib's active backend, so
that ``n_jobs`` and ``joblib.parallel_backend(...)`` / ``parallel_config``
keep their meaning:

- ``loky`` (joblib's default) and ``multiprocessing``: joblib's own
  memory-mapping loky executor, the one ``Parallel`` uses, which passes
  large arrays to the workers through shared memory;
- ``threading``: ``concurrent.futures.ThreadPoolExecutor``;
- ``dask``: the ``dask.distributed`` client's ``concurrent.futures``
  executor, with the data scattered to the workers once;
- one worker (``n_jobs=1``, or the ``sequential`` backend): each fit runs
  in the calling thread when it is submitted, as joblib does.

Completion is waited for with ``concurrent.futures.wait``.
"""

import concurrent.futures as cf

from joblib.parallel import get_active_backend

from ._continuation import continue_and_score
from ._internals import fit_and_score

SUPPORTED_BACKENDS = ("loky", "multiprocessing", "threading", "sequential", "dask")


def _backend_name(backend):
    name = type(backend).__name__
    for known, label in (
        ("Loky", "loky"), ("Multiprocessing", "multiprocessing"), ("Threading", "threading"),
        ("Sequential", "sequential"), ("Dask", "dask"),
    ):  # fmt: skip
        if name.startswith(known):
            return label
    return name


class _Inline:
    """Runs each fit when it is submitted, in the calling thread."""

    def submit(self, fn, *args, **kwargs):
        future = cf.Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as exc:  # noqa: BLE001 -- handed to the caller through the future
            future.set_exception(exc)
        return future


class Pool:
    """Submits (candidate, split) fits of one search and waits for them.

    Parameters
    ----------
    context : sk_hpo._internals.FitContext
    n_jobs : int or None
        The search's ``n_jobs``, read as joblib reads it.
    """

    def __init__(self, context, n_jobs):
        backend, context_n_jobs = get_active_backend()
        self.backend = _backend_name(backend)
        if self.backend not in SUPPORTED_BACKENDS:
            raise ValueError(
                f"asynchronous=True runs its fits on joblib's {SUPPORTED_BACKENDS[:-1]} "
                f"backends or on dask.distributed ('dask'); the active joblib backend is "
                f"{self.backend!r}. Use one of those, or asynchronous=False."
            )
        n_jobs = n_jobs if n_jobs is not None else context_n_jobs
        self.n_workers = max(1, int(backend.effective_n_jobs(n_jobs if n_jobs is not None else 1)))
        self.context = context
        self._own = None  # an executor this pool made and must shut down
        X, y = context.X, context.y
        if self.backend == "sequential" or self.n_workers == 1:
            self.backend, self.executor = "sequential", _Inline()
        elif self.backend == "threading":
            self.executor = self._own = cf.ThreadPoolExecutor(self.n_workers)
        elif self.backend == "dask":
            client = backend.client
            # joblib's parallel_config("dask", resources={"GPU": 1}) sends the
            # fits to the workers that declare the resource, as in batches.
            submit_kwargs = getattr(backend, "submit_kwargs", {})
            self.executor = client.get_executor(pure=False, **submit_kwargs)
            # Send the data once, not with every fit.
            X, y = client.scatter([X, y], broadcast=True, hash=False)
        else:
            from joblib.executor import get_memmapping_executor

            self.executor = get_memmapping_executor(self.n_workers)
        self._data = (X, y)

    def submit(self, estimator, parameters, split, splits=None, chain=None):
        """Start fitting ``estimator`` with ``parameters`` on split number ``split``
        of ``splits`` (default: the search's); with a ``chain``
        (``sk_hpo._continuation``), continuing the candidate's lower rung."""
        train, test = (splits if splits is not None else self.context.splits)[split]
        X, y = self._data
        if chain is not None:
            return self.executor.submit(
                continue_and_score, estimator, X, y, train, test, parameters,
                self.context.fit_and_score_kwargs, chain,
            )  # fmt: skip
        return self.executor.submit(
            fit_and_score, estimator, X, y, train, test, parameters,
            self.context.fit_and_score_kwargs,
        )  # fmt: skip

    @staticmethod
    def wait(futures):
        """The futures of ``futures`` that are done, waiting for at least one."""
        done, _ = cf.wait(futures, return_when=cf.FIRST_COMPLETED)
        return done

    def close(self, futures=(), wait=True):
        """Cancel the fits not started; with ``wait``, wait for the ones running."""
        for future in futures:
            future.cancel()
        if futures and wait:
            cf.wait(futures)
        if self._own is not None:
            self._own.shutdown(wait=wait, cancel_futures=True)
