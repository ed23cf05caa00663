"""Keras networks as scikit-learn estimators, searchable by every sk_hpo search.

Needs the ``keras`` extra (``pip install "sk_hpo[keras]"``): SciKeras 0.13
and TensorFlow 2.16 or newer with Keras 3.
"""

import os

SUPPORTED_SCIKERAS = ("0.13",)

# TensorFlow's C++ log, unless the user asked for it: start-up notes, and
# an error line per fit ("NodeDef mentions attribute use_unbounded_threadpool")
# where Keras's data pipeline is newer than TensorFlow's runtime; harmless.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

try:
    import keras
    import scikeras
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"sk_hpo.keras needs SciKeras and Keras ({exc}); install them with "
        'pip install "sk_hpo[keras]" (or "sk_hpo[keras-cpu]" without a GPU)'
    ) from exc

if not scikeras.__version__.startswith(SUPPORTED_SCIKERAS) or not keras.__version__.startswith("3."):
    raise ImportError(
        f"sk_hpo.keras supports SciKeras {' or '.join(SUPPORTED_SCIKERAS)} with Keras 3, "
        f"found SciKeras {scikeras.__version__} with Keras {keras.__version__}; install "
        'the tested versions with pip install "sk_hpo[keras]"'
    )

from ._builders import conv_network, dense_network
from ._pool import set_model_pool_size
from ._wrappers import CandidateOutOfMemory, KerasClassifier, KerasRegressor, ModelTooLarge

__all__ = [
    "CandidateOutOfMemory", "KerasClassifier", "KerasRegressor", "ModelTooLarge", "conv_network",
    "dense_network", "set_model_pool_size",
]
