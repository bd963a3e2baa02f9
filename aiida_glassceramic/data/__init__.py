"""AiiDA data plugins: the training set and the neural network potential."""

from .potential import NNPotentialData
from .training_set import TrainingSetData

__all__ = ('NNPotentialData', 'TrainingSetData')
