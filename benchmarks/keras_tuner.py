"""Our searches against KerasTuner on its own job: ``python -m benchmarks.keras_tuner``.

The task (chosen before any search ran on it; only its difficulty was
checked, with two hand-set networks): scikit-learn's 1797 digits split by
original image into train / validation / test (600 / 450 / 447 originals),
each image copied with a random one-pixel shift and Gaussian noise
(sigma = 0.25 on [0, 1] intensities): 4 copies per training image, 2 per
validation and test image, so 2400 / 900 / 894 images whose copies never
cross a split.  A hand-set network reaches 0.77-0.85 test accuracy on it,
and the learning rate alone moves that by several points.

Two networks, the same space written in each tool's API: ``dense``
(1-3 hidden layers with units and dropout per layer, activation) and
``conv`` (1-2 convolution blocks with filters per block, kernel size, 1-2
dense layers with units per layer, dropout), both with the optimizer
(adam / rmsprop / sgd), its learning rate, batch size and epochs (5-20), and
``EarlyStopping(patience=3)``.  The models are built by the same functions
(``sk_hpo.keras.dense_network`` / ``conv_network``) for every method.

Protocol: every method searches with the same holdout, the validation
split; KerasTuner as its documentation shows it (``validation_data=``,
``EarlyStopping`` on it, the best epoch's ``val_accuracy`` as the
objective), ours with ``cv=PredefinedSplit`` (train against validation)
and the network's own ``validation_split=0.15`` for early stopping.  Our
``BayesSearchCV`` also runs with 3-fold CV over train + validation.  After
each search, the configuration each method would return (KerasTuner's
``get_best_hyperparameters``; our ``best_params_``, full-resource for the
multi-fidelity searches) at several wall-time budgets is retrained the
same way for every method (train split, early stopping on the validation
split, the run's seed) and scored on the test split.  Budgets: 20
configurations for the full-resource searches; the multi-fidelity ones
(``resource="epochs"``, 2 / 6 / 18 epochs, with and without
``hyperband=True``, promoted candidates continuing from their last rung)
and KerasTuner's ``Hyperband`` (``max_epochs=18``,
``factor=3``, one iteration: 30 configurations and about 180 epochs,
against about 200 for 20 full-resource configurations; two iterations, tried
first, doubled that) start about as many as fill the same number of epochs.
Runs go two at a time, one TensorFlow thread each.  The wall-time budgets
are fractions of KerasTuner ``RandomSearch``'s mean wall time in the same
run; seeds added later with ``--merge`` get those of their own run, since
the machine's speed varies between sessions.

Needs the ``keras`` and ``bench`` extras (``keras-tuner`` and
``tensorboard``).  Results: ``benchmarks/results/keras_tuner.{md,json}``.
"""

import argparse
import json
import os
import platform
import shutil
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np
from joblib import Parallel, delayed

RESULTS = Path(__file__).resolve().parent / "results"
N_TRIALS = 20
MAX_EPOCHS = 18
KT_METHODS = ["kt.RandomSearch", "kt.BayesianOptimization", "kt.Hyperband"]
OUR_METHODS = [
    "sk_hpo.TPESearchCV", "sk_hpo.BayesSearchCV", "sk_hpo.TPESearchCV(resource)",
    "sk_hpo.TPESearchCV(hyperband)", "sk_hpo.BayesSearchCV(cv=3)",
]  # fmt: skip
OPTIONAL = ["sk_hpo.GeneticSearchCV", "sk_hpo.RandomSearchCV"]
METHODS = KT_METHODS + OUR_METHODS
NETWORKS = ("dense", "conv")
# Wall-time budgets, as fractions of KerasTuner RandomSearch's mean wall time.
TIME_FRACTIONS = (0.25, 0.5, 1.0)


