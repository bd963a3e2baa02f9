"""Cell-list neighbour search for periodic cells of any shape, linear in the number of atoms.

Atoms are sorted into bins along the three lattice directions; each bin is at least half the cut-off
thick (measured perpendicular to the cell faces), so the neighbours of an atom lie in the bins at most
a few steps away, periodic images included. Cells thinner than the cut-off are handled by searching
more image shifts, so every image within the cut-off is found exactly once (as LAMMPS does).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from .errors import AnalysisError


@dataclass(frozen=True)
class NeighbourList:
    """Ordered pairs ``(i, j)`` within the cut-off: ``vectors[k] = r_j + image - r_i``.

    ``full=True`` holds each pair both ways (``(i, j)`` and ``(j, i)``); otherwise once.
    """

    i: np.ndarray
    j: np.ndarray
    distances: np.ndarray
    vectors: np.ndarray
    natoms: int
    cutoff: float
    full: bool

    def counts(self) -> np.ndarray:
        """Number of neighbours of each atom (as centre ``i``)."""
        return np.bincount(self.i, minlength=self.natoms)


def cell_heights(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (A); zero volume raises :class:`AnalysisError`."""
    cell = np.asarray(cell, dtype=float)
    volume = abs(np.linalg.det(cell))
    if volume < 1e-9:
        raise AnalysisError(f'cell {cell.tolist()}: zero volume; give a periodic 3D cell (non-coplanar vectors)')
    areas = np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    return volume / areas


def neighbour_list(
    positions: np.ndarray, cell: np.ndarray, cutoff: float, full: bool = True, cutoff_min: float = 0.0
) -> NeighbourList:
    """All pairs with ``cutoff_min < d < cutoff`` (A) in a fully periodic cell.

    :param positions: Cartesian positions, shape (N, 3), A.
    :param cell: lattice vectors as rows, shape (3, 3), A.
    :param full: list every pair both ways (for per-atom sums) or once (``i < j``, or ``i == j`` for
        self-images with the first non-zero image shift component positive).
    """
    positions = np.asarray(positions, dtype=float)
    cell = np.asarray(cell, dtype=float)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise AnalysisError(f'positions: shape {positions.shape}; expected (N, 3)')
    if not cutoff > 0:
        raise AnalysisError(f'cutoff `{cutoff}`: must be a positive distance in A')
    heights = cell_heights(cell)
    natoms = len(positions)
    fractional = positions @ np.linalg.inv(cell)
    fractional -= np.floor(fractional)
    wrapped = fractional @ cell
    nbins = np.maximum(1, np.floor(2.0 * heights / cutoff).astype(int))
    reach = np.ceil(cutoff * nbins / heights - 1e-12).astype(int)
    index3 = np.minimum((fractional * nbins).astype(int), nbins - 1)
    flat = np.ravel_multi_index(index3.T, nbins)
    order = np.argsort(flat, kind='stable')
    counts = np.bincount(flat, minlength=int(np.prod(nbins)))
    starts = np.concatenate(([0], np.cumsum(counts)[:-1]))
    parts_i, parts_j, parts_v = [], [], []
    cutsq, cutminsq = cutoff * cutoff, cutoff_min * cutoff_min
    for offset in itertools.product(*(range(-r, r + 1) for r in reach)):
        target3 = index3 + np.asarray(offset)
        image = np.floor_divide(target3, nbins)
        target = np.ravel_multi_index((target3 - image * nbins).T, nbins)
        ncand = counts[target]
        total = int(ncand.sum())
        if total == 0:
            continue
        ii = np.repeat(np.arange(natoms), ncand)
        within = np.arange(total) - np.repeat(np.cumsum(ncand) - ncand, ncand)
        jj = order[np.repeat(starts[target], ncand) + within]
        shift = np.repeat(image @ cell, ncand, axis=0)
        vec = wrapped[jj] + shift - wrapped[ii]
        dsq = np.einsum('ij,ij->i', vec, vec)
        keep = (dsq < cutsq) & (dsq > cutminsq) & ((ii != jj) | (dsq > 1e-20))
        if not full:
            keep &= _once(ii, jj, np.repeat(image, ncand, axis=0))
        parts_i.append(ii[keep])
        parts_j.append(jj[keep])
        parts_v.append(vec[keep])
    i = np.concatenate(parts_i) if parts_i else np.zeros(0, dtype=int)
    j = np.concatenate(parts_j) if parts_j else np.zeros(0, dtype=int)
    vectors = np.concatenate(parts_v) if parts_v else np.zeros((0, 3))
    return NeighbourList(i, j, np.sqrt(np.einsum('ij,ij->i', vectors, vectors)), vectors, natoms, cutoff, full)


def _once(ii: np.ndarray, jj: np.ndarray, image: np.ndarray) -> np.ndarray:
    """Keep one of the two directions of each pair (image shifts are relative to the wrapped bins)."""
    sign = np.sign(image[:, 0] * 4 + np.sign(image[:, 1]) * 2 + np.sign(image[:, 2]))
    return (ii < jj) | ((ii == jj) & (sign > 0))
