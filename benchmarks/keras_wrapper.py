"""Cost of the Keras wrapper per fit, and memory over many fits: ``python -m benchmarks.keras_wrapper``.

Fits the same small dense network N times on the digits in one process, as
a long search does, in five ways, each in a fresh subprocess:

- ``keras``: build, compile and ``model.fit`` directly (the baseline);
- ``keras + clear_session``: the same with ``keras.backend.clear_session()``
  before each model, as Keras's documentation advises for loops;
- ``scikeras``: SciKeras's own ``KerasClassifier`` with the same builder;
- ``sk_hpo``: ``sk_hpo.keras.KerasClassifier`` with the same builder; from
  the second fit on, it trains on its pooled model of that architecture,
  which has traced its training step already (as for a search's CV folds);
- ``sk_hpo, new width each fit``: the same, with a hidden layer one unit
  wider at every fit, so the pool never has the architecture (a fit traces,
  and its model joins the pool).

It reports the median seconds per fit with 1 and with 10 epochs, the ratio
to the baseline, and the resident memory after 10, N/2 and N fits.
Results: ``benchmarks/results/keras_wrapper.md`` and ``.json``.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
WAYS = ["keras", "keras + clear_session", "scikeras", "sk_hpo", "sk_hpo, new width each fit"]

_CHILD = """
import json, os, statistics, sys, time
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np
from sklearn.datasets import load_digits
import keras
way, n, epochs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
X, y = load_digits(return_X_y=True)
X = (X[::3] / 16.0).astype("float32"); y = y[::3]

def build(meta=None, units=32):
    model = keras.Sequential([keras.Input((64,)),
                              keras.layers.Dense(units, activation="relu"),
                              keras.layers.Dense(10, activation="softmax")])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop")
    return model

if way == "keras":
    fit = lambda: build().fit(X, y, epochs=epochs, verbose=0)
elif way == "keras + clear_session":
    def fit():
        keras.backend.clear_session()
        build().fit(X, y, epochs=epochs, verbose=0)
elif way == "scikeras":
    from scikeras.wrappers import KerasClassifier
    fit = lambda: KerasClassifier(build, epochs=epochs, verbose=0).fit(X, y)
elif way == "sk_hpo":
    from sk_hpo.keras import KerasClassifier
    fit = lambda: KerasClassifier(build, epochs=epochs).fit(X, y)
else:  # a width never seen before at every fit: nothing to reuse from the pool
    from sk_hpo.keras import KerasClassifier
    widths = iter(range(32, 100000))
    fit = lambda: KerasClassifier(build, model__units=next(widths), epochs=epochs).fit(X, y)

def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024

seconds, marks = [], {}
for i in range(1, n + 1):
    start = time.perf_counter()
    fit()
    seconds.append(time.perf_counter() - start)
    if i in (10, n // 2, n):
        marks[i] = rss_mb()
print(json.dumps({"seconds": seconds, "rss_mb": marks}))
"""


def run_way(way, n, epochs):
    out = subprocess.run([sys.executable, "-c", _CHILD, way, str(n), str(epochs)],
                         capture_output=True, text=True, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def timing(epochs, rounds, fits):
    """Seconds per fit of each way: ``rounds`` fresh processes of ``fits`` fits, ways in rotated order.

    The first 3 fits of a process (imports, first traces) are left out.
    """
    seconds = {way: [] for way in WAYS}
    for r in range(rounds):
        for way in WAYS[r % len(WAYS) :] + WAYS[: r % len(WAYS)]:
            seconds[way] += run_way(way, fits + 3, epochs)["seconds"][3:]
    return {way: statistics.median(values) for way, values in seconds.items()}


def timing_table(times):
    lines = [
        "| way | " + " | ".join(f"s per fit, {e} epoch(s)" for e in times)
        + " | " + " | ".join(f"ratio to keras, {e} epoch(s)" for e in times) + " |",
        "| --- |" + " --- |" * (2 * len(times)),
    ]  # fmt: skip
    for way in WAYS:
        cells = [f"{t[way]:.3f}" for t in times.values()]
        cells += [f"{t[way] / t['keras']:.2f}" for t in times.values()]
        lines.append(f"| {way} | " + " | ".join(cells) + " |")
    return lines


def memory_table(rows, n):
    marks = list(rows["keras"]["rss_mb"])
    lines = [
        "| way | " + " | ".join(f"RSS after {k} fits (MB)" for k in marks) + " | MB per fit |",
        "| --- |" + " --- |" * (len(marks) + 1),
    ]
    for way, row in rows.items():
        rss = list(row["rss_mb"].values())
        growth = (rss[-1] - rss[0]) / (n - 10)
        cells = " | ".join(f"{v:.0f}" for v in rss)
        lines.append(f"| {way} | {cells} | {growth:+.2f} |")
    return lines


def main(argv=None):
    from .run import command_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200, help="fits per way (default 200)")
    parser.add_argument("--rounds", type=int, default=3, help="timing processes per way (default 3)")
    parser.add_argument("--fits", type=int, default=15, help="timed fits per process (default 15)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.n < 20:
        parser.error(f"-n must be at least 20, got {args.n}")
    times = {}
    for epochs in (1, 10):
        times[epochs] = timing(epochs, args.rounds, args.fits)
        print(f"{epochs} epoch(s):", times[epochs], flush=True)
    rows = {}
    for way in WAYS:
        rows[way] = run_way(way, args.n, 1)
        print(way, rows[way]["rss_mb"], flush=True)
    lines = [
        "# The Keras wrapper: time per fit and memory over many fits",
        "",
        (f"{time.strftime('%Y-%m-%d')}, {platform.machine()}, {os.cpu_count()} cores, "
        f"`{command_line('benchmarks.keras_wrapper', argv)}`."),
        "",
        ("A dense network (64 inputs, 32 hidden units, 10 classes, RMSprop) fitted again and again "
        "on 600 digits; in the last way the hidden layer has 32 + i units at fit i, so each fit is a "
        "new architecture. With 1 epoch a fit is mostly Keras tracing its training step, so the fixed "
        "cost of a wrapper weighs most; 10 epochs is closer to a search's fits. sk_hpo's wrapper "
        "trains a model whose architecture it has trained before on a pooled model that traced "
        "already (the same model results), so its first way is the best case, as for a search's "
        "CV folds, and its last the worst case."),
        "",
        (f"## Seconds per fit (median of {args.rounds} processes x {args.fits} fits per way, "
        "ways in rotated order; the ratio is to building, compiling and fitting the Keras model "
        "directly)"),
        "",
        *timing_table(times),
        "",
        f"## Resident memory over {args.n} consecutive 1-epoch fits in one process",
        "",
        *memory_table(rows, args.n),
    ]
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keras_wrapper.md").write_text("\n".join(lines) + "\n")
    (args.out / "keras_wrapper.json").write_text(json.dumps({"n": args.n, "seconds_per_fit": times, "memory": rows}, indent=1) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