# -- the task ------------------------------------------------------------------
def _shift_and_noise(X, y, copies, rng, noise=0.25):
    images = X.reshape(-1, 8, 8) / 16.0
    out, labels = [], []
    for _ in range(copies):
        shifts = rng.integers(-1, 2, size=(len(images), 2))
        for image, (dy, dx), label in zip(images, shifts, y):
            moved = np.zeros_like(image)
            src = image[max(0, -dy): 8 - max(0, dy), max(0, -dx): 8 - max(0, dx)]
            moved[max(0, dy): max(0, dy) + src.shape[0], max(0, dx): max(0, dx) + src.shape[1]] = src
            out.append(moved)
            labels.append(label)
    out = np.clip(np.array(out) + rng.normal(0.0, noise, (len(out), 8, 8)), 0.0, 1.0)
    return out.reshape(len(out), 64).astype("float32"), np.array(labels)


def load_task():
    """Train, validation and test splits of the noisy shifted digits (fixed, seed 0)."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    X, y = load_digits(return_X_y=True)
    index = np.arange(len(y))
    train, rest = train_test_split(index, train_size=600, stratify=y, random_state=0)
    val, test = train_test_split(rest, train_size=450, stratify=y[rest], random_state=0)
    rng = np.random.default_rng(0)
    parts = {}
    for name, rows, copies in (("train", train, 4), ("val", val, 2), ("test", test, 2)):
        parts[name] = _shift_and_noise(X[rows], y[rows], copies, rng)
    return parts


# -- the space, in both APIs ---------------------------------------------------
def our_space(network):
    from sk_hpo import Integer, PerLayer, Real

    common = {
        "optimizer": ["adam", "rmsprop", "sgd"],
        "optimizer__learning_rate": Real(1e-4, 1e-1, prior="log-uniform"),
        "batch_size": [32, 64, 128],
        "epochs": Integer(5, 20),
    }
    if network == "dense":
        return {
            "model__n_layers": Integer(1, 3),
            "model__units": PerLayer(Integer(32, 256, step=32)),
            "model__dropout": PerLayer(Real(0.0, 0.5)),
            "model__activation": ["relu", "elu", "tanh"],
            **common,
        }
    return {
        "model__n_conv_layers": Integer(1, 2),
        "model__filters": PerLayer(Integer(8, 64, step=8), count="model__n_conv_layers"),
        "model__kernel_size": [3, 5],
        "model__n_dense_layers": Integer(1, 2),
        "model__dense_units": PerLayer(Integer(32, 256, step=32), count="model__n_dense_layers"),
        "model__dropout": Real(0.0, 0.5),
        **common,
    }


def kt_hyperparameters(hp, network):
    """The same space in KerasTuner's API, as its users write it; canonical names."""
    params = {}
    if network == "dense":
        params["n_layers"] = hp.Int("n_layers", 1, 3)
        for i in range(params["n_layers"]):
            params[f"units_{i}"] = hp.Int(f"units_{i}", 32, 256, step=32)
            params[f"dropout_{i}"] = hp.Float(f"dropout_{i}", 0.0, 0.5)
        params["activation"] = hp.Choice("activation", ["relu", "elu", "tanh"])
    else:
        params["n_conv_layers"] = hp.Int("n_conv_layers", 1, 2)
        for i in range(params["n_conv_layers"]):
            params[f"filters_{i}"] = hp.Int(f"filters_{i}", 8, 64, step=8)
        params["kernel_size"] = hp.Choice("kernel_size", [3, 5])
        params["n_dense_layers"] = hp.Int("n_dense_layers", 1, 2)
        for i in range(params["n_dense_layers"]):
            params[f"dense_units_{i}"] = hp.Int(f"dense_units_{i}", 32, 256, step=32)
        params["dropout"] = hp.Float("dropout", 0.0, 0.5)
    params["optimizer"] = hp.Choice("optimizer", ["adam", "rmsprop", "sgd"])
    params["learning_rate"] = hp.Float("learning_rate", 1e-4, 1e-1, sampling="log")
    return params


def canonical(params):
    """Our parameter names as KerasTuner's: without the routing prefixes."""
    return {name.removeprefix("model__").removeprefix("optimizer__"): value
            for name, value in params.items()}  # fmt: skip


