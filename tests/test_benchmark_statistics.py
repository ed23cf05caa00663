"""The statistics the benchmark reports (``benchmarks/run.py``)."""

import json

import numpy as np
import pytest

from benchmarks.run import keep_seeds, peer_difference, pool, render, replace


def test_peer_difference_cannot_separate_draws_of_one_distribution():
    rng = np.random.default_rng(0)
    ours = [rng.normal(50, 20, size=5) for _ in range(11)]
    peer = [rng.normal(50, 20, size=5) for _ in range(11)]
    diff, low, high, share = peer_difference(ours, peer, np.random.default_rng(1))
    assert low < 0 < high
    assert 0.1 < share < 0.9
    assert low <= diff <= high


def test_peer_difference_separates_a_consistent_lead():
    rng = np.random.default_rng(0)
    peer = [rng.normal(50, 5, size=5) for _ in range(11)]
    ours = [v + 30 for v in peer]
    diff, low, high, share = peer_difference(ours, peer, np.random.default_rng(1))
    assert diff == pytest.approx(30)
    assert 0 < low < 30 < high
    assert share == 1.0


def _results(seeds, methods, mode="full"):
    runs = [{"method": m, "task": "branin", "seed": s, "scores": [0.0]} for m in methods for s in seeds]
    return {
        "mode": mode, "seeds": seeds, "methods": methods, "tasks": ["branin"], "budgets": [30, 60],
        "quality": runs, "versions": "", "date": "", "machine": "", "sizes": [10],
        "seconds": {"quality and overhead": 10.0, "total": 12.0}, "overhead": [{}],
    }


def test_pool_keeps_the_common_methods_and_all_seeds():
    raw = pool([_results([0, 1], ["RandomizedSearchCV", "a", "b"]),
                _results([5, 6], ["RandomizedSearchCV", "b"], mode="full-seeds5-6")], "cmd")
    assert raw["mode"] == "full-seeds0-6"
    assert raw["seeds"] == [0, 1, 5, 6]
    assert raw["methods"] == ["RandomizedSearchCV", "b"]
    assert len(raw["quality"]) == 8
    assert "overhead" not in raw
    assert raw["seconds"]["quality and overhead"] == 20.0


def test_pool_refuses_shared_seeds():
    with pytest.raises(ValueError, match="share seeds"):
        pool([_results([0, 1], ["a"]), _results([1, 2], ["a"])], "cmd")


def test_pool_puts_the_methods_of_runs_of_the_same_seeds_side_by_side():
    first = _results([0, 1], ["RandomizedSearchCV", "a"])
    later = _results([0, 1], ["RandomizedSearchCV", "peer"])
    raw = pool([first, later], "cmd")
    assert raw["mode"] == "full-plus-peer"
    assert raw["seeds"] == [0, 1]
    assert raw["methods"] == ["RandomizedSearchCV", "a", "peer"]
    # The baseline once per seed, from the first results.
    assert len(raw["quality"]) == 6
    assert [r["method"] for r in raw["quality"]].count("RandomizedSearchCV") == 2


def test_pool_names_a_variant_without_a_colon_and_a_variant_alone_renders(tmp_path):
    first = _results([0, 1], ["RandomizedSearchCV", "a"])
    later = _results([0, 1], ["variant:a-b"])
    raw = pool([first, later], "cmd")
    assert raw["mode"] == "full-plus-variant_a-b"  # a file name on every system
    assert raw["methods"] == ["RandomizedSearchCV", "a", "variant:a-b"]
    # Variants run alone have no random search to normalise by: the tables
    # say nan and there is no plot, where the plot used to raise.
    for run in later["quality"]:
        run.update(scores=[-1.0] * 60, wall=1.0, fit=0.5)
    del later["overhead"]
    text = render(later, tmp_path)
    assert "variant:a-b" in text and "nan" in text
    assert not list(tmp_path.glob("*.png"))


def test_pool_side_by_side_refuses_a_baseline_that_differs():
    later = _results([0, 1], ["RandomizedSearchCV", "peer"])
    later["quality"][0]["scores"] = [1.0]
    with pytest.raises(ValueError, match="RandomizedSearchCV on branin, seed 0, has different"):
        pool([_results([0, 1], ["RandomizedSearchCV", "a"]), later], "cmd")


