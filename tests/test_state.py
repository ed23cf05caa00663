"""Stored algorithm state is data: exact round trips, and a hostile file runs nothing."""

import copy
import io
import json
import pickle
import sqlite3

import numpy as np
import pytest
from sklearn.model_selection import KFold

from sk_hpo import BayesSearchCV, GeneticSearchCV, RandomSearchCV, TPESearchCV
from sk_hpo._state import CLASSES, StateError, dumps, loads, settings
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data
from sk_hpo._tpe import TPE

BRANIN = FUNCTIONS["branin"].search_space
MIXED = FUNCTIONS["mixed"].search_space

SEARCHES = {
    "random": (RandomSearchCV, {"n_points": 2}),
    "tpe": (TPESearchCV, {"n_points": 2, "n_startup_trials": 4}),
    "tpe-multivariate": (TPESearchCV, {"n_points": 2, "n_startup_trials": 4, "multivariate": True}),
    "bayes": (BayesSearchCV, {"n_points": 2, "n_initial_points": 4}),
    "genetic": (GeneticSearchCV, {"population_size": 4}),
    "hyperband": (TPESearchCV, {
        "resource": "n_steps", "min_resources": 1, "max_resources": 9, "hyperband": True,
    }),
    "asha-bayes": (BayesSearchCV, {
        "resource": "n_steps", "min_resources": 1, "max_resources": 9, "n_points": 3,
    }),
}  # fmt: skip


def _fitted(kind, n_iter=12, space=BRANIN, **params):
    cls, defaults = SEARCHES[kind]
    function = "mixed" if space is MIXED else "branin"
    estimator = FunctionEstimator(function, step_noise=50.0)
    search = cls(estimator, space, n_iter=n_iter, cv=KFold(2), random_state=0,
                 **{**defaults, **params})  # fmt: skip
    return search.fit(*dummy_data())


def _externals(optimizer):
    return settings(optimizer.space, optimizer)


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_a_restored_algorithm_proposes_what_the_original_would(kind):
    calls = iter(range(100))
    # Stopped after three batches, mid-bracket for the multi-fidelity ones.
    optimizer = _fitted(kind, n_iter=30, callbacks=lambda state: next(calls) == 2).optimizer_
    document, arrays = dumps({"optimizer": optimizer}, _externals(optimizer))
    json.loads(document)  # plain JSON text
    with np.load(io.BytesIO(arrays), allow_pickle=False) as archive:
        assert all(archive[name].dtype != object for name in archive.files)
    original = copy.deepcopy(optimizer)
    restored = loads(document, arrays, _externals(optimizer))["optimizer"]
    assert type(restored) is type(original)
    assert restored.space is optimizer.space  # referred to, not copied
    if hasattr(original, "make_optimizer"):  # multi-fidelity: the engine sets it back
        restored.make_optimizer = original.make_optimizer = optimizer.make_optimizer
    first, second = original.ask(3), restored.ask(3)
    if isinstance(first, tuple):  # multi-fidelity: (level, points)
        assert first[0] == second[0]
        first, second = first[1], second[1]
    assert len(first) == len(second) == 3
    for a, b in zip(first, second):
        assert a.branch == b.branch
        np.testing.assert_array_equal(a.x, b.x)


def test_mixed_spaces_and_generators_round_trip_exactly():
    optimizer = _fitted("bayes", space=MIXED).optimizer_
    document, arrays = dumps({"optimizer": optimizer}, _externals(optimizer))
    restored = loads(document, arrays, _externals(optimizer))["optimizer"]
    assert restored.rng.bit_generator.state == optimizer.rng.bit_generator.state
    assert restored.told_keys == optimizer.told_keys
    np.testing.assert_array_equal(restored.gp.theta, optimizer.gp.theta)
    np.testing.assert_array_equal(restored.hedge.gains, optimizer.hedge.gains)


def test_shared_and_cyclic_objects_come_back_shared():
    shared = [1.5, np.float32(2.0), np.arange(3)]
    state = {"a": shared, "b": shared, (1, None): {"x"}, "rng": np.random.default_rng(7)}
    state["self"] = state
    back = loads(*dumps(state, {}), {})
    assert back["a"] is back["b"] and back["self"] is back
    assert back["a"][1].dtype == np.float32 and back[(1, None)] == {"x"}
    assert back["rng"].random() == np.random.default_rng(7).random()


class _Opaque:
    pass


@pytest.mark.parametrize(
    "value", [_Opaque(), np.array([object()], dtype=object), lambda: 1, b"bytes"]
)
def test_what_is_not_data_is_not_written(value):
    with pytest.raises(StateError, match="not stored"):
        dumps({"x": value}, {})


class _Payload:
    """Unpickling this creates ``path``: proof that a pickle was loaded."""

    def __init__(self, path):
        self.path = str(path)

    def __reduce__(self):
        return (open, (self.path, "w"))


def _pickle_npz(payload):
    buffer = io.BytesIO()
    np.savez(buffer, a0=np.array([payload], dtype=object), allow_pickle=True)
    return buffer.getvalue()


