"""Neighbour pairs of the analyses, for periodic cells of any shape, linear in the number of atoms.

The pair search is the one of the potential's descriptors (:func:`aiida_glassceramic.descriptors.neighbours.
neighbour_pairs`: a k-d tree over the periodic images within the cut-off), so every image within the cut-off is
found exactly once, also in cells thinner than the cut-off.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..descriptors.neighbours import NeighbourListError, check_geometry, neighbour_pairs
from .errors import AnalysisError


@dataclass(frozen=True)
class NeighbourList:
    """Ordered pairs ``(i, j)`` within the cut-off: ``vectors[k] = r_j + shifts[k] @ cell - r_i``.

    ``full=True`` holds each pair both ways (``(i, j)`` and ``(j, i)``); otherwise once.
    """

    i: np.ndarray
    j: np.ndarray
    distances: np.ndarray
    vectors: np.ndarray
    shifts: np.ndarray
    natoms: int
    cutoff: float
    full: bool

    def counts(self) -> np.ndarray:
        """Number of neighbours of each atom (as centre ``i``)."""
        return np.bincount(self.i, minlength=self.natoms)


def neighbour_list(
    positions: np.ndarray, cell: np.ndarray, cutoff: float, full: bool = True, cutoff_min: float = 0.0
) -> NeighbourList:
    """All pairs with ``cutoff_min < d < cutoff`` (A) in a fully periodic cell.

    :param positions: Cartesian positions, shape (N, 3), A.
    :param cell: lattice vectors as rows, shape (3, 3), A.
    :param full: list every pair both ways (for per-atom sums) or once (``i < j``, or ``i == j`` for
        self-images with the first non-zero image shift component positive).
    """
    try:
        positions, cell = check_geometry(positions, cell)
        i, j, shifts = neighbour_pairs(positions, cell, cutoff)
    except NeighbourListError as error:
        raise AnalysisError(str(error)) from None
    vectors = positions[j] - positions[i] + shifts @ cell
    distances = np.sqrt(np.einsum('ij,ij->i', vectors, vectors))
    keep = distances > cutoff_min
    if not full:
        keep &= _once(i, j, shifts)
    return NeighbourList(i[keep], j[keep], distances[keep], vectors[keep], shifts[keep], len(positions), cutoff, full)


def _once(ii: np.ndarray, jj: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Keep one of the two directions of each pair: ``i < j``, or for a self-image the positive lattice shift."""
    sign = np.sign(image[:, 0] * 4 + np.sign(image[:, 1]) * 2 + np.sign(image[:, 2]))
    return (ii < jj) | ((ii == jj) & (sign > 0))
