"""Plots of fitted searches (``pip install "sk_hpo[plot]"`` for matplotlib).

Every function reads only ``cv_results_``, so it takes any fitted search:
sk_hpo's, and scikit-learn's ``GridSearchCV``, ``RandomizedSearchCV`` and
Halving searches.  Each returns the matplotlib ``Axes`` (or ``Figure``) it
drew on, to restyle or save.  With several metrics, ``metric`` picks one
(the ``refit`` metric by default).  For a multi-fidelity search (a
``n_resources`` column), the convergence counts scores at the largest
resource; the other plots use the largest resource with at least 4 scores.

>>> import matplotlib
>>> matplotlib.use("Agg")
>>> from sklearn.datasets import load_iris
>>> from sklearn.svm import SVC
>>> from sk_hpo import Real, TPESearchCV
>>> from sk_hpo.plots import plot_convergence, plot_importance, plot_parameters
>>> X, y = load_iris(return_X_y=True)
>>> search = TPESearchCV(SVC(), {"C": Real(1e-2, 1e2, "log-uniform"),
...                              "kernel": ["rbf", "linear"]},
...                      n_iter=12, random_state=0).fit(X, y)
>>> ax = plot_convergence(search)
>>> fig = plot_parameters(search)
>>> ax = plot_importance(search)
"""

import numbers

import numpy as np

__all__ = ["plot_convergence", "plot_importance", "plot_pair", "plot_parameters"]

# A multi-fidelity search's per-parameter plots show the largest resource
# with at least this many scores (its last rungs may hold one or two).
_MIN_ROWS = 4


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            'sk_hpo.plots needs matplotlib: pip install "sk_hpo[plot]".'
        ) from None
    return plt


def _results(search, caller):
    results = getattr(search, "cv_results_", None)
    if results is None:
        raise ValueError(
            f"{caller} needs a fitted search (one with cv_results_); got "
            f"{type(search).__name__}, not fitted."
        )
    return results


def _score_column(search, results, metric):
    if metric is not None:
        key = f"mean_test_{metric}"
        if key not in results:
            known = sorted(k[len("mean_test_") :] for k in results if k.startswith("mean_test_"))
            raise ValueError(f"metric={metric!r} is not in cv_results_; its metrics are {known}.")
        return key
    if "mean_test_score" in results:
        return "mean_test_score"
    refit = getattr(search, "refit", None)
    if isinstance(refit, str) and f"mean_test_{refit}" in results:
        return f"mean_test_{refit}"
    return next(k for k in results if k.startswith("mean_test_"))


def _scores(search, results, metric, min_rows=1):
    """The chosen score of every row, nan where failed.

    A multi-fidelity search keeps the rows of the largest resource that
    has ``min_rows`` scores (the largest resource if none has).
    """
    scores = np.asarray(np.ma.filled(results[_score_column(search, results, metric)], np.nan), float)
    if "n_resources" in results:
        resources = np.asarray(results["n_resources"])
        levels = sorted(set(resources.tolist()), reverse=True)
        level = next(
            (r for r in levels if np.isfinite(scores[resources == r]).sum() >= min_rows), levels[0]
        )
        scores = np.where(resources == level, scores, np.nan)
    return scores


def _label(search, metric):
    column = _score_column(search, search.cv_results_, metric)
    return "score" if column == "mean_test_score" else column[len("mean_test_") :]


def _parameter_names(results):
    return [key[len("param_") :] for key in results if key.startswith("param_")]


def _values(results, name):
    """The values of parameter ``name``, None where a candidate has no such parameter."""
    column = results[f"param_{name}"]
    mask = np.ma.getmaskarray(column)
    return [None if m else v for v, m in zip(np.ma.getdata(column), mask)]


def _is_numeric(values):
    present = [v for v in values if v is not None]
    return bool(present) and all(
        isinstance(v, numbers.Real) and not isinstance(v, bool) for v in present
    )


def _is_log(search, name, values):
    """Log axis: the dimension is log-uniform (sk_hpo), else the values span 3 decades."""
    space = getattr(search, "search_space_", None)
    if space is not None:
        for branch in space.branches:
            for dim_name, dim in zip(branch.names, branch.dimensions):
                if dim_name == name and getattr(dim, "prior", None) is not None:
                    return dim.prior == "log-uniform"
    present = np.array([v for v in values if v is not None], dtype=float)
    return bool(len(present)) and present.min() > 0 and present.max() / present.min() >= 1000