def build(network, params, n_features=64):
    """The network of canonical ``params``, compiled: the same function for every method."""
    import keras

    from sk_hpo.keras import conv_network, dense_network

    builder = dense_network if network == "dense" else conv_network
    meta = {"X_shape_": (1, n_features), "n_classes_": 10, "target_type_": "multiclass"}
    optimizer = keras.optimizers.get(
        {"class_name": params["optimizer"], "config": {"learning_rate": params["learning_rate"]}})
    arguments = {k: v for k, v in params.items()
                 if k not in ("optimizer", "learning_rate", "batch_size", "epochs")}  # fmt: skip
    return builder(meta, {"optimizer": optimizer, "metrics": ["accuracy"]}, **arguments)


_EPOCHS = [0]


def _epoch_counter():
    # A class of this module, found by its name: a network pickled between
    # rungs (continuation) keeps counting into _EPOCHS, not into a copy.
    cls = globals().get("EpochCounter")
    if cls is None:
        import keras

        class EpochCounter(keras.callbacks.Callback):
            def on_epoch_end(self, epoch, logs=None):
                _EPOCHS[0] += 1

        EpochCounter.__qualname__ = "EpochCounter"
        cls = globals()["EpochCounter"] = EpochCounter
    return cls()


def _early_stopping():
    import keras

    return keras.callbacks.EarlyStopping(monitor="val_loss", patience=3, restore_best_weights=True)


# -- one search ---------------------------------------------------------------
def _kt_run(method, network, seed, task, n_trials):
    import keras_tuner as kt

    class Net(kt.HyperModel):
        def build(self, hp):
            return build(network, kt_hyperparameters(hp, network))

        def fit(self, hp, model, *args, **kwargs):
            kwargs["batch_size"] = hp.Choice("batch_size", [32, 64, 128])
            if method != "kt.Hyperband":  # Hyperband sets the epochs itself
                kwargs["epochs"] = hp.Int("epochs", 5, 20)
            return model.fit(*args, **kwargs)

    ends = []

    def record(tuner_class):
        class Timed(tuner_class):
            def on_trial_end(self, trial):
                super().on_trial_end(trial)
                ends.append((time.perf_counter(), trial.trial_id))

        return Timed

    directory = tempfile.mkdtemp(prefix="kt_bench_")
    common = {"objective": "val_accuracy", "seed": seed, "directory": directory,
              "project_name": "p", "overwrite": True}  # fmt: skip
    if method != "kt.Hyperband":
        tuner_class = {"kt.RandomSearch": kt.RandomSearch, "kt.BayesianOptimization": kt.BayesianOptimization}
        tuner = record(tuner_class[method])(Net(), max_trials=n_trials, **common)
    else:
        tuner = record(kt.Hyperband)(Net(), max_epochs=MAX_EPOCHS, factor=3,
                                     hyperband_iterations=1, **common)  # fmt: skip
    X, y = task["train"]
    start = time.perf_counter()
    try:
        tuner.search(X, y, validation_data=task["val"], epochs=MAX_EPOCHS, verbose=0,
                     callbacks=[_early_stopping(), _epoch_counter()])  # fmt: skip
        trials = []
        for t, trial_id in ends:
            trial = tuner.oracle.trials[trial_id]
            values = dict(trial.hyperparameters.values)
            # KerasTuner's rule for the best: the best objective over all trials.
            trials.append({"end": t - start, "score": trial.score, "params": _kt_params(values, network),
                           "level": values.get("tuner/epochs")})  # fmt: skip
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return trials, time.perf_counter() - start


def _kt_params(values, network):
    """A KerasTuner trial's values, only those of the layers it has (its epochs if Hyperband's):
    the space replayed through the trial's values."""
    params = kt_hyperparameters(_ReplayHP(values), network)
    params["batch_size"] = values["batch_size"]
    params["epochs"] = values.get("epochs", values.get("tuner/epochs"))
    return params


class _ReplayHP:
    """Answers ``hp.Int`` / ``hp.Float`` / ``hp.Choice`` from recorded values."""

    def __init__(self, values):
        self.values = values

    def Int(self, name, *args, **kwargs):
        return self.values[name]

    Float = Choice = Int