def test_pool_side_by_side_takes_another_machines_last_bits_and_non_best_scores():
    first = _results([0, 1], ["RandomizedSearchCV", "a"])
    later = _results([0, 1], ["RandomizedSearchCV", "peer"])
    for raw, scores in ((first, [0.5, 0.9, 0.7]), (later, [0.5 + 1e-16, 0.9, 0.6])):
        for run in raw["quality"]:
            run["scores"] = scores
    assert pool([first, later], "cmd")["methods"] == ["RandomizedSearchCV", "a", "peer"]
    later["quality"][0]["scores"] = [0.5, 0.91, 0.6]  # the best so far moved by 1e-2
    with pytest.raises(ValueError, match="has different scores"):
        pool([first, later], "cmd")


def test_replace_takes_a_rerun_method_from_the_first_results_only():
    rerun = _results([0, 1], ["RandomizedSearchCV", "ours"])
    earlier = _results([0, 1], ["RandomizedSearchCV", "ours", "peer"])
    for run in earlier["quality"]:
        if run["method"] == "ours":
            run["scores"] = [1.0]
    with pytest.raises(ValueError, match="ours on branin, seed 0, has different"):
        pool([rerun, earlier], "cmd")
    raw = pool(replace([rerun, earlier], ["ours"]), "cmd")
    assert raw["methods"] == ["RandomizedSearchCV", "ours", "peer"]
    assert [r["scores"] for r in raw["quality"] if r["method"] == "ours"] == [[0.0], [0.0]]
    assert earlier["methods"] == ["RandomizedSearchCV", "ours", "peer"]  # not modified
    with pytest.raises(ValueError, match="--replace missing: the first results did not run it"):
        replace([rerun, earlier], ["missing"])


def test_keep_seeds_puts_a_method_run_on_fewer_seeds_beside_the_others():
    few = _results([0, 1], ["RandomizedSearchCV", "slow peer"])
    many = _results([0, 1, 2, 3], ["RandomizedSearchCV", "ours"])
    with pytest.raises(ValueError, match="share seeds"):
        pool([few, many], "cmd")  # neither the same seeds nor different ones
    raw = pool(keep_seeds([few, many], [0, 1]), "cmd")
    assert raw["methods"] == ["RandomizedSearchCV", "slow peer", "ours"]
    assert sorted((r["method"], r["seed"]) for r in raw["quality"]) == [
        ("RandomizedSearchCV", 0), ("RandomizedSearchCV", 1), ("ours", 0), ("ours", 1),
        ("slow peer", 0), ("slow peer", 1)]  # fmt: skip
    assert raw["seeds"] == [0, 1] and raw["mode"].startswith("full-seeds0-1")
    assert len(many["quality"]) == 8  # not modified
    with pytest.raises(ValueError, match="results 1 has no seed 2"):
        keep_seeds([few, many], [0, 2])


def test_time_per_suggestion_is_measured_where_the_search_is_not_since_its_start():
    from benchmarks.scaling import per_suggestion

    # 1 ms per suggestion for 100 candidates, then 10 ms.
    gaps = [0.001] * 100 + [0.01] * 200
    stamps = list(np.cumsum(gaps))
    assert per_suggestion(stamps, 100) == pytest.approx(0.001)
    assert per_suggestion(stamps, 300) == pytest.approx(0.01)  # not the mean since the start
    assert per_suggestion(stamps, 301) is None  # not reached


def test_the_keras_and_multi_fidelity_suites_get_the_options_or_refuse_them(monkeypatch, capsys):
    import importlib
    import types

    from benchmarks.run import main

    received = {}

    def fake_import(name, package=None):  # the suites' modules need Keras; not imported here
        suite = {".keras_search": "keras", ".multi_fidelity": "mf"}[name]
        return types.SimpleNamespace(main=lambda argv: received.update({suite: argv}))

    monkeypatch.setattr(importlib, "import_module", fake_import)
    main(["--suites", "multi-fidelity", "--seeds", "2", "--tasks", "gbm-synthetic-acc",
          "--n-jobs", "1", "--out", "/tmp/x"])
    assert received["mf"] == ["--out", "/tmp/x", "--n-jobs", "1", "--seeds", "2",
                              "--tasks", "gbm-synthetic-acc"]
    main(["--suites", "keras", "--methods", "sk_hpo.TPESearchCV"])
    assert received["keras"][-2:] == ["--methods", "sk_hpo.TPESearchCV"]
    for argv, option in [
        (["--suites", "keras", "--first-seed", "5"], "--first-seed"),
        (["--suites", "keras", "--tasks", "keras-digits-acc"], "--tasks"),
        (["--suites", "multi-fidelity", "--methods", "TPE full"], "--methods"),
    ]:
        with pytest.raises(SystemExit):
            main(argv)
        assert f"does not take {option}" in capsys.readouterr().err


