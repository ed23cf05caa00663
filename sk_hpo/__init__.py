"""sk_hpo: model-based hyperparameter search inside scikit-learn."""

from ._search_space import PerLayer, SearchSpace
from ._searches import BayesSearchCV, GeneticSearchCV, RandomSearchCV, TPESearchCV
from ._space import Categorical, Dimension, Distribution, Integer, Real

__version__ = "0.1.0"

__all__ = [
    "BayesSearchCV",
    "Categorical",
    "Dimension",
    "Distribution",
    "GeneticSearchCV",
    "Integer",
    "PerLayer",
    "RandomSearchCV",
    "Real",
    "SearchSpace",
    "TPESearchCV",
]
