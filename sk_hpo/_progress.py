"""What a search shows while it runs, by ``verbose``.

- 0: nothing.
- 1: a progress bar (tqdm's, in a terminal and in Jupyter): candidates done
  of ``n_iter``, elapsed time, time left, and the best score so far with
  its parameters.  Without tqdm installed, a line per batch instead.
- 2 and more: the same, plus scikit-learn's own messages about each batch
  of fits and, from 3, about each fit.
"""

import contextlib


def _tqdm():
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    return tqdm


class Progress:
    """A progress bar, or printed lines, for one ``fit``."""

    def __init__(self, name, total, done=0, verbose=1, unit="candidate"):
        self.name = name
        self.verbose = verbose
        self.unit = unit
        tqdm = _tqdm() if verbose else None
        self.bar = None
        if tqdm is not None:
            self.bar = tqdm(total=total, initial=done, desc=name, unit=unit, dynamic_ncols=True)

    def update(self, state, n_new, detail=""):
        """``n_new`` more done; ``state`` is the search's ``SearchState``."""
        if not self.verbose:
            return
        best = "no score yet"
        if state.best_params is not None:
            best = f"best {state.best_score:.5g} with {_short(state.best_params)}"
        if self.bar is not None:
            self.bar.total = state.n_iter
            self.bar.set_postfix_str(f"{detail}{best}", refresh=False)
            self.bar.update(n_new)
        else:
            print(
                f"[{self.name}] {state.n_evaluated}/{state.n_iter} {self.unit}s{detail and ' '}"
                f"{detail.rstrip(', ')}, {state.elapsed:.1f}s, {best}",
                flush=True,
            )

    def close(self):
        if self.bar is not None:
            self.bar.close()


def _short(params):
    """Parameters as ``name=value``, floats to 4 significant digits."""
    return ", ".join(
        f"{name}={value:.4g}" if isinstance(value, float) else f"{name}={value!r}"
        for name, value in params.items()
    )


@contextlib.contextmanager
def quiet_batches(search):
    """With ``verbose=1`` the bar replaces scikit-learn's line per batch of fits.

    ``BaseSearchCV.fit`` reads ``verbose`` when each batch starts, so it is
    lowered around the batch and restored at once.
    """
    if search.verbose != 1 or _tqdm() is None:
        yield
        return
    search.verbose = 0
    try:
        yield
    finally:
        search.verbose = 1