def test_the_multi_fidelity_budgets_reach_every_search_and_name_the_results(monkeypatch, tmp_path, capsys):
    from benchmarks import multi_fidelity

    budgets = set()

    def fake_run(method, task_name, seed, n_full, n_multi, keras_epochs, continuation):
        assert continuation == "auto"
        budgets.add((task_name, n_full, n_multi) + ((keras_epochs,) if task_name.startswith("keras") else ()))
        return {"method": method, "task": task_name, "seed": seed, "error": "not run"}

    monkeypatch.setattr(multi_fidelity, "_one_run", fake_run)
    multi_fidelity.main(["--tasks", "gbm-synthetic-acc", "--seeds", "1", "--n-full", "7",
                         "--n-multi", "30", "--keras-epochs", "27", "--n-jobs", "1", "--out", str(tmp_path)])  # fmt: skip
    assert budgets == {("gbm-synthetic-acc", 7, 30)}
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "multi_fidelity-full7-multi30.json", "multi_fidelity-full7-multi30.md"]  # fmt: skip
    assert "full-resource searches: 7 candidates" in (tmp_path / "multi_fidelity-full7-multi30.md").read_text()
    for argv, message in [
        (["--n-full", "0"], "--n-full must be >= 1, got 0"),
        (["--quick", "--n-multi", "9"], "does not take --n-full or --n-multi"),
        (["--keras-epochs", "8"], "--keras-epochs must be >= 9 (two resource levels from 3), got 8"),
    ]:
        with pytest.raises(SystemExit):
            multi_fidelity.main(argv)
        assert message in capsys.readouterr().err


def test_an_interrupted_multi_fidelity_benchmark_resumes_with_the_runs_it_finished(monkeypatch, tmp_path):
    from benchmarks import multi_fidelity

    calls = []

    def fake_run(method, task_name, seed, n_full, n_multi, keras_epochs, continuation):
        if len(calls) == 3 and not resuming:
            raise RuntimeError("stopped")  # during the fourth run
        calls.append((method, seed))
        return {"method": method, "task": task_name, "seed": seed, "error": "not run"}

    monkeypatch.setattr(multi_fidelity, "_one_run", fake_run)
    argv = ["--tasks", "gbm-synthetic-acc", "--seeds", "2", "--n-jobs", "1", "--out", str(tmp_path)]
    resuming = False
    with pytest.raises(RuntimeError, match="stopped"):
        multi_fidelity.main(argv)
    assert not (tmp_path / "multi_fidelity.json").exists()
    assert len((tmp_path / "multi_fidelity.partial.jsonl").read_text().splitlines()) == 3
    resuming, first = True, list(calls)
    multi_fidelity.main(argv + ["--resume"])
    # The three finished runs are kept, the other seven run once each.
    plan = [(m, s) for s in range(2) for m in multi_fidelity.METHODS]
    assert first == plan[:3] and calls[3:] == plan[3:]
    raw = json.loads((tmp_path / "multi_fidelity.json").read_text())
    assert [(r["method"], r["seed"]) for r in raw["runs"]] == plan and raw["resumed"] == 3
    assert not (tmp_path / "multi_fidelity.partial.jsonl").exists()