def plot_convergence(*searches, labels=None, metric=None, ax=None):
    """The best score so far against the candidates evaluated, one curve per search.

    Parameters
    ----------
    *searches : fitted searches
        Overlaid for comparison.
    labels : list of str, default=None
        Legend entries; the class names by default.
    metric : str, default=None
        With several metrics, the one to plot.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        The plot, to restyle or save.
    """
    plt = _pyplot()
    if not searches:
        raise ValueError("plot_convergence needs at least one fitted search.")
    if labels is not None and len(labels) != len(searches):
        raise ValueError(f"labels has {len(labels)} entries for {len(searches)} searches.")
    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    for i, search in enumerate(searches):
        results = _results(search, "plot_convergence")
        scores = _scores(search, results, metric)
        best = np.fmax.accumulate(scores)
        label = labels[i] if labels is not None else type(search).__name__
        ax.step(np.arange(1, len(best) + 1), best, where="post", label=label)
    ax.set_xlabel("candidates evaluated")
    ax.set_ylabel(f"best {_label(searches[0], metric)} so far")
    ax.legend()
    return ax


def _draw_parameter(ax, search, name, values, scores):
    present = [i for i, v in enumerate(values) if v is not None and np.isfinite(scores[i])]
    if _is_numeric(values):
        x = np.array([values[i] for i in present], dtype=float)
        ax.scatter(x, scores[present], s=14, alpha=0.7)
        if _is_log(search, name, values):
            ax.set_xscale("log")
    else:
        # Categories of the scored candidates only.
        kept = set(present)
        scored = [v if i in kept else None for i, v in enumerate(values)]
        codes, categories = _coordinates(scored, categorical=True)
        x = codes[present]
        rng = np.random.default_rng(0)
        ax.scatter(x + rng.uniform(-0.15, 0.15, len(x)), scores[present], s=14, alpha=0.7)
        means = [np.mean(scores[present][x == k]) for k in range(len(categories))]
        ax.scatter(range(len(categories)), means, marker="_", s=400, color="black", label="mean")
        ax.set_xticks(range(len(categories)), categories, rotation=30)
    ax.set_xlabel(name)


