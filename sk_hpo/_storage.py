"""A search's candidates kept in an SQLite file, so that it can resume.

One file holds any number of studies (searches) under distinct names.
Each batch is written in one transaction as soon as it finishes: every
candidate's point, its parameters (as text, for people reading the file),
status, error, loss and scikit-learn's per-split results, plus the
algorithm's state, so that a resumed search proposes exactly what the
uninterrupted search would have.  A process killed in the middle of a
batch loses that batch only.

Everything in the file is data, and is read as data: the candidates' rows
are JSON text and numbers, checked as they are read (a row that is not
what sk_hpo writes is refused with the file, the study and the candidate
named); the algorithm's state is a JSON document and an ``.npz`` archive
of arrays read with ``allow_pickle=False`` (see ``sk_hpo._state``).
Nothing is ever unpickled, so a file from someone else cannot run code.
"""

import json
import os
import socket
import sqlite3
import time
import uuid
from typing import NamedTuple

import numpy as np

from ._search_space import Point

SCHEMA_VERSION = 2

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS studies (
    id INTEGER PRIMARY KEY,
    name TEXT UNIQUE NOT NULL,
    fingerprint TEXT NOT NULL,
    created TEXT NOT NULL,
    opened TEXT NOT NULL,
    owner TEXT
);
CREATE TABLE IF NOT EXISTS candidates (
    study_id INTEGER NOT NULL REFERENCES studies(id),
    number INTEGER NOT NULL,
    batch INTEGER NOT NULL,
    branch INTEGER NOT NULL,
    x TEXT NOT NULL,
    params TEXT NOT NULL,
    status TEXT NOT NULL,
    error TEXT,
    score REAL,
    loss REAL NOT NULL,
    results TEXT NOT NULL,
    more TEXT NOT NULL,
    finished TEXT NOT NULL,
    PRIMARY KEY (study_id, number)
);
CREATE TABLE IF NOT EXISTS states (
    study_id INTEGER PRIMARY KEY REFERENCES studies(id),
    n_candidates INTEGER NOT NULL,
    document TEXT,
    arrays BLOB
);
"""
_STATUSES = ("ok", "failed")


class StoredCandidate(NamedTuple):
    """One evaluated candidate as stored.

    ``results`` holds scikit-learn's ``_fit_and_score`` output of each
    split; ``more`` the optimizer's extra ``cv_results_`` columns.
    """

    number: int
    batch: int
    point: Point
    params: dict
    status: str  # "ok" or "failed"
    error: str | None
    loss: float
    results: list
    more: dict


class StoredState(NamedTuple):
    """The algorithm state stored after the study's first ``n_candidates``."""

    n_candidates: int
    document: str | bytes | None  # JSON (sk_hpo._state), None if the state was not data
    arrays: bytes | None  # its arrays, an .npz archive
    problem: str | None = None  # why the row cannot be a state sk_hpo wrote


def _now():
    return time.strftime("%Y-%m-%dT%H:%M:%S")


def _jsonable(value):
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return repr(value)


def _dumps(value):
    return json.dumps(value, default=_jsonable)


