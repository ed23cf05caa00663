"""sk_hpo: model-based hyperparameter search inside scikit-learn."""

from ._searches import BayesSearchCV, GeneticSearchCV, RandomSearchCV, TPESearchCV
from ._search_space import SearchSpace
from ._space import Categorical, Dimension, Distribution, Integer, Real

__version__ = "0.1.0"

__all__ = [
    "BayesSearchCV",
    "Categorical",
    "Dimension",
    "GeneticSearchCV",
    "Distribution",
    "Integer",
    "RandomSearchCV",
    "Real",
    "SearchSpace",
    "TPESearchCV",
]
