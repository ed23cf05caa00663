import subprocess
import sys

import pytest

import sk_hpo


def test_import_stays_light():
    code = (
        "import sys, sk_hpo; "
        "heavy = [m for m in ('tensorflow', 'keras', 'matplotlib', 'dask', 'distributed', "
        "'torch', 'optuna', 'skopt') if m in sys.modules]; "
        "print(','.join(heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_public_names():
    for name in sk_hpo.__all__:
        assert hasattr(sk_hpo, name)


def test_sklearn_demo_runs_a_real_search(capsys):
    from sk_hpo import demo

    search = demo.main(["--sklearn", "--n-iter", "4", "--n-jobs", "1"])
    out, err = capsys.readouterr()
    assert "TPESearchCV" in err and "4/4" in err  # the progress bar
    assert "Best parameters:" in out and "Held-out accuracy" in out
    assert search.best_score_ > 0.5


def test_keras_demo_searches_a_network_and_prints_it(capsys):
    pytest.importorskip("scikeras")
    from sk_hpo import demo

    search = demo.main(["--n-iter", "2", "--n-jobs", "1"])
    out, err = capsys.readouterr()
    assert "BayesSearchCV" in err and "2/2" in err  # the progress bar
    n = search.best_params_["model__n_layers"]
    units = [search.best_params_[f"model__units_{i}"] for i in range(n)]
    # The best network, layer by layer, as the search built it.
    assert [f"Dense({u}," in out for u in units] == [True] * n
    assert "Dense(10, activation='softmax')" in out and "Held-out accuracy" in out
    assert search.best_score_ > 0.5


def test_failure_hook_is_scoped_to_our_searches(iris):
    """scikit-learn's own searches still raise when all fits of a call fail."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    grid = GridSearchCV(LogisticRegression(), {"C": [-1.0]})
    with pytest.raises(ValueError):
        grid.fit(X, y)