class Study:
    """The stored candidates of one named search in one SQLite file.

    Parameters
    ----------
    path : str or os.PathLike
        The database file, created if missing.
    name : str
        The study's name within the file.
    fingerprint : dict of str
        What the study was made for (see ``sk_hpo._fingerprint``).
    resume : bool
        With True, a stored study of the same name must have the same
        fingerprint, and its candidates are kept.  With False, they are
        discarded and the study starts again with ``fingerprint``.
    """

    def __init__(self, path, name, fingerprint, resume=True):
        self.path = os.fspath(path)
        self.name = name
        # The last process to open a study owns it; an older one still
        # running is stopped at its next write instead of mixing batches.
        self.owner = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._connection = _connect(self.path)
        try:
            self.id = self._open(fingerprint, resume)
        except BaseException:
            self._connection.close()
            raise

    def _open(self, fingerprint, resume):
        text = json.dumps(fingerprint, sort_keys=True)
        with self._connection as db:
            row = db.execute(
                "SELECT id, fingerprint FROM studies WHERE name = ?", (self.name,)
            ).fetchone()
            if row is None:
                cursor = db.execute(
                    "INSERT INTO studies (name, fingerprint, created, opened, owner) "
                    "VALUES (?, ?, ?, ?, ?)",
                    (self.name, text, _now(), _now(), self.owner),
                )
                return cursor.lastrowid
            study_id, stored = row
            if resume:
                _check_same_search(self.path, self.name, self._fingerprint(stored), fingerprint)
            else:
                db.execute("DELETE FROM candidates WHERE study_id = ?", (study_id,))
                db.execute("DELETE FROM states WHERE study_id = ?", (study_id,))
            db.execute(
                "UPDATE studies SET fingerprint = ?, opened = ?, owner = ? WHERE id = ?",
                (text, _now(), self.owner, study_id),
            )
            return study_id

    def _problem(self, what):
        return ValueError(
            f"storage={self.path!r}, study {self.name!r}: {what}. The file was not "
            "written by sk_hpo or has been changed; nothing in it was run. Resume from "
            "an intact file, or give another study_name or storage file (resume=False "
            "discards the stored candidates)."
        )

    def _fingerprint(self, text):
        try:
            stored = json.loads(text)
        except (TypeError, ValueError, RecursionError):
            stored = None
        if not isinstance(stored, dict):
            raise self._problem("the study's fingerprint is not a JSON object")
        return stored

    def candidates(self):
        """The stored candidates, in evaluation order, each checked to be sk_hpo's rows."""
        rows = self._connection.execute(
            "SELECT number, batch, branch, x, params, status, error, loss, results, more "
            "FROM candidates WHERE study_id = ? ORDER BY number",
            (self.id,),
        ).fetchall()
        return [self._candidate(*row) for row in rows]

    def _candidate(self, number, batch, branch, x, params, status, error, loss, results, more):
        def bad(column, expected):
            return self._problem(f"candidate {number!r} has a {column} that is not {expected}")

        if not _is_int(number) or not _is_int(batch) or not _is_int(branch):
            raise bad("number, batch or branch", "an integer")
        x = _json(x)
        if not isinstance(x, list) or not all(_is_real(u) and 0 <= u <= 1 for u in x):
            raise bad("point (x)", "a list of numbers in [0, 1]")
        params, results, more = _json(params), _json(results), _json(more)
        if not isinstance(params, dict):
            raise bad("params", "a JSON object")
        if status not in _STATUSES or not (error is None or isinstance(error, str)):
            raise bad("status or error", f"one of {_STATUSES} and a text")
        if not _is_real(loss):
            raise bad("loss", "a number")
        if not isinstance(results, list) or not all(_is_split_result(r) for r in results):
            raise bad("results", "a list of scikit-learn's per-split results")
        if not isinstance(more, dict) or not all(_is_plain(v) for v in more.values()):
            raise bad("more", "a JSON object of numbers and texts")
        return StoredCandidate(
            number=number,
            batch=batch,
            point=Point(branch, np.asarray(x, dtype=float)),
            params=params,
            status=status,
            error=error,
            loss=float(loss),
            results=results,
            more=more,
        )

    def state(self):
        """The stored algorithm state (:class:`StoredState`), never unpickled."""
        row = self._connection.execute(
            "SELECT n_candidates, document, arrays FROM states WHERE study_id = ?", (self.id,)
        ).fetchone()
        if row is None:
            return StoredState(0, None, None)
        n_candidates, document, arrays = row
        if not _is_int(n_candidates):
            return StoredState(-1, None, None, problem="its count is not a number")
        # Whatever the columns hold goes to sk_hpo._state.loads, which
        # accepts only its own form (and warns through the engine).
        arrays = arrays if isinstance(arrays, bytes) else b""
        return StoredState(n_candidates, document, arrays)

    def save_batch(self, candidates, state):
        """Store a finished batch and the algorithm's state after it, atomically."""
        with self._connection as db:
            db.execute("BEGIN IMMEDIATE")
            (owner,) = db.execute("SELECT owner FROM studies WHERE id = ?", (self.id,)).fetchone()
            if owner != self.owner:
                raise RuntimeError(
                    f"storage={self.path!r}: study {self.name!r} was opened by another "
                    f"search ({owner}) after this one; two searches cannot write one "
                    "study. This search stops; its finished batches are stored."
                )
            db.executemany(
                "INSERT INTO candidates (study_id, number, batch, branch, x, params, status, "
                "error, score, loss, results, more, finished) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        self.id,
                        c.number,
                        c.batch,
                        int(c.point.branch),
                        _dumps([float(u) for u in c.point.x]),
                        _dumps(c.params),
                        c.status,
                        c.error,
                        -c.loss if np.isfinite(c.loss) else None,
                        float(c.loss),
                        _dumps(c.results),
                        _dumps(c.more),
                        _now(),
                    )
                    for c in candidates
                ],
            )
            document, arrays = state if state is not None else (None, None)
            db.execute(
                "INSERT OR REPLACE INTO states (study_id, n_candidates, document, arrays) "
                "VALUES (?, ?, ?, ?)",
                (self.id, candidates[-1].number + 1, document, arrays),
            )

    def close(self):
        self._connection.close()


