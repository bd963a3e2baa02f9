"""Unwrapped (continuous) atom positions from periodic frames."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ase
import numpy as np

from ..descriptors.periodic import fractional_coordinates
from ._common import periodic_cell, species_mask
from .errors import AnalysisError


class Unwrapper:
    """Unwraps frame after frame: positions already unwrapped (``info['unwrapped']``) as they are, wrapped ones
    with their image flags (``arrays['images']``) when the frame has them, else by minimum-image increments.

    Minimum-image increments assume no atom moves more than half a cell between two frames.
    """

    def __init__(self, mask: np.ndarray | None = None):
        self.mask = mask
        self._previous: np.ndarray | None = None
        self._unwrapped: np.ndarray | None = None

    def __call__(self, atoms: ase.Atoms) -> np.ndarray:
        """Unwrapped positions (A) of the selected atoms in this frame."""
        cell = periodic_cell(atoms)
        mask = slice(None) if self.mask is None else self.mask
        if atoms.info.get('unwrapped'):
            return atoms.positions[mask]
        if 'images' in atoms.arrays:
            return atoms.positions[mask] + atoms.arrays['images'][mask] @ cell
        fractional = fractional_coordinates(atoms.positions[mask], cell)
        if self._previous is None:
            self._unwrapped = atoms.positions[mask].copy()
        else:
            if len(fractional) != len(self._previous):
                raise AnalysisError('frames: the number of atoms changes between frames')
            step = fractional - self._previous
            self._unwrapped = self._unwrapped + (step - np.round(step)) @ cell
        self._previous = fractional
        return self._unwrapped


def unwrapped_positions(
    frames: Iterable[ase.Atoms], species: str | Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Unwrapped positions of the atoms of ``species``, shape (frames, atoms, 3) in A, and their indices.

    The one place where a whole trajectory is held in memory (for the MSD), and only for ``species``.
    """
    unwrap, indices, stack = None, None, []
    for atoms in frames:
        if unwrap is None:
            mask = species_mask(atoms.get_chemical_symbols(), species)
            indices, unwrap = np.flatnonzero(mask), Unwrapper(mask)
        stack.append(np.array(unwrap(atoms), dtype=float))
    if not stack:
        raise AnalysisError('frames: the trajectory is empty; give at least two frames')
    return np.stack(stack), indices
