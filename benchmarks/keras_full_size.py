"""Keras searches at MNIST size on this machine: ``python -m benchmarks.keras_full_size``.

60,000 images of 28x28 built offline from scikit-learn's digits
(``benchmarks.gpu_check.mnist_size``: scaled up, shifted, noised; never
downloaded), 188 MB as float32, split 48,000 / 12,000 into train and
validation.  The same convolutional network for every method
(``sk_hpo.keras.conv_network``: filters per block, dense units, dropout,
learning rate, batch size; one epoch per trial), the same space, and the
same wall-clock budget (``--minutes``) each:

- our ``TPESearchCV`` with ``n_jobs=1``, and with ``n_jobs=2`` (two loky
  worker processes; joblib memory-maps the data to them, so it is not
  copied per fit), scored on the validation split (``cv=`` one holdout);
- KerasTuner's ``RandomSearch`` on the same split (one process, as it runs).

Each method runs in a fresh Python process, whose tree (the search and its
workers) is sampled every second with psutil: the peak resident memory
(RSS) of each process is reported, beside trials per hour and the best
validation accuracy reached within the budget.  Needs the ``keras`` (or
``keras-cpu``) and ``bench`` extras.  Results:
``benchmarks/results/keras_full_size.{json,md}``.
"""

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
N_IMAGES, N_TRAIN = 60_000, 48_000
METHODS = ("sk_hpo.TPESearchCV n_jobs=1", "sk_hpo.TPESearchCV n_jobs=2", "keras_tuner.RandomSearch")


def _data():
    from .gpu_check import mnist_size

    return mnist_size(N_IMAGES, seed=0)


def _ours(n_jobs, seconds, seed):
    import numpy as np

    from sk_hpo import Integer, Real, TPESearchCV
    from sk_hpo.callbacks import DeadlineStopper
    from sk_hpo.keras import KerasClassifier

    X, y = _data()
    holdout = [(np.arange(N_TRAIN), np.arange(N_TRAIN, N_IMAGES))]
    space = {
        "model__filters": [(16, 32), (32, 64)],
        "model__dense_units": [(64,), (128,)],
        "model__dropout": Real(0.0, 0.5),
        "optimizer__learning_rate": Real(1e-4, 1e-2, prior="log-uniform"),
        "batch_size": Integer(64, 256),
    }
    net = KerasClassifier(model="conv", epochs=1, optimizer="adam", random_state=seed)
    search = TPESearchCV(net, space, n_iter=1000, cv=holdout, n_jobs=n_jobs, n_points=n_jobs,
                         random_state=seed, refit=False,
                         callbacks=[DeadlineStopper(total_time=seconds)])  # fmt: skip
    start = time.perf_counter()
    search.fit(X, y)
    elapsed = time.perf_counter() - start
    return {"trials": len(search.cv_results_["params"]), "seconds": elapsed,
            "best_accuracy": float(search.best_score_)}  # fmt: skip


