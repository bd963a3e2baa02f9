"""Behler-Parrinello symmetry functions: parameters, periodic neighbour lists and the torch features."""

from .features import SymmetryFunctions, pair_vectors
from .neighbours import NeighbourList, NeighbourListError, build_neighbour_list, neighbour_pairs
from .parameters import (
    AngularFunction,
    DescriptorParameterError,
    RadialFunction,
    SymmetryFunctionParameters,
    default_parameters,
)

__all__ = [
    'AngularFunction',
    'DescriptorParameterError',
    'NeighbourList',
    'NeighbourListError',
    'RadialFunction',
    'SymmetryFunctionParameters',
    'SymmetryFunctions',
    'build_neighbour_list',
    'default_parameters',
    'neighbour_pairs',
    'pair_vectors',
]