def _connect(path):
    if os.path.isdir(path):
        raise ValueError(f"storage={path!r} is a directory; give the path of a database file.")
    try:
        connection = sqlite3.connect(path, timeout=60)
    except sqlite3.Error as exc:
        raise ValueError(
            f"storage={path!r}: cannot open or create an SQLite database there ({exc}); "
            "give a file path in an existing, writable directory."
        ) from exc
    try:
        with connection as db:
            db.executescript(_SCHEMA)
            row = db.execute("SELECT value FROM meta WHERE key = 'schema'").fetchone()
            schema = str(row[0]) if row is not None else None
            if schema is not None and not schema.isdigit():
                raise ValueError(
                    f"storage={path!r}: its schema version is {schema[:40]!r}, not a "
                    "number; the file was not written by sk_hpo or has been changed."
                )
            if schema is not None and int(schema) > SCHEMA_VERSION:
                raise ValueError(
                    f"storage={path!r} was written by a newer sk_hpo (schema {schema}, "
                    f"this one reads up to {SCHEMA_VERSION}); upgrade sk_hpo."
                )
            db.execute(
                "INSERT OR REPLACE INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),)
            )
    except sqlite3.DatabaseError as exc:
        connection.close()
        problem = (
            "is not an SQLite database" if "not a database" in str(exc) else "cannot be written"
        )
        raise ValueError(
            f"storage={path!r} {problem} ({exc}); give the path of an sk_hpo "
            "storage file, or of a new file in a writable directory."
        ) from exc
    except BaseException:
        connection.close()
        raise
    return connection


def _json(text):
    """JSON text as data, or None if it is not JSON."""
    if not isinstance(text, str):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _is_plain(value):
    return value is None or isinstance(value, (bool, int, float, str))


def _is_scores(value):
    if isinstance(value, dict):
        return all(isinstance(k, str) and _is_real(v) for k, v in value.items())
    return _is_real(value)


def _is_split_result(result):
    """One split's ``_fit_and_score`` output as sk_hpo stores it."""
    return (
        isinstance(result, dict)
        and all(isinstance(key, str) for key in result)
        and _is_scores(result.get("test_scores"))
        and ("train_scores" not in result or _is_scores(result["train_scores"]))
        and all(_is_real(result.get(key)) for key in ("fit_time", "score_time"))
        and _is_int(result.get("n_test_samples"))
        and _is_plain(result.get("fit_error"))
    )


def _check_same_search(path, name, stored, current):
    differences = [
        f"  {key}: stored {_around_difference(stored.get(key), now)}\n"
        f"  {' ' * len(key)}  now    {_around_difference(now, stored.get(key))}"
        for key, now in current.items()
        if stored.get(key) != now
    ]
    if differences:
        raise ValueError(
            f"storage={path!r} holds a study {name!r} made for a different search:\n"
            + "\n".join(differences)
            + "\nResuming would mix results that do not compare. Give another "
            "study_name or storage file, or resume=False to discard the stored "
            "candidates and start again."
        )


def _around_difference(text, other, width=70):
    """``text`` cut to show where it starts to differ from ``other``."""
    text, other = str(text), str(other)
    start = next(
        (i for i, (a, b) in enumerate(zip(text, other)) if a != b), min(len(text), len(other))
    )
    begin = max(0, start - width // 2)
    piece = text[begin : begin + width]
    return ("..." if begin else "") + piece + ("..." if begin + width < len(text) else "")
