"""Every script under examples/ runs, in its fast mode."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = sorted((Path(__file__).parents[1] / "examples").glob("*.py"))
NEEDS = {
    "keras_digits.py": "scikeras",
    "dask_scale_out.py": "distributed",
    "compare_searches.py": "matplotlib",
}


@pytest.mark.parametrize("script", EXAMPLES, ids=[path.name for path in EXAMPLES])
def test_example_runs(script):
    if script.name in NEEDS:
        pytest.importorskip(NEEDS[script.name])
    env = {**os.environ, "SK_HPO_EXAMPLE_FAST": "1"}
    result = subprocess.run([sys.executable, str(script)], env=env, capture_output=True,
                            text=True, timeout=600, check=False)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert "best cross-validated" in result.stdout