def _our_run(method, network, seed, task, n_trials):
    from sklearn.model_selection import PredefinedSplit

    from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, TPESearchCV
    from sk_hpo.keras import KerasClassifier

    Xtr, ytr = task["train"]
    Xva, yva = task["val"]
    X, y = np.vstack([Xtr, Xva]), np.concatenate([ytr, yva])
    holdout = PredefinedSplit(np.r_[np.full(len(ytr), -1), np.zeros(len(yva), dtype=int)])
    net = KerasClassifier(
        model=network, loss="sparse_categorical_crossentropy", validation_split=0.15,
        callbacks=[_early_stopping(), _epoch_counter()], random_state=seed,
    )  # fmt: skip
    space = our_space(network)
    kwargs = {"n_iter": n_trials, "cv": holdout, "random_state": seed, "n_jobs": 1}
    name = method.removeprefix("sk_hpo.")
    if name == "BayesSearchCV(cv=3)":
        cls, kwargs["cv"] = BayesSearchCV, 3
    elif name.startswith("TPESearchCV("):
        cls = TPESearchCV
        del space["epochs"]
        net.set_params(epochs=MAX_EPOCHS)
        # 6 brackets of 9 started candidates at 2 / 6 / 18 epochs, promoted
        # candidates continuing (9 x 2 + 3 x 4 + 1 x 12 = 42 epochs a bracket):
        # 252 epochs without early stopping, as 20 full-resource candidates at
        # 5-20 epochs (250).  Before continuation: 5 brackets of 54 epochs.
        kwargs.update(resource="epochs", min_resources=2, factor=3,
                      n_iter=max(9, 9 * round(54 / 9 * n_trials / N_TRIALS)),
                      hyperband=name == "TPESearchCV(hyperband)")  # fmt: skip
    else:
        cls = {"TPESearchCV": TPESearchCV, "BayesSearchCV": BayesSearchCV,
               "GeneticSearchCV": GeneticSearchCV, "RandomSearchCV": RandomSearchCV}[name]  # fmt: skip
        if cls is GeneticSearchCV:
            kwargs["population_size"] = 5
    times = []
    kwargs["callbacks"] = [lambda state: times.append((time.perf_counter(), state.n_evaluated)) and False]
    search = cls(net, space, **kwargs)
    start = time.perf_counter()
    search.fit(X, y)
    wall = time.perf_counter() - start
    results = search.cv_results_
    n = len(results["params"])
    ends = np.full(n, wall)
    done = 0
    for t, count in times:
        ends[done:count] = t - start
        done = count
    levels = results.get("n_resources", [None] * n)
    trials = []
    for i in range(n):
        params = canonical(results["params"][i])
        if levels[i] is not None:
            params["epochs"] = int(levels[i])
        score = results["mean_test_score"][i]
        trials.append({"end": float(ends[i]), "score": None if not np.isfinite(score) else float(score),
                       "params": params, "level": None if levels[i] is None else int(levels[i])})  # fmt: skip
    return trials, wall


def _multi_fidelity(method):
    """Ours with ``resource=``: the best is taken at the highest level reached."""
    return "resource" in method or "hyperband" in method


def best_at(trials, t, multi_fidelity):
    """The configuration a method returns when stopped at ``t`` seconds."""
    done = [tr for tr in trials if tr["end"] <= t + 1e-9 and tr["score"] is not None]
    if multi_fidelity and done:
        top = max(tr["level"] for tr in done)  # ours: the best at the highest level reached
        done = [tr for tr in done if tr["level"] == top]
    if not done:
        return None
    return max(done, key=lambda tr: tr["score"])


def test_accuracy(network, params, task, seed):
    """Retrain ``params`` on the train split (early stopping on validation) and score the test split."""
    import keras

    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)
    model = build(network, params)
    model.fit(*task["train"], validation_data=task["val"], epochs=int(params["epochs"]),
              batch_size=int(params["batch_size"]), callbacks=[_early_stopping()], verbose=0)  # fmt: skip
    return float(model.evaluate(*task["test"], verbose=0)[1])


