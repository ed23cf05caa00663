"""A conv-net search on one GPU with 1, 2 and 4 workers: ``python -m benchmarks.gpu_check``.

The check of ``sk_hpo.keras``'s device handling on a machine with a GPU, in
a few minutes.  It builds MNIST-size data offline (28x28 images made from
scikit-learn's bundled 8x8 digits: scaled up, shifted and noised; never
downloaded), then runs the same ``TPESearchCV`` over a convolutional
network (``KerasClassifier(model="conv")``: filters, dense units, dropout,
learning rate, batch size) with ``n_jobs`` 1, 2 and 4 on the GPU, and once
with one worker on the CPU (``SK_HPO_GPUS=""``).  For each it reports
candidates per minute, the peak GPU memory of each worker process (from
``nvidia-smi``, sampled every half second) and the speed-up over the CPU.

Results: ``benchmarks/results/gpu_check.{json,md}``, with the GPU named.
Without a GPU (or without ``nvidia-smi``) it runs the CPU line alone and
says so, which checks the script itself.  ``--smoke`` makes everything
tiny, for that check.
"""

import argparse
import json
import os
import platform
import subprocess
import sys
import threading
import time
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def mnist_size(n, seed=0):
    """``n`` 28x28 images in [0, 1] and their labels, from the 8x8 digits:
    each digit scaled up 3x (24x24), placed at a random offset in the 28x28
    frame and given Gaussian noise."""
    import numpy as np
    from sklearn.datasets import load_digits

    digits, labels = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    pick = rng.integers(len(digits), size=n)
    big = np.kron(digits[pick].reshape(n, 8, 8) / 16.0, np.ones((3, 3)))
    images = np.zeros((n, 28, 28), dtype=np.float32)
    offsets = rng.integers(0, 5, size=(n, 2))
    for i, (dy, dx) in enumerate(offsets):
        images[i, dy:dy + 24, dx:dx + 24] = big[i]
    images += rng.normal(0, 0.1, size=images.shape).astype(np.float32)
    return np.clip(images, 0, 1)[..., None], labels[pick]


def gpu_name():
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=20, check=True)  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else None


class GPUMemory:
    """Peak GPU memory (MiB) of each process, sampled from ``nvidia-smi``."""

    def __init__(self, period=0.5):
        self.period, self.peak, self._stop = period, {}, threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        while not self._stop.is_set():
            try:
                out = subprocess.run(
                    ["nvidia-smi", "--query-compute-apps=pid,used_memory", "--format=csv,noheader,nounits"],
                    capture_output=True, text=True, timeout=10, check=True,
                ).stdout  # fmt: skip
            except (OSError, subprocess.SubprocessError):
                return
            for line in out.strip().splitlines():
                pid, used = (part.strip() for part in line.split(","))
                if pid.isdigit() and used.isdigit():
                    self.peak[int(pid)] = max(self.peak.get(int(pid), 0), int(used))
            self._stop.wait(self.period)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def run_search(n_jobs, n_iter, n_images, epochs, on_gpu):
    """One search in a fresh Python process (so the CPU line never sees the
    GPU, and each line starts TensorFlow anew); its timings as a dict."""
    env = dict(os.environ, SK_HPO_GPUS=os.environ.get("SK_HPO_GPUS", "0") if on_gpu else "")
    code = (
        "import json, sys; from benchmarks.gpu_check import _search; "
        f"print(json.dumps(_search({n_jobs}, {n_iter}, {n_images}, {epochs})))"
    )
    with GPUMemory() as memory:
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                             text=True, check=False)  # fmt: skip
    if out.returncode:
        raise SystemExit(f"the search with n_jobs={n_jobs} failed:\n{out.stderr[-3000:]}")
    result = json.loads(out.stdout.strip().splitlines()[-1])
    result["gpu_mib_per_process"] = sorted(memory.peak.values(), reverse=True)
    return result


def _search(n_jobs, n_iter, n_images, epochs):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import numpy as np

    from sk_hpo import Integer, Real, TPESearchCV
    from sk_hpo.keras import KerasClassifier

    X, y = mnist_size(n_images)
    split = int(0.8 * len(X))
    holdout = [(np.arange(split), np.arange(split, len(X)))]
    space = {
        "model__filters": [(32, 64), (64, 128)],
        "model__dense_units": [(64,), (256,)],
        "model__dropout": Real(0.0, 0.5),
        "optimizer__learning_rate": Real(1e-4, 1e-2, prior="log-uniform"),
        "batch_size": Integer(64, 256),
    }
    net = KerasClassifier(model="conv", epochs=epochs, optimizer="adam", random_state=0)
    search = TPESearchCV(net, space, n_iter=n_iter, cv=holdout, n_jobs=n_jobs, random_state=0,
                         refit=False, n_points=n_jobs)  # fmt: skip
    start = time.perf_counter()
    search.fit(X, y)
    seconds = time.perf_counter() - start
    return {
        "n_jobs": n_jobs, "n_iter": n_iter, "seconds": seconds,
        "candidates_per_minute": 60.0 * n_iter / seconds,
        "best_accuracy": float(search.best_score_),
    }  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--n-iter", type=int, default=8, help="candidates per GPU search")
    parser.add_argument("--cpu-n-iter", type=int, default=3, help="candidates of the CPU search")
    parser.add_argument("--images", type=int, default=20_000)
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes: checks the script")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    if args.smoke:
        args.images, args.n_iter, args.cpu_n_iter, args.epochs = 600, 2, 2, 1
    gpu = gpu_name()
    rows = [dict(run_search(1, args.cpu_n_iter, args.images, args.epochs, on_gpu=False), device="CPU")]
    if gpu is not None:
        for n_jobs in args.workers:
            n_iter = max(args.n_iter, n_jobs)
            rows.append(dict(run_search(n_jobs, n_iter, args.images, args.epochs, on_gpu=True), device="GPU"))
    cpu_rate = rows[0]["candidates_per_minute"]
    for row in rows:
        row["speed_up_over_cpu"] = row["candidates_per_minute"] / cpu_rate
    record = {
        "gpu": gpu, "machine": f"{platform.node()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "date": time.strftime("%Y-%m-%d"), "command": "python -m benchmarks.gpu_check "
        + " ".join(argv if argv is not None else sys.argv[1:]),
        "images": args.images, "epochs": args.epochs, "rows": rows,
    }  # fmt: skip
    name = "gpu_check-smoke" if args.smoke else "gpu_check"
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / f"{name}.json").write_text(json.dumps(record, indent=1) + "\n")
    lines = [
        f"# Conv-net search on one GPU: {gpu or 'no GPU found (CPU line only)'}", "",
        f"{record['machine']}; {args.images} images of 28x28, {args.epochs} epochs per "
        f"candidate, holdout of 20 %; `{record['command'].strip()}`, {record['date']}.", "",
        "| device | workers | candidates | seconds | candidates / minute | speed-up over CPU "
        "| peak GPU MiB per process |",
        "|---|---|---|---|---|---|---|",
    ]  # fmt: skip
    for row in rows:
        memory = ", ".join(map(str, row["gpu_mib_per_process"])) or "-"
        lines.append(
            f"| {row['device']} | {row['n_jobs']} | {row['n_iter']} | {row['seconds']:.0f} "
            f"| {row['candidates_per_minute']:.2f} | {row['speed_up_over_cpu']:.1f} | {memory} |"
        )
    (args.out / f"{name}.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