def _keras_tuner(seconds, seed):
    import keras
    import keras_tuner as kt

    from sk_hpo.keras import conv_network

    X, y = _data()

    def build(hp):
        filters = hp.Choice("filters", ["16,32", "32,64"])
        units = hp.Choice("dense_units", [64, 128])
        model = conv_network(
            {"n_features_in_": None, "n_classes_": 10, "X_shape_": (None, 28, 28, 1),
             "target_type_": "multiclass"},
            {"optimizer": keras.optimizers.Adam(hp.Float("learning_rate", 1e-4, 1e-2, sampling="log")),
             "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
            filters=tuple(int(f) for f in filters.split(",")), dense_units=(units,),
            dropout=hp.Float("dropout", 0.0, 0.5),
        )  # fmt: skip
        return model

    class Tuner(kt.RandomSearch):
        def run_trial(self, trial, *args, **kwargs):
            kwargs["batch_size"] = trial.hyperparameters.Int("batch_size", 64, 256)
            return super().run_trial(trial, *args, **kwargs)

    folder = tempfile.mkdtemp(prefix="kt-full-size-")
    try:
        tuner = Tuner(build, objective="val_accuracy", max_trials=1, seed=seed, overwrite=True,
                      directory=folder, project_name="full_size")  # fmt: skip
        start = time.perf_counter()
        while time.perf_counter() - start < seconds:  # one more trial per call, to the budget
            tuner.oracle.max_trials = len(tuner.oracle.trials) + 1
            tuner.search(X[:N_TRAIN], y[:N_TRAIN], epochs=1, verbose=0,
                         validation_data=(X[N_TRAIN:], y[N_TRAIN:]))  # fmt: skip
        elapsed = time.perf_counter() - start
        best = tuner.oracle.get_best_trials(1)[0].score
        return {"trials": len(tuner.oracle.trials), "seconds": elapsed, "best_accuracy": float(best)}
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _child(method, seconds, seed):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if method.startswith("sk_hpo"):
        return _ours(int(method[-1]), seconds, seed)
    return _keras_tuner(seconds, seed)


class TreeMemory:
    """Peak RSS (MiB) of a process and of each of its descendants."""

    def __init__(self, pid, period=1.0):
        import psutil

        self.root, self.period, self.peak = psutil.Process(pid), period, {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self):
        import psutil

        while not self._stop.is_set():
            try:
                processes = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            for process in processes:
                try:
                    rss = process.memory_info().rss / 2**20
                except psutil.Error:
                    continue
                key = "search" if process.pid == self.root.pid else process.pid
                self.peak[key] = max(self.peak.get(key, 0.0), rss)
            self._stop.wait(self.period)

    def stop(self):
        self._stop.set()
        self._thread.join()


def run(method, seconds, seed):
    code = (
        "import json; from benchmarks.keras_full_size import _child; "
        f"print(json.dumps(_child({method!r}, {seconds}, {seed})))"
    )
    env = dict(os.environ, OMP_NUM_THREADS="1" if method.endswith("n_jobs=2") else "2")
    process = subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)  # fmt: skip
    memory = TreeMemory(process.pid)
    out, err = process.communicate()
    memory.stop()
    if process.returncode:
        raise SystemExit(f"{method} failed:\n{err[-3000:]}")
    result = json.loads(out.strip().splitlines()[-1])
    search = memory.peak.pop("search", 0.0)
    # Worker processes: the ones that held more than a bare Python (loky's
    # resource tracker and the like stay under 100 MiB).
    workers = sorted((v for v in memory.peak.values() if v > 100), reverse=True)
    return dict(result, method=method, trials_per_hour=3600 * result["trials"] / result["seconds"],
                search_mib=search, worker_mib=workers)  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, default=5.0, help="wall-clock budget per method")
    parser.add_argument("--methods", nargs="+", default=list(METHODS), choices=METHODS)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    rows = []
    for method in args.methods:
        rows.append(run(method, 60 * args.minutes, args.seed))
        print(json.dumps(rows[-1]), flush=True)
    from .run import command_line

    record = {
        "machine": f"{platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "date": time.strftime("%Y-%m-%d"), "command": command_line("benchmarks.keras_full_size", argv),
        "minutes": args.minutes, "images": N_IMAGES, "rows": rows,
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keras_full_size.json").write_text(json.dumps(record, indent=1) + "\n")
    lines = [
        "# Keras searches at MNIST size: 60,000 images of 28x28", "",
        f"{record['machine']}; {args.minutes:g} minutes of wall clock per method, one epoch "
        f"per trial, 48,000 / 12,000 holdout; `{record['command']}`, {record['date']}.  "
        "The data is 188 MiB as float32.", "",
        "| method | trials | trials / hour | best val. accuracy | search process MiB | worker MiB |",
        "|---|---|---|---|---|---|",
    ]  # fmt: skip
    for row in rows:
        workers = ", ".join(f"{v:.0f}" for v in row["worker_mib"]) or "-"
        lines.append(
            f"| {row['method']} | {row['trials']} | {row['trials_per_hour']:.0f} "
            f"| {row['best_accuracy']:.4f} | {row['search_mib']:.0f} | {workers} |"
        )
    (args.out / "keras_full_size.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