def one_run(method, network, seed, n_trials=N_TRIALS):
    import warnings

    warnings.simplefilter("ignore")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    task = load_task()
    _EPOCHS[0] = 0
    try:
        run = _kt_run if method.startswith("kt.") else _our_run
        trials, wall = run(method, network, seed, task, n_trials)
    except Exception as exc:  # noqa: BLE001 - a crash is a result to report
        return {"method": method, "network": network, "seed": seed,
                "error": f"{type(exc).__name__}: {str(exc)[:300]}"}  # fmt: skip
    return {"method": method, "network": network, "seed": seed, "trials": trials,
            "wall": wall, "epochs": _EPOCHS[0]}  # fmt: skip


def score_runs(runs, seed_budgets):
    """Test accuracy of each run's returned configuration at each budget (retrained once per configuration)."""
    task = load_task()
    cache = {}
    for run in runs:
        if "trials" not in run:
            continue
        mf = _multi_fidelity(run["method"])
        run["test"] = {}
        for label, t in seed_budgets[run["network"]] + [("end", run["wall"])]:
            best = best_at(run["trials"], t, mf)
            if best is None:
                run["test"][label] = None
                continue
            key = (run["network"], run["seed"], json.dumps(best["params"], sort_keys=True))
            if key not in cache:
                cache[key] = test_accuracy(run["network"], best["params"], task, run["seed"])
            run["test"][label] = cache[key]


def _interval(values, rng, n=2000):
    values = np.asarray(values, dtype=float)
    means = rng.choice(values, size=(n, len(values))).mean(axis=1)
    return np.percentile(means, [2.5, 97.5])


def render(raw, out):
    runs, methods = raw["runs"], raw["methods"]
    rng = np.random.default_rng(0)
    lines = [
        "# Our searches against KerasTuner on its own job",
        "",
        f"{raw['date']}, {raw['machine']}, `{raw['command']}`; {raw['versions']}.",
        *[f"Merged {m['date']} (a run replaces one of the same method, network and seed): "
          f"{', '.join(m['methods'])} "
          f"on {', '.join(m['networks'])}, seeds {m.get('seeds', raw['seeds'])} "
          f"(`{m['command']}`, {m['seconds']:.0f} s)."
          for m in raw.get("merged", [])],
        "",
        "Noisy one-pixel-shifted digits (2400 training, 900 validation, 894 test images; see "
        "`benchmarks/keras_tuner.py`), seeds " + f"{raw['seeds']}. Test accuracy of the "
        "configuration each method returns when stopped at the wall-time budget, retrained the "
        "same way for all; mean over seeds with a 95% bootstrap interval. Budgets are fractions "
        "of KerasTuner RandomSearch's mean wall time on that network (seconds in brackets); "
        "`end`: at the end of the method's own run.",
    ]
    for network in raw["networks"]:
        budgets = raw["budgets"][network]
        lines += ["", f"## {network} network", ""]
        ran = sorted({r["seed"] for r in runs if r["network"] == network})
        # Seeds merged from another run of the machine have budgets of their own.
        groups = {}
        for seed in ran:
            groups.setdefault(tuple(t for _, t in seed_budgets(raw, network, seed)), []).append(seed)
        if len(groups) > 1:
            lines += ["Budgets in seconds by seeds, each the same fractions of that run's "
                      "RandomSearch (the machine's speed differed between the runs): "
                      + "; ".join(f"seeds {', '.join(map(str, s))}: "
                                  + " / ".join(f"{t:.0f}" for t in times) + " s"
                                  for times, s in groups.items()) + ". The wall-time column "
                      "averages over them.", ""]  # fmt: skip
        if ran != sorted(raw["seeds"]):
            lines += [f"Seeds run on this network: {ran}.", ""]
        # One set of budgets (whichever run's they are) goes in the header.
        times = next(iter(groups)) if len(groups) == 1 else [None] * len(budgets)
        head = ("| method | " + " | ".join(
            f"test acc. at {label}" + (f" ({t:.0f} s)" if t is not None else "")
            for (label, _), t in zip(budgets, times))
                + " | test acc. at end | wall s | epochs trained | configurations | best validation |")  # fmt: skip
        lines += [head, "|---" * (len(budgets) + 6) + "|"]
        for method in methods:
            mine = [r for r in runs if r["method"] == method and r["network"] == network and "test" in r]
            if not mine:
                continue
            cells = []
            for label, _ in budgets + [("end", None)]:
                values = [r["test"][label] for r in mine]
                if any(v is None for v in values):
                    cells.append("(nothing yet)")
                    continue
                lo, hi = _interval(values, rng)
                cells.append(f"{np.mean(values):.4f} [{lo:.4f}, {hi:.4f}]")
            wall = np.mean([r["wall"] for r in mine])
            epochs = np.mean([r["epochs"] for r in mine])
            n_conf = np.mean([len(r["trials"]) for r in mine])
            mf = _multi_fidelity(method)
            best_val = np.mean([best_at(r["trials"], r["wall"], mf)["score"] for r in mine])
            name = f"**{method}**" if method.startswith("sk_hpo") else method
            lines.append(f"| {name} | " + " | ".join(cells)
                         + f" | {wall:.0f} | {epochs:.0f} | {n_conf:.0f} | {best_val:.4f} |")  # fmt: skip
        spread = _random_spread(runs, network)
        if spread:
            lines += ["", spread]
    errors = [f"- {r['method']} {r['network']} seed {r['seed']}: {r['error']}" for r in runs if "error" in r]
    if errors:
        lines += ["", "Failed runs:", *errors]
    lines += ["", f"Total {raw['seconds']:.0f} s."]
    text = "\n".join(lines) + "\n"
    (out / "keras_tuner.md").write_text(text)
    return text