def test_hostile_documents_are_refused_and_run_nothing(tmp_path):
    marker = tmp_path / "ran"
    evil = pickle.dumps(_Payload(marker))
    good_document, good_arrays = dumps({"x": np.arange(2)}, {})
    cases = [
        (evil, good_arrays),
        (good_document, evil),
        (good_document, _pickle_npz(_Payload(marker))),
        ('{"format": 1, "state": {"$object": "system", "attributes": {"$dict": []}}}', b""),
        ('{"format": 1, "state": {"$generator": "os", "state": 1}}', b""),
        ('{"format": 1, "state": {"$external": "space"}}', b""),
        ('{"format": 1, "state": {"$scalar": ["O", 1]}}', b""),
        ('{"format": 1, "state": {"$ref": 3}}', b""),
        ('{"format": 2, "state": 1}', b""),
        ("[" * 100_000, b""),
        ("garbage", b"garbage"),
    ]
    for document, arrays in cases:
        with pytest.raises(StateError):
            loads(document, arrays, {})
    assert not marker.exists()


# -- the schema ---------------------------------------------------------------
def _objects(node):
    """Every ``$object`` entry of a parsed state document."""
    if isinstance(node, dict):
        if "$object" in node:
            yield node
        for value in node.values():
            yield from _objects(value)
    elif isinstance(node, list):
        for value in node:
            yield from _objects(value)


@pytest.mark.parametrize("kind", list(SEARCHES))
def test_a_state_holds_exactly_the_declared_fields(kind):
    optimizer = _fitted(kind).optimizer_
    document, _ = dumps({"optimizer": optimizer}, _externals(optimizer))
    objects = list(_objects(json.loads(document)))
    assert objects
    for entry in objects:
        cls = CLASSES[entry["$object"]]
        assert entry["format"] == cls.STATE_FORMAT
        names = {pair[0] for pair in entry["attributes"]["$dict"]}
        assert names <= set(cls.STATE_FIELDS)
    top = objects[0]
    assert top["$object"] == type(optimizer).__name__
    # An attribute outside the schema is not state.
    optimizer.scratch = object()
    assert dumps({"optimizer": optimizer}, _externals(optimizer))[0] == document


@pytest.mark.parametrize("change", ["format", "field"])
def test_a_state_of_another_schema_is_refused(change):
    optimizer = _fitted("bayes").optimizer_
    document, arrays = dumps({"optimizer": optimizer}, _externals(optimizer))
    parsed = json.loads(document)
    entry = next(e for e in _objects(parsed) if e["$object"] == "GPOptimizer")
    current = CLASSES["GPOptimizer"].STATE_FORMAT
    if change == "format":
        entry["format"] += 1
        message = f"GPOptimizer of form {current + 1}; this sk_hpo reads form {current}"
    else:
        entry["attributes"]["$dict"].append(["added_later", 1])
        message = "GPOptimizer has no field 'added_later'"
    with pytest.raises(StateError, match=message):
        loads(json.dumps(parsed), arrays, _externals(optimizer))


def test_a_stored_state_of_another_schema_resumes_by_retelling(tmp_path, fits):
    path = tmp_path / "study.db"
    _stored_study(path)
    with sqlite3.connect(path) as db:
        (document,) = db.execute("SELECT document FROM states").fetchone()
        parsed = json.loads(document)
        for entry in _objects(parsed):
            entry["format"] = 0  # written by another version
        db.execute("UPDATE states SET document = ?", (json.dumps(parsed),))
    fits.clear()
    with pytest.warns(UserWarning, match=f"form 0; this sk_hpo reads form {TPE.STATE_FORMAT}.*re-told"):
        resumed = _resume(path)
    assert resumed.n_resumed_ == 6 and len(resumed.cv_results_["params"]) == 8
    assert len(fits) == 2 * 2  # the 2 new candidates, 2 folds each; the 6 stored not refitted


# -- a whole storage file made hostile ------------------------------------------
def _stored_study(path):
    search = _fitted("tpe", n_iter=6, storage=path, study_name="shared-study")
    return search


def _resume(path, n_iter=8):
    return _fitted("tpe", n_iter=n_iter, storage=path, study_name="shared-study")


@pytest.mark.parametrize("column", ["document", "arrays", "n_candidates"])
@pytest.mark.parametrize("content", ["pickle", "garbage", "pickled npz"])
def test_a_hostile_state_is_set_aside_with_a_warning_naming_the_study(tmp_path, column, content):
    path, marker = tmp_path / "study.db", tmp_path / "ran"
    _stored_study(path)
    value = {
        "pickle": pickle.dumps(_Payload(marker)),
        "garbage": b"\x00\xffnot data",
        "pickled npz": _pickle_npz(_Payload(marker)),
    }[content]
    with sqlite3.connect(path) as db:
        db.execute(f"UPDATE states SET {column} = ?", (value,))
    with pytest.warns(UserWarning, match="study 'shared-study'.*nothing in it was run"):
        resumed = _resume(path)
    assert not marker.exists()
    assert resumed.n_resumed_ == 6 and len(resumed.cv_results_["params"]) == 8


