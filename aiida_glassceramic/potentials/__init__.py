"""Behler-Parrinello neural network potential: model, training, serialisation, ASE calculator."""
