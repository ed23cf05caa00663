"""Convergence plots of the quality suite: normalised score against fits.

Each curve is the median over seeds of the normalised best score after
``b`` candidates, for every ``b`` up to the largest budget; 0 is the median
of random search after as many candidates, 100 the best score known.
"""

import numpy as np

from . import methods as M
from .tasks import normalised


def _best_so_far(scores):
    values = np.array([np.nan if s is None else s for s in scores], dtype=float)
    values = np.where(np.isfinite(values), values, -np.inf)
    return np.maximum.accumulate(values)


def curves(tasks, methods, runs, n_max):
    """``{(task, method): array of the median normalised score after b fits}``."""
    out = {}
    for task in tasks:
        ok = [r for r in runs if r["task"] == task.name and "scores" in r]
        best = {id(r): _best_so_far(r["scores"])[:n_max] for r in ok}
        optimum = task.optimum
        if optimum is None:
            optimum = max(b[-1] for b in best.values())
        baseline = np.array([best[id(r)] for r in ok if r["method"] == M.BASELINE])
        if not len(baseline):
            continue
        random_median = np.median(baseline, axis=0)
        for method in methods:
            mine = [best[id(r)] for r in ok if r["method"] == method]
            if mine:
                values = [[normalised(v, random_median[b], optimum) if np.isfinite(v) else np.nan
                           for b, v in enumerate(row)] for row in mine]
                out[(task.name, method)] = np.nanmedian(np.array(values, dtype=float), axis=0)
    return out


def convergence_png(tasks, methods, runs, n_max, path):
    """Write the plot; returns the path, or None without matplotlib."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return None
    table = curves(tasks, methods, runs, n_max)
    names = [t.name for t in tasks if any((t.name, m) in table for m in methods)]
    if not names:
        # No curve to draw: the normalised scores need random search's
        # runs, and this file has none (a run of variants alone, to be
        # rendered beside a file that has them).
        return None
    panels = names + ["mean over tasks"]
    cols = 4
    rows = -(-len(panels) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    fits = np.arange(1, n_max + 1)
    for ax, panel in zip(axes.flat, panels):
        for method in methods:
            if panel == "mean over tasks":
                series = [table[(n, method)] for n in names if (n, method) in table]
                if not series:
                    continue
                y = np.nanmean(np.array(series), axis=0)
            elif (panel, method) in table:
                y = table[(panel, method)]
            else:
                continue
            style = "-" if method.startswith("sk_hpo.") else "--"
            ax.plot(fits[: len(y)], y, style, label=method, linewidth=1.5)
        ax.set_title(panel, fontsize=10)
        ax.set_ylim(-100, 105)
        ax.axhline(0, color="grey", linewidth=0.5)
        ax.set_xlabel("fitted candidates")
        ax.set_ylabel("normalised score")
    for ax in axes.flat[len(panels):]:
        ax.axis("off")
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=len(labels), fontsize=9)
    fig.tight_layout(rect=(0, 0.05, 1, 1))
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return path