def _random_spread(runs, network):
    """How far random search's end lies from the best any method found: the task discriminates."""
    ends = [r["test"]["end"] for r in runs if r["network"] == network and "test" in r]
    random = [r["test"]["end"] for r in runs
              if r["network"] == network and r["method"] == "kt.RandomSearch" and "test" in r]  # fmt: skip
    if not ends or not random:
        return None
    n_test = 894
    best, median = max(ends), float(np.median(random))
    return (f"Random search's median test accuracy at the end, {median:.4f}, is "
            f"{(best - median) * n_test:.0f} test images below the best final model of any run "
            f"({best:.4f}); one image is {1 / n_test:.4f}.")  # fmt: skip


def main(argv=None):
    from .keras_search import _keras_versions
    from .run import _versions, command_line

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=4)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="seeds are first-seed, first-seed + 1, ... (with --merge: more seeds)")
    parser.add_argument("--n-trials", type=int, default=N_TRIALS,
                        help="configurations of the full-resource searches (smaller: a smoke test)")
    parser.add_argument("--methods", nargs="*", default=METHODS)
    parser.add_argument("--networks", nargs="*", default=list(NETWORKS), choices=NETWORKS)
    parser.add_argument("--n-jobs", type=int, default=2, help="searches in parallel")
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--render", type=Path, default=None, metavar="JSON",
                        help="measure nothing: rewrite the table of a results JSON")  # fmt: skip
    parser.add_argument("--merge", type=Path, default=None, metavar="JSON",
                        help="rerun only --methods and put them in this results file in place of "
                             "their earlier runs; its other runs and its budgets are kept")  # fmt: skip
    args = parser.parse_args(argv)
    if args.render:
        print(render(json.loads(args.render.read_text()), args.render.parent))
        return
    unknown = sorted(set(args.methods) - set(METHODS + OPTIONAL))
    if unknown:
        parser.error(f"unknown method(s) {unknown}; known: {METHODS + OPTIONAL}")
    seeds = list(range(args.first_seed, args.first_seed + args.seeds))
    started = time.perf_counter()
    jobs = [delayed(one_run)(m, n, s, args.n_trials) for n in args.networks for s in seeds for m in args.methods]
    runs = Parallel(n_jobs=args.n_jobs, verbose=5)(jobs)
    if args.merge:
        return _merge(args, runs, seeds, started, argv)
    budgets = _budgets(runs, args.networks)
    scored = Parallel(n_jobs=args.n_jobs)(
        delayed(_score_group)([r for r in runs if (r["network"], r["seed"]) == key], budgets)
        for key in sorted({(r["network"], r["seed"]) for r in runs}))  # fmt: skip
    runs = [r for group in scored for r in group]
    raw = {
        "date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "versions": _versions() + _keras_versions() + _kt_version(), "seeds": seeds,
        "methods": args.methods, "networks": args.networks, "budgets": budgets, "runs": runs,
        "n_trials": args.n_trials,
        "seconds": time.perf_counter() - started, "command": command_line("benchmarks.keras_tuner", argv),
    }  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "keras_tuner.json").write_text(json.dumps(raw, indent=1))
    print(render(raw, args.out))