@pytest.mark.parametrize(
    "column", ["x", "params", "status", "error", "results", "more", "loss", "branch"]
)
def test_a_hostile_candidate_row_is_refused_naming_the_study(tmp_path, column, fits):
    path, marker = tmp_path / "study.db", tmp_path / "ran"
    _stored_study(path)
    with sqlite3.connect(path) as db:
        db.execute(
            f"UPDATE candidates SET {column} = ? WHERE number = 3",
            (pickle.dumps(_Payload(marker)),),
        )
    fits.clear()
    with pytest.raises(ValueError, match=r"study 'shared-study': candidate 3 has a .*nothing"):
        _resume(path)
    assert not marker.exists()
    assert fits == []  # refused before any model was trained


@pytest.mark.parametrize(
    "value",
    [
        '{"x": [0.5, 2.0]}',  # a point outside the unit cube
        "[1, 2]",
        '[{"test_scores": "high", "fit_time": 0, "score_time": 0, "n_test_samples": 1}]',
    ],
)
def test_rows_that_parse_as_json_but_are_not_sk_hpo_rows_are_refused(tmp_path, value):
    path = tmp_path / "study.db"
    _stored_study(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE candidates SET x = ?, results = ? WHERE number = 0", ("[0.5, 2.0]", value))
    with pytest.raises(ValueError, match="study 'shared-study': candidate 0"):
        _resume(path)


def test_a_hostile_fingerprint_or_schema_is_refused(tmp_path):
    path, marker = tmp_path / "study.db", tmp_path / "ran"
    _stored_study(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE studies SET fingerprint = ?", (pickle.dumps(_Payload(marker)),))
    with pytest.raises(ValueError, match="study 'shared-study': the study's fingerprint"):
        _resume(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema'", (pickle.dumps(1),))
    with pytest.raises(ValueError, match="schema version .* not a number"):
        _resume(path)
    assert not marker.exists()


def test_a_file_with_a_pickled_table_resumes_from_its_rows_and_never_loads_it(tmp_path):
    path, marker = tmp_path / "study.db", tmp_path / "ran"
    _stored_study(path)
    # A pickle where a state could be, and no state: only the rows are read.
    with sqlite3.connect(path) as db:
        db.execute("DROP TABLE states")
        db.execute("CREATE TABLE snapshots (study_id INTEGER PRIMARY KEY, state BLOB)")
        db.execute("INSERT INTO snapshots VALUES (1, ?)", (pickle.dumps(_Payload(marker)),))
    resumed = _resume(path)
    assert not marker.exists()
    assert resumed.n_resumed_ == 6 and len(resumed.cv_results_["params"]) == 8
    with sqlite3.connect(path) as db:
        assert db.execute("SELECT n_candidates FROM states").fetchone() == (8,)


@pytest.mark.parametrize("branch, x", [(3, "[0.5, 0.5]"), (0, "[0.5]")])
def test_a_row_that_is_not_a_point_of_the_space_is_refused(tmp_path, branch, x):
    path = tmp_path / "study.db"
    _stored_study(path)
    with sqlite3.connect(path) as db:
        db.execute("UPDATE candidates SET branch = ?, x = ? WHERE number = 2", (branch, x))
    with pytest.raises(ValueError, match="study 'shared-study': candidate 2 is not a point"):
        _resume(path)


def test_every_column_hostile_at_once_runs_nothing_and_names_the_study(tmp_path, fits):
    path, marker = tmp_path / "study.db", tmp_path / "ran"
    _stored_study(path)
    evil = pickle.dumps(_Payload(marker))
    with sqlite3.connect(path) as db:
        for table, key in (("candidates", "study_id"), ("states", "study_id")):
            columns = [row[1] for row in db.execute(f"PRAGMA table_info({table})")]
            changed = [c for c in columns if c not in (key, "number")]  # number: a key
            assignments = ", ".join(f"{c} = ?" for c in changed)
            db.execute(f"UPDATE {table} SET {assignments}", [evil] * len(changed))
        db.execute("UPDATE candidates SET number = ? WHERE number = 0", (evil,))
        db.execute("UPDATE studies SET fingerprint = ?, created = ?, opened = ?, owner = ?",
                   (evil, evil, evil, evil))  # fmt: skip
    fits.clear()
    with pytest.raises(ValueError, match="study 'shared-study'"):
        _resume(path)
    assert not marker.exists() and fits == []


@pytest.mark.parametrize("more", ['{"iter": 0, "n_resources": 5, "bracket": 0}',
                                  '{"iter": 0, "n_resources": 1, "bracket": "x"}'])
def test_a_multi_fidelity_row_with_an_unknown_rung_is_refused(tmp_path, more):
    path = tmp_path / "mf.db"
    _fitted("hyperband", n_iter=9, storage=path, study_name="mf")
    with sqlite3.connect(path) as db:
        db.execute("UPDATE candidates SET more = ? WHERE number = 1", (more,))
    with pytest.raises(ValueError, match="study 'mf': candidate 1 has"):
        _fitted("hyperband", n_iter=12, storage=path, study_name="mf")
