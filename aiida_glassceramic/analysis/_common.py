"""Helpers shared by the analyses: species selection and frame handling."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import ase
import numpy as np

from .errors import AnalysisError


def species_mask(symbols: Sequence[str], species: str | Sequence[str] | None, argument: str = 'species') -> np.ndarray:
    """Boolean mask of the atoms whose symbol is in ``species`` (``None``: all atoms)."""
    symbols = np.asarray(symbols)
    if species is None:
        return np.ones(len(symbols), dtype=bool)
    wanted = [species] if isinstance(species, str) else list(species)
    mask = np.isin(symbols, wanted)
    if not mask.any():
        raise AnalysisError(
            f'{argument} `{species}`: no such atom in the structure (it has {sorted(set(symbols.tolist()))})'
        )
    return mask


def as_frames(frames: ase.Atoms | Iterable[ase.Atoms]) -> Iterable[ase.Atoms]:
    """A single structure as a one-frame sequence; any iterable of structures as it is."""
    return [frames] if isinstance(frames, ase.Atoms) else frames


def periodic_cell(atoms: ase.Atoms) -> np.ndarray:
    """The cell of a fully periodic structure, or a clear error."""
    if not all(atoms.pbc):
        raise AnalysisError(f'structure {atoms.get_chemical_formula()}: pbc={atoms.pbc.tolist()}; set pbc=True')
    cell = atoms.cell.array
    if abs(np.linalg.det(cell)) < 1e-9:
        raise AnalysisError(f'structure {atoms.get_chemical_formula()}: zero cell volume; give the periodic cell')
    return cell