@pytest.mark.parametrize(
    "fixed, per_unit, continued, expected",
    [
        (0.0, 0.01, False, 4.0),  # time proportional to the resource: each of the 4 rungs costs one full fit
        (1.0, 0.0, False, 40.0),  # a fixed cost only: every one of the 27 + 9 + 3 + 1 fits costs a full one
        # Continued, a rung trains what its level adds: (27 x 9 + 9 x 18 + 3 x 54 + 162) / 243.
        (0.0, 0.01, True, 3.0),
        (1.0, 0.0, True, 40.0),  # ... which a fixed cost does not change
    ],
)
def test_the_bracket_is_priced_in_fits_at_full_resource(fixed, per_unit, continued, expected):
    from benchmarks.multi_fidelity import cost_lines

    task = {"name": "t", "min_resources": 9, "max_resources": 243, "n_full": 20}
    levels = [9, 27, 81, 243]
    trained = [9, 18, 54, 162] if continued else levels
    run = {"task": "t", "method": "TPE multi-fidelity", "resources": levels, "trained": trained,
           "continuation": "total" if continued else None,
           "fit_time": [fixed + per_unit * r for r in trained]}  # fmt: skip
    lines = cost_lines([run], task)
    assert ("| continued |" if continued else "| from scratch |") in lines[-1]
    assert "(27 at 9 / 9 at 27 / 3 at 81 / 1 at 243)" in lines[1]
    assert "a third of the 20-candidate full search's compute is 6.7" in lines[1]
    assert float(lines[-1].strip("|").split("|")[-1]) == pytest.approx(expected)


def test_the_keras_epochs_set_the_full_resource_and_name_the_results(monkeypatch, tmp_path):
    pytest.importorskip("keras")
    from benchmarks import multi_fidelity

    task = multi_fidelity.get_tasks(["keras-digits-acc"], keras_epochs=27)[0]
    assert (task.max_resources, task.n_multi) == (27, 27)  # three brackets of 9 / 3 / 1
    assert task.make_estimator().get_params()["net__epochs"] == 27
    default = multi_fidelity.get_tasks(["keras-digits-acc"])[0]
    assert (default.max_resources, default.n_multi) == (81, 81)

    runs = []
    monkeypatch.setattr(multi_fidelity, "_one_run", lambda *args: runs.append(args) or {
        "method": args[0], "task": args[1], "seed": args[2], "error": "not run"})  # fmt: skip
    multi_fidelity.main(["--tasks", "keras-digits-acc", "--seeds", "1", "--keras-epochs", "27",
                         "--n-jobs", "1", "--out", str(tmp_path)])  # fmt: skip
    assert {args[3:] for args in runs} == {(20, 27, 27, "auto")}
    assert (tmp_path / "multi_fidelity-epochs27.md").exists()
    assert "Resource `net__epochs` from 3 to 27" in (tmp_path / "multi_fidelity-epochs27.md").read_text()


_FAKE_HEBO = '''
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if "space" in message:
        space, told = message["space"], 0
        reply = {"ready": True}
    elif "ask" in message:
        # One fixed point of each type: the middle, the lower bound, category "1".
        reply = {"params": {p["name"]: "1" if p["type"] == "cat" else
                            {"num": (p["lb"] + p["ub"]) / 2, "pow": p["lb"], "int": p["lb"],
                             "pow_int": p["ub"]}[p["type"]] for p in space}}
    else:
        assert set(message["tell"]) == {p["name"] for p in space}
        told += 1
        reply = {"told": told}
    print(json.dumps(reply), flush=True)
'''


def test_hebo_runs_in_its_own_environment_through_the_worker(monkeypatch, tmp_path):
    import sys

    from benchmarks import methods as M
    from benchmarks.tasks import get_tasks
    from sk_hpo import Categorical, Integer

    task = get_tasks(["mixed"])[0]
    monkeypatch.delenv(M.HEBO_PYTHON, raising=False)
    with pytest.raises(M.Unavailable, match="SK_HPO_HEBO_PYTHON"):
        M.run("hebo.HEBO", task, 3, 0)
    # The protocol, with a stand-in for HEBO that answers one fixed point.
    worker = tmp_path / "fake_hebo.py"
    worker.write_text(_FAKE_HEBO)
    monkeypatch.setattr(M, "HEBO_WORKER", worker)
    monkeypatch.setenv(M.HEBO_PYTHON, sys.executable)
    asked = []
    score = M._cross_validated

    def recording(task, X, y):
        inner, spent = score(task, X, y)
        return (lambda params: asked.append(params) or inner(params)), spent

    monkeypatch.setattr(M, "_cross_validated", recording)
    out = M.run("hebo.HEBO", task, 3, 0)
    assert len(out["scores"]) == 3 and np.isfinite(out["scores"]).all()
    expected = {}
    for name, dim in task.search_space.items():
        if isinstance(dim, Categorical):
            expected[name] = list(dim.categories)[1]
        elif dim.prior == "log-uniform":
            expected[name] = dim.high if isinstance(dim, Integer) else dim.low
        elif isinstance(dim, Integer):
            expected[name] = dim.low
        else:
            expected[name] = (dim.low + dim.high) / 2
    assert asked[0] == expected
    assert all(type(asked[0][n]) is int for n, d in task.search_space.items()
               if isinstance(d, Integer))  # fmt: skip
    # A worker that fails (HEBO missing from its environment, say) is named
    # with its own error.
    worker.write_text("import hebo_not_installed_here\n")
    with pytest.raises(RuntimeError, match="(?s)stopped.*hebo_not_installed_here"):
        M.run("hebo.HEBO", task, 3, 0)


