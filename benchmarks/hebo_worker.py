"""HEBO's suggestions for the benchmark, in HEBO's own environment.

HEBO 0.3.6, the current release, requires numpy < 1.25 and pins pymoo
0.6.0, so it cannot share an environment with scikit-learn 1.9 and numpy 2.
The benchmark (``run_hebo`` in ``benchmarks/methods.py``) evaluates in its
own environment and runs this script, with the Python that
``SK_HPO_HEBO_PYTHON`` names, for HEBO's suggestions: one JSON object per
line on stdin, one per line on stdout.

- ``{"space": [...], "seed": s, "n_initial": n}``: HEBO's design space in
  its own ``DesignSpace.parse`` form, and its ``rand_sample`` (null: its
  default); answered ``{"ready": true}``.
- ``{"ask": true}``: answered ``{"params": {...}}``, one suggestion.
- ``{"tell": {...params}, "loss": y}``: observed (a failed evaluation as the
  worst loss so far, HEBO takes no NaN); answered ``{"told": n}``.

Standard library and HEBO only: nothing of sk_hpo is importable there.
"""

import json
import sys


def main():
    import numpy as np
    import pandas as pd
    import torch
    from hebo.design_space.design_space import DesignSpace
    from hebo.optimizers.hebo import HEBO

    optimizer, losses, out = None, [], sys.stdout
    sys.stdout = sys.stderr  # HEBO's own prints must not reach the protocol
    for line in sys.stdin:
        message = json.loads(line)
        if "space" in message:
            np.random.seed(message["seed"])
            torch.manual_seed(message["seed"])
            space = DesignSpace().parse(message["space"])
            optimizer = HEBO(space, rand_sample=message["n_initial"],
                             scramble_seed=message["seed"])  # fmt: skip
            reply = {"ready": True}
        elif "ask" in message:
            suggestion = optimizer.suggest(n_suggestions=1).iloc[0].to_dict()
            reply = {"params": {k: (v.item() if hasattr(v, "item") else v)
                                for k, v in suggestion.items()}}  # fmt: skip
        else:
            loss = message["loss"]
            finite = [v for v in losses if np.isfinite(v)]
            if loss is None or not np.isfinite(loss):
                loss = max(finite) if finite else 1e10
            losses.append(loss)
            optimizer.observe(pd.DataFrame([message["tell"]]), np.array([[loss]]))
            reply = {"told": len(losses)}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
