"""A search's candidates kept in an SQLite file, so that it can resume.

One file holds any number of studies (searches) under distinct names.
Each batch is written in one transaction as soon as it finishes: every
candidate's point, its parameters (as text, for people reading the file),
status, error, loss and scikit-learn's per-split results, plus a snapshot
of the algorithm's state, so that a resumed search proposes exactly what
the uninterrupted search would have.  A process killed in the middle of a
batch loses that batch only.

The snapshot is a pickle: resume only from files you trust.
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

SCHEMA_VERSION = 1

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
CREATE TABLE IF NOT EXISTS snapshots (
    study_id INTEGER PRIMARY KEY REFERENCES studies(id),
    n_candidates INTEGER NOT NULL,
    state BLOB
);
"""


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
                _check_same_search(self.path, self.name, json.loads(stored), fingerprint)
            else:
                db.execute("DELETE FROM candidates WHERE study_id = ?", (study_id,))
                db.execute("DELETE FROM snapshots WHERE study_id = ?", (study_id,))
            db.execute(
                "UPDATE studies SET fingerprint = ?, opened = ?, owner = ? WHERE id = ?",
                (text, _now(), self.owner, study_id),
            )
            return study_id

    def candidates(self):
        """The stored candidates, in evaluation order."""
        rows = self._connection.execute(
            "SELECT number, batch, branch, x, params, status, error, loss, results, more "
            "FROM candidates WHERE study_id = ? ORDER BY number",
            (self.id,),
        ).fetchall()
        return [
            StoredCandidate(
                number=number,
                batch=batch,
                point=Point(branch, np.asarray(json.loads(x), dtype=float)),
                params=json.loads(params),
                status=status,
                error=error,
                loss=float(loss),
                results=json.loads(results),
                more=json.loads(more),
            )
            for number, batch, branch, x, params, status, error, loss, results, more in rows
        ]

    def snapshot(self):
        """``(n_candidates, state)`` of the last snapshot, or ``(0, None)``."""
        row = self._connection.execute(
            "SELECT n_candidates, state FROM snapshots WHERE study_id = ?", (self.id,)
        ).fetchone()
        return (row[0], row[1]) if row else (0, None)

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
            db.execute(
                "INSERT OR REPLACE INTO snapshots (study_id, n_candidates, state) VALUES (?, ?, ?)",
                (self.id, candidates[-1].number + 1, state),
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
            if row is None:
                db.execute("INSERT INTO meta VALUES ('schema', ?)", (str(SCHEMA_VERSION),))
            elif int(row[0]) > SCHEMA_VERSION:
                raise ValueError(
                    f"storage={path!r} was written by a newer sk_hpo (schema {row[0]}, "
                    f"this one reads up to {SCHEMA_VERSION}); upgrade sk_hpo."
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
