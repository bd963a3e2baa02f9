"""Contacts of a structure that tell whether its chemistry survived: S around each P, the shortest pair per element
pair."""

from __future__ import annotations

import ase
import numpy as np

from ._common import periodic_cell
from .neighbours import neighbour_list


def sulfur_per_phosphorus(atoms: ase.Atoms, cutoff: float = 2.5) -> np.ndarray:
    """The number of S within ``cutoff`` (A) of each P, in the order of the P atoms (4 for an intact PS4)."""
    symbols = np.asarray(atoms.get_chemical_symbols())
    pairs = neighbour_list(atoms.positions, periodic_cell(atoms), cutoff, full=True)
    to_sulfur = (symbols[pairs.i] == 'P') & (symbols[pairs.j] == 'S')
    counts = np.bincount(pairs.i[to_sulfur], minlength=len(atoms))
    return counts[symbols == 'P']


def shortest_pairs(atoms: ase.Atoms, cutoff: float = 4.0) -> dict[str, float]:
    """The shortest distance (A) of each element pair found within ``cutoff``, keyed ``'A-B'`` in alphabetical order."""
    symbols = np.asarray(atoms.get_chemical_symbols())
    pairs = neighbour_list(atoms.positions, periodic_cell(atoms), cutoff, full=False)
    first, second = symbols[pairs.i], symbols[pairs.j]
    elements = sorted(set(symbols.tolist()))
    shortest = {}
    for index, a in enumerate(elements):
        for b in elements[index:]:
            found = pairs.distances[((first == a) & (second == b)) | ((first == b) & (second == a))]
            if found.size:
                shortest[f'{a}-{b}'] = float(found.min())
    return shortest