def _budgets(runs, networks):
    """Wall-time budgets per network: ``TIME_FRACTIONS`` of KerasTuner
    RandomSearch's mean wall time in ``runs``."""
    budgets = {}
    for network in networks:
        walls = [r["wall"] for r in runs
                 if r["network"] == network and r["method"] == "kt.RandomSearch" and "wall" in r]  # fmt: skip
        reference = np.mean(walls) if walls else max(r.get("wall", 0) for r in runs)
        budgets[network] = [(f"{f:g}x", f * reference) for f in TIME_FRACTIONS]
    return budgets


def seed_budgets(raw, network, seed):
    """The budgets a seed's runs were scored with: the file's, or, for seeds
    merged in from another run of the machine, that run's own."""
    own = raw.get("seed_budgets", {}).get(network, {}).get(str(seed))
    return [tuple(b) for b in (own or raw["budgets"][network])]


def _merge(args, runs, seeds, started, argv):
    """Score ``runs`` and put them in the results file ``args.merge``.

    Seeds new to the file, rerun with KerasTuner's RandomSearch, get budgets
    of their own, the same fractions of that RandomSearch's mean wall time:
    the machine's speed varies between sessions (1.9 times between
    2026-12-04 and 2026-12-06), and a budget in seconds would then not be
    the same share of a search for them.  Other runs take their seed's
    budgets.
    """
    from .run import command_line

    raw = json.loads(args.merge.read_text())
    known = {(r["network"], r["seed"]) for r in raw["runs"]}
    own = _budgets(runs, args.networks) if "kt.RandomSearch" in args.methods else {}
    budgets = {}
    for network in args.networks:
        for seed in seeds:
            if network in own and (network, seed) not in known:
                budgets[network, seed] = own[network]
                raw.setdefault("seed_budgets", {}).setdefault(network, {})[str(seed)] = own[network]
            else:
                budgets[network, seed] = seed_budgets(raw, network, seed)
    scored = Parallel(n_jobs=args.n_jobs)(
        delayed(_score_group)([r for r in runs if (r["network"], r["seed"]) == key],
                              {key[0]: budgets[key]})
        for key in sorted({(r["network"], r["seed"]) for r in runs}))  # fmt: skip
    new = [r for group in scored for r in group]
    replaced = {(r["method"], r["network"], r["seed"]) for r in new}
    raw["runs"] = [r for r in raw["runs"]
                   if (r["method"], r["network"], r["seed"]) not in replaced] + new  # fmt: skip
    raw["seeds"] = sorted(set(raw["seeds"]) | set(seeds))
    raw.setdefault("merged", []).append({
        "date": time.strftime("%Y-%m-%d"), "methods": args.methods, "networks": args.networks,
        "seeds": seeds,
        "command": command_line("benchmarks.keras_tuner", argv),
        "seconds": time.perf_counter() - started,
    })  # fmt: skip
    args.merge.write_text(json.dumps(raw, indent=1))
    print(render(raw, args.merge.parent))


def _score_group(runs, budgets):
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    score_runs(runs, budgets)
    return runs


def _kt_version():
    from importlib.metadata import PackageNotFoundError, version

    try:
        return f", keras-tuner {version('keras-tuner')}"
    except PackageNotFoundError:
        return ", keras-tuner not installed"


if __name__ == "__main__":
    # Run as the importable module, not as ``__main__``: joblib's workers then
    # import this module's functions, and a network pickled between rungs
    # (continuation) finds the same ``EpochCounter`` and counts into the
    # worker's ``_EPOCHS`` (cloudpickle copies classes of ``__main__`` with
    # their own globals, which lost the epochs of continued rungs).
    from benchmarks.keras_tuner import main as _main

    _main()
