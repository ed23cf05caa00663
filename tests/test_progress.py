"""What a search shows while it runs: nothing, a progress bar, or scikit-learn's messages too."""

import pytest
from sklearn.model_selection import KFold

from sk_hpo import BayesSearchCV, GeneticSearchCV, TPESearchCV, _progress
from sk_hpo.testing import FUNCTIONS, FunctionEstimator, dummy_data

pytest.importorskip("tqdm")


def _fit(cls=TPESearchCV, verbose=1, **params):
    problem = FUNCTIONS["branin"]
    search = cls(FunctionEstimator("branin"), problem.search_space, n_iter=10, cv=KFold(2),
                 random_state=0, verbose=verbose, **params)  # fmt: skip
    return search.fit(*dummy_data())


def test_verbose_0_prints_nothing_at_all(capfd):
    _fit(verbose=0)
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")


@pytest.mark.parametrize("cls", [TPESearchCV, BayesSearchCV, GeneticSearchCV])
def test_verbose_1_shows_a_bar_with_the_best_so_far_and_no_per_batch_lines(capfd, cls):
    params = {"population_size": 5} if cls is GeneticSearchCV else {}
    search = _fit(cls, **params)
    out, err = capfd.readouterr()
    assert cls.__name__ in err and "10/10" in err
    assert f"best {search.best_score_:.5g}" in err
    assert "Fitting" not in out + err
    assert search.verbose == 1  # lowered around each batch only


def test_verbose_2_keeps_scikit_learns_messages(capfd):
    _fit(verbose=2)
    out, err = capfd.readouterr()
    assert "10/10" in err
    assert "Fitting 2 folds for each of 1 candidates" in out


def test_without_tqdm_a_line_per_batch(capfd, monkeypatch):
    monkeypatch.setattr(_progress, "_tqdm", lambda: None)
    search = _fit()
    out, _ = capfd.readouterr()
    assert "[TPESearchCV] 10/10 candidates" in out
    assert f"best {search.best_score_:.5g}" in out
    assert out.count("Fitting 2 folds") == 10  # scikit-learn's lines are kept then


def test_resumed_search_starts_the_bar_at_the_stored_candidates(capfd, tmp_path):
    _fit(verbose=0, storage=tmp_path / "s.db", n_points=1)
    search = _fit(storage=tmp_path / "s.db")
    _, err = capfd.readouterr()
    assert search.n_resumed_ == 10
    assert "10/10" in err and "| 0/10" not in err