def plot_parameters(search, names=None, metric=None, n_cols=3):
    """The score of every candidate against each parameter.

    Numbers on a linear or log axis (log for log-uniform dimensions, or
    values spanning three decades); categories as groups with their mean.

    Parameters
    ----------
    search : fitted search
        Any fitted search with ``cv_results_``: sk_hpo's or scikit-learn's.
    names : list of str, default=None
        Parameters to show; all by default.
    metric : str, default=None
        With several metrics, the one to plot.
    n_cols : int, default=3
        Panels per row.

    Returns
    -------
    matplotlib.figure.Figure
        One panel per parameter.
    """
    plt = _pyplot()
    results = _results(search, "plot_parameters")
    all_names = _parameter_names(results)
    names = all_names if names is None else list(names)
    unknown = [n for n in names if n not in all_names]
    if unknown:
        raise ValueError(f"unknown parameter(s) {unknown}; the search has {all_names}.")
    scores = _scores(search, results, metric, min_rows=_MIN_ROWS)
    n_rows = -(-len(names) // n_cols)
    fig, axes = plt.subplots(
        n_rows, min(n_cols, len(names)), figsize=(4 * min(n_cols, len(names)), 3.2 * n_rows),
        squeeze=False, sharey=True,
    )  # fmt: skip
    for ax, name in zip(axes.flat, names):
        _draw_parameter(ax, search, name, _values(results, name), scores)
    for ax in axes.flat[len(names) :]:
        ax.set_visible(False)
    for row in axes:
        row[0].set_ylabel(_label(search, metric))
    fig.tight_layout()
    return fig


def _coordinates(values, categorical=False):
    """Numbers to plot or model ``values`` on, and tick labels for categories."""
    if not categorical and _is_numeric(values):
        x = np.array([np.nan if v is None else v for v in values], dtype=float)
        return x, None
    categories = sorted({repr(v) for v in values if v is not None})
    position = {c: k for k, c in enumerate(categories)}
    x = np.array([np.nan if v is None else position[repr(v)] for v in values], dtype=float)
    return x, [c.strip("'") for c in categories]


def plot_pair(search, x=None, y=None, metric=None, ax=None):
    """Two parameters against each other, each candidate coloured by its score.

    Parameters
    ----------
    search : fitted search
        Any fitted search with ``cv_results_``: sk_hpo's or scikit-learn's.
    x, y : str, default=None
        The parameters on the horizontal and vertical axes.  Left out, the
        parameters that :func:`plot_importance` ranks first (the most
        important one not already given).
    metric : str, default=None
        With several metrics, the one to colour by.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.

    Returns
    -------
    matplotlib.axes.Axes
        The plot, to restyle or save.
    """
    plt = _pyplot()
    results = _results(search, "plot_pair")
    names = _parameter_names(results)
    for name in (x, y):
        if name is not None and name not in names:
            raise ValueError(f"unknown parameter {name!r}; the search has {names}.")
    scores = _scores(search, results, metric, min_rows=_MIN_ROWS)
    if x is None or y is None:
        if len(names) < 2:
            raise ValueError(f"plot_pair needs two parameters; the search has {names}.")
        ranked = [names[i] for i in np.argsort(-_importance(search, results, names, scores))]
        x = x if x is not None else next(n for n in ranked if n != y)
        y = y if y is not None else next(n for n in ranked if n != x)
    if ax is None:
        _, ax = plt.subplots(figsize=(5.5, 4.5))
    xs, x_ticks = _coordinates(_values(results, x))
    ys, y_ticks = _coordinates(_values(results, y))
    keep = np.isfinite(xs) & np.isfinite(ys) & np.isfinite(scores)
    points = ax.scatter(xs[keep], ys[keep], c=scores[keep], cmap="viridis", s=25)
    ax.figure.colorbar(points, ax=ax, label=_label(search, metric))
    for name, ticks, set_ticks, set_scale in ((x, x_ticks, ax.set_xticks, ax.set_xscale),
                                              (y, y_ticks, ax.set_yticks, ax.set_yscale)):  # fmt: skip
        if ticks is not None:
            set_ticks(range(len(ticks)), ticks)
        elif _is_log(search, name, _values(results, name)):
            set_scale("log")
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    return ax


def plot_importance(search, metric=None, ax=None, random_state=0):
    """How much each parameter explains the score: a random-forest surrogate of ``cv_results_``.

    A forest regressing the score on the parameters (log10 of log-scaled
    ones, categories as codes, absent parameters as missing values); each
    parameter's importance is the forest's mean decrease in impurity,
    normalised to sum to 1.  Needs at least 4 scored candidates.

    Parameters
    ----------
    search : fitted search
        Any fitted search with ``cv_results_``: sk_hpo's or scikit-learn's.
    metric : str, default=None
        With several metrics, the one to explain.
    ax : matplotlib Axes, default=None
        Where to draw; a new figure by default.
    random_state : int, default=0
        Seeds the forest.

    Returns
    -------
    matplotlib.axes.Axes
        The plot, to restyle or save.
    """
    plt = _pyplot()
    results = _results(search, "plot_importance")
    names = _parameter_names(results)
    scores = _scores(search, results, metric, min_rows=_MIN_ROWS)
    importance = _importance(search, results, names, scores, random_state, "plot_importance")
    order = np.argsort(importance)
    if ax is None:
        _, ax = plt.subplots(figsize=(5, 0.4 * len(names) + 1.2))
    ax.barh([names[i] for i in order], importance[order])
    ax.set_xlabel("importance (random-forest surrogate)")
    return ax


def _importance(search, results, names, scores, random_state=0, caller="plot_pair"):
    """Each parameter's importance for the score (see :func:`plot_importance`)."""
    from sklearn.ensemble import RandomForestRegressor

    columns = []
    for name in names:
        values = _values(results, name)
        x, _ = _coordinates(values)
        if _is_numeric(values) and _is_log(search, name, values):
            x = np.log10(x)
        columns.append(x)
    X = np.column_stack(columns)
    keep = np.isfinite(scores)
    if keep.sum() < 4:
        raise ValueError(f"{caller} needs at least 4 scored candidates, got {int(keep.sum())}.")
    forest = RandomForestRegressor(n_estimators=200, min_samples_leaf=2, random_state=random_state)
    forest.fit(X[keep], scores[keep])
    return forest.feature_importances_
