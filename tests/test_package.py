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


def test_demo_runs_a_real_search(capsys):
    from sk_hpo import demo

    search = demo.main(["--n-iter", "4", "--n-jobs", "1"])
    out, err = capsys.readouterr()
    assert "TPESearchCV" in err and "4/4" in err  # the progress bar
    assert "Best parameters:" in out and "Held-out accuracy" in out
    assert search.best_score_ > 0.5


def test_failure_hook_is_scoped_to_our_searches(iris):
    """scikit-learn's own searches still raise when all fits of a call fail."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV

    X, y = iris
    grid = GridSearchCV(LogisticRegression(), {"C": [-1.0]})
    with pytest.raises(ValueError):
        grid.fit(X, y)
