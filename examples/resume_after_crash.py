"""
A search killed part-way resumes where it stopped, losing nothing finished
==========================================================================

A child process (a fork of this one, so POSIX only) runs a search with
``storage=`` and is killed with SIGKILL (no clean-up at all) once a few
candidates are stored.  The same search
again loads the stored candidates without refitting them and continues the
algorithm from its stored state.  Digits, SVM, 20 candidates
(``SK_HPO_EXAMPLE_FAST=1``: 6).
"""

import multiprocessing
import os
import sqlite3
import tempfile
import time
from pathlib import Path

from sklearn.datasets import load_digits
from sklearn.svm import SVC

from sk_hpo import BayesSearchCV, Real

FAST = os.environ.get("SK_HPO_EXAMPLE_FAST") == "1"
N_ITER = 6 if FAST else 20


def run_search(storage):
    X, y = load_digits(return_X_y=True)
    space = {"C": Real(1e-2, 1e3, "log-uniform"), "gamma": Real(1e-5, 1e-1, "log-uniform")}
    search = BayesSearchCV(SVC(), space, n_iter=N_ITER, cv=3, random_state=0, storage=storage)
    return search.fit(X, y)


def stored_candidates(storage):
    if not storage.exists():
        return 0
    with sqlite3.connect(storage) as db:
        try:
            return db.execute("SELECT COUNT(*) FROM candidates").fetchone()[0]
        except sqlite3.OperationalError:  # the tables are not written yet
            return 0


if __name__ == "__main__":
    storage = Path(tempfile.mkdtemp()) / "search.db"
    child = multiprocessing.get_context("fork").Process(target=run_search, args=(storage,))
    child.start()
    deadline = time.time() + 300
    while child.is_alive() and time.time() < deadline:
        time.sleep(0.2)
        if stored_candidates(storage) >= N_ITER // 2:
            child.kill()  # SIGKILL
            break
    child.join()
    print(f"the first process was killed (exit code {child.exitcode}) "
          f"with {stored_candidates(storage)} candidates stored")  # fmt: skip

    search = run_search(storage)
    fitted_now = len(search.cv_results_["params"]) - search.n_resumed_
    print(f"resumed: {search.n_resumed_} candidates loaded, {fitted_now} fitted now")
    print(f"best cross-validated accuracy: {search.best_score_:.4f} with {search.best_params_}")