def test_seeds_merged_from_another_run_of_the_machine_get_budgets_of_their_own(monkeypatch, tmp_path):
    # The KerasTuner suite's budgets are fractions of RandomSearch's mean wall
    # time; seeds run on another day, at another machine speed, take the
    # fractions of their own RandomSearch, and a method rerun on an old seed
    # keeps that seed's budgets.
    pytest.importorskip("keras")  # the suite's main reads the Keras versions
    from benchmarks import keras_tuner as kt

    walls = {"kt.RandomSearch": 50.0, "sk_hpo.BayesSearchCV": 40.0}

    def one_run(method, network, seed, n_trials):
        trial = {"end": 1.0, "score": 0.5, "level": 0, "params": {"units": seed}}
        return {"method": method, "network": network, "seed": seed, "trials": [trial],
                "wall": walls[method], "epochs": 10}  # fmt: skip

    scored_with = {}

    def score_group(runs, budgets):
        for run in runs:
            scored_with[run["method"], run["seed"]] = [t for _, t in budgets[run["network"]]]
            run["test"] = {label: 0.8 for label, _ in budgets[run["network"]] + [("end", 0)]}
        return runs

    monkeypatch.setattr(kt, "one_run", one_run)
    monkeypatch.setattr(kt, "_score_group", score_group)
    trial = {"end": 1.0, "score": 0.5, "level": 0, "params": {}}
    old = [{"method": m, "network": "conv", "seed": 0, "trials": [trial], "wall": 100.0, "epochs": 10,
            "test": {"0.25x": 0.7, "0.5x": 0.7, "1x": 0.7, "end": 0.7}} for m in walls]  # fmt: skip
    raw = {"date": "", "machine": "", "versions": "", "seeds": [0], "methods": list(walls),
           "networks": ["conv"], "budgets": {"conv": [["0.25x", 25.0], ["0.5x", 50.0], ["1x", 100.0]]},
           "runs": old, "n_trials": 2, "seconds": 1.0, "command": ""}  # fmt: skip
    path = tmp_path / "keras_tuner.json"
    path.write_text(json.dumps(raw))
    common = ["--networks", "conv", "--n-jobs", "1", "--merge", str(path), "--methods"]
    kt.main(common + list(walls) + ["--first-seed", "1", "--seeds", "1"])
    kt.main(common + ["sk_hpo.BayesSearchCV", "--first-seed", "0", "--seeds", "1"])
    assert scored_with[("kt.RandomSearch", 1)] == [12.5, 25.0, 50.0]
    assert scored_with[("sk_hpo.BayesSearchCV", 1)] == [12.5, 25.0, 50.0]
    assert scored_with[("sk_hpo.BayesSearchCV", 0)] == [25.0, 50.0, 100.0]
    merged = json.loads(path.read_text())
    assert kt.seed_budgets(merged, "conv", 1) == [("0.25x", 12.5), ("0.5x", 25.0), ("1x", 50.0)]
    assert kt.seed_budgets(merged, "conv", 0) == [("0.25x", 25.0), ("0.5x", 50.0), ("1x", 100.0)]
    text = (tmp_path / "keras_tuner.md").read_text()
    assert "seeds 0: 25 / 50 / 100 s; seeds 1: 12 / 25 / 50 s" in text
