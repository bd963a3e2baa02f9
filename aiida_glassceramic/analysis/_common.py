"""Helpers shared by the analyses: species selection, frame handling and checks of numeric parameters."""

from __future__ import annotations

import numbers
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


def check_count(name: str, value, minimum: int = 1) -> int:
    """``value`` as an int if it is a whole number >= ``minimum``, else an error naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise AnalysisError(f'{name} `{value!r}`: must be a whole number >= {minimum}')
    return int(value)


def check_range(name: str, value, low: float, high: float = np.inf, unit: str = 'A') -> float:
    """``value`` as a float if ``low <= value <= high``, else an error naming ``name`` and the range."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not low <= value <= high:
        bound = f'>= {low}' if high == np.inf else f'between {low} and {high}'
        raise AnalysisError(f'{name} `{value!r}`: must be a number {bound} ({unit})')
    return float(value)
