"""Memory of many consecutive Keras fits in one process: ``python -m benchmarks.keras_memory``.

Fits the same small dense network N times on the digits (as a long
search does), with sk_hpo's KerasClassifier (a cleared Keras session per
model) and with SciKeras's own, each in a fresh subprocess, and reports the
resident memory after 10 fits and after N.
Results: ``benchmarks/results/keras_memory.md``.
"""

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

_CHILD = """
import os, resource, sys, json
import numpy as np
from sklearn.datasets import load_digits
wrapper, n = sys.argv[1], int(sys.argv[2])
if wrapper == "sk_hpo":
    from sk_hpo.keras import KerasClassifier
    make = lambda: KerasClassifier(model__hidden_layer_sizes=(32,), epochs=1, random_state=0)
else:
    import keras
    from scikeras.wrappers import KerasClassifier
    def build(meta):
        model = keras.Sequential([keras.Input((meta["n_features_in_"],)),
                                  keras.layers.Dense(32, activation="relu"),
                                  keras.layers.Dense(meta["n_classes_"], activation="softmax")])
        model.compile(loss="sparse_categorical_crossentropy", optimizer="rmsprop")
        return model
    make = lambda: KerasClassifier(build, epochs=1, verbose=0, random_state=0)
X, y = load_digits(return_X_y=True)
X = X[::3] / 16.0; y = y[::3]
def rss_mb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS")) / 1024
marks = {}
for i in range(1, n + 1):
    make().fit(X, y)
    if i in (10, n // 2, n):
        marks[i] = rss_mb()
print(json.dumps(marks))
"""


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=200)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = {}
    for wrapper in ("sk_hpo", "scikeras"):
        start = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", _CHILD, wrapper, str(args.n)],
                             capture_output=True, text=True, check=True)  # fmt: skip
        rows[wrapper] = {"rss_mb": json.loads(out.stdout.strip().splitlines()[-1]),
                         "seconds": time.perf_counter() - start}  # fmt: skip
        print(wrapper, rows[wrapper], flush=True)
    lines = [
        "# Memory of consecutive Keras fits",
        "",
        f"{time.strftime('%Y-%m-%d')}. `python -m benchmarks.keras_memory -n {args.n}`: a dense "
        "network (32 hidden units, 1 epoch) fitted again and again on 600 digits, in one process.",
        "",
        "| wrapper | " + " | ".join(f"RSS after {k} fits (MB)" for k in rows["sk_hpo"]["rss_mb"]) + " | seconds |",
        "| --- |" + " --- |" * (len(rows["sk_hpo"]["rss_mb"]) + 1),
    ]
    for wrapper, row in rows.items():
        cells = " | ".join(f"{v:.0f}" for v in row["rss_mb"].values())
        lines.append(f"| {wrapper} | {cells} | {row['seconds']:.0f} |")
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keras_memory.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
