"""Sanity checks of training data: the units of energies and forces, and atoms closer than any bond.

Each check returns warnings (one line each, naming what looks wrong and the fix); clean data give none.

- energies: a least-squares fit of per-element reference energies (E ~ sum of n_element e_element). Total energies
  grow with the number of atoms; energies given per atom fit a model of the composition fractions better. Energies
  per atom that scatter by more than :data:`MAX_ENERGY_SPREAD` around the fit mix methods or units.
- forces: for consecutive structures with the same atoms and cell a small displacement apart, the energy change
  must match the work of the forces, dE = -(F1 + F2)/2 . dx (trapezoidal rule); forces in meV/A make it 1000 times
  too large, energies per atom N times too small.
- positions: atoms closer than :data:`MIN_DISTANCE`, or an element pair far closer (below :data:`CLOSE_FRACTION` of)
  than in every other structure.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import chemical_symbols
from ase.neighborlist import neighbor_list

from ..training_set import TrainingSet

MAX_ENERGY_SPREAD = 1.0  # eV/atom: RMS of energies per atom around per-element reference energies
PER_ATOM_FACTOR = 3.0  # energies fit a model of composition fractions this much better than per-element references
MAX_PAIR_DISPLACEMENT = 0.3  # A: largest atom displacement between structures compared by energy and forces
MIN_WORK = 1e-3  # eV: pairs of structures whose forces do less work than this are too close to compare
WORK_RATIO = (1 / 3, 3.0)  # accepted range of dE / (-F_mean . dx), median over the pairs
MIN_DISTANCE = 0.5  # A: no bond is shorter
CLOSE_FRACTION = 0.6  # an element pair below this fraction of its shortest distance in the other structures
CONTACT_CUTOFF = 4.0  # A: pair distances looked at by the contact check
LISTED = 5  # structures named in a warning


class TrainingDataError(ValueError):
    """Training data that fail the sanity checks, refused because the training is strict."""


def check_training_data(data: TrainingSet) -> list[str]:
    """Warnings of every check (see the module); an empty list when the data look sane."""
    return [*check_energies(data), *check_forces(data), *check_contacts(data)]


def check_energies(data: TrainingSet) -> list[str]:
    """Energies per atom instead of total ones, or energies that scatter around per-element references."""
    counts = _element_counts(data)
    if len(data) < counts.shape[1] + 3:
        return []
    natoms = data.natoms.astype(float)
    total_residual = _residual(counts, data.energies)
    per_atom_residual = _residual(counts / natoms[:, None], data.energies)
    warnings = []
    total_rms, per_atom_rms = _rms(total_residual), _rms(per_atom_residual)
    if total_rms > PER_ATOM_FACTOR * per_atom_rms:
        warnings.append(
            f'energies: they do not grow with the number of atoms (a fit to composition fractions leaves '
            f'{per_atom_rms:.3g} eV, per-element reference energies {total_rms:.3g} eV): they look like energies per '
            'atom; give the total energy of each structure in eV'
        )
    elif _rms(total_residual / natoms) > MAX_ENERGY_SPREAD:
        warnings.append(
            f'energies: energies per atom scatter by {_rms(total_residual / natoms):.3g} eV/atom around per-element '
            f'reference energies (more than {MAX_ENERGY_SPREAD} eV/atom); give every structure the total energy in eV '
            'from one method'
        )
    return warnings


def check_forces(data: TrainingSet) -> list[str]:
    """Forces inconsistent with the energy differences of consecutive structures a small displacement apart."""
    ratios = []
    offsets = data.offsets
    previous: dict[bytes, int] = {}
    for index in range(len(data)):
        start, stop = offsets[index], offsets[index + 1]
        key = data.numbers[start:stop].tobytes() + np.round(data.cells[index], 6).tobytes()
        other = previous.get(key)
        previous[key] = index
        if other is None:
            continue
        before = slice(offsets[other], offsets[other + 1])
        shift = _minimum_image(data.positions[start:stop] - data.positions[before], data.cells[index])
        if np.abs(shift).max() > MAX_PAIR_DISPLACEMENT:
            continue
        work = -0.5 * float(np.sum((data.forces[before] + data.forces[start:stop]) * shift))
        if abs(work) > MIN_WORK:
            ratios.append((data.energies[index] - data.energies[other]) / work)
    if not ratios:
        return []
    ratio = float(np.median(ratios))
    if WORK_RATIO[0] <= ratio <= WORK_RATIO[1]:
        return []
    found = (
        f'forces: between {len(ratios)} pairs of structures a small displacement apart the energy changes by '
        f'{ratio:.3g} times the work of the forces (expected 1)'
    )
    if ratio < 0:
        return [f'{found}: forces look like energy gradients; give forces = -dE/dx in eV/A']
    if ratio < 1:
        return [
            f'{found}: forces look {_times(1 / ratio)} times too large for the energies; give forces in eV/A '
            '(not meV/A) and total energies in eV (not per atom)'
        ]
    return [
        f'{found}: forces look {_times(ratio)} times too small for the energies; give forces in eV/A and energies in eV'
    ]


def check_contacts(data: TrainingSet) -> list[str]:
    """Atoms closer than any bond, and element pairs far closer than in every other structure."""
    shortest = _shortest_pairs(data)
    warnings = []
    too_close = sorted(
        (distance, index, pair)
        for pair, row in shortest.items()
        for index, distance in enumerate(row)
        if distance < MIN_DISTANCE
    )
    if too_close:
        distance, index, pair = too_close[0]
        structures = sorted({index for _, index, _ in too_close})
        warnings.append(
            f'positions: {_listed(structures)} have atoms closer than {MIN_DISTANCE} A (closer than any bond; '
            f'shortest {distance:.3g} A, {pair} in structure {index}); remove them or correct their positions'
        )
    far_below = []
    for pair, row in shortest.items():
        first, second = np.partition(np.nan_to_num(row, nan=np.inf), 1)[:2]
        reference = np.where(row == first, second, first)  # the shortest distance of the other structures
        close = (row >= MIN_DISTANCE) & (row < CLOSE_FRACTION * reference) & np.isfinite(reference)
        for index in np.flatnonzero(close):
            far_below.append((row[index] / reference[index], index, pair, row[index], reference[index]))
    if far_below:
        _, index, pair, distance, reference = min(far_below)
        structures = sorted({entry[1] for entry in far_below})
        warnings.append(
            f'positions: {_listed(structures)} have element pairs far closer than in the other structures '
            f'({pair} {distance:.3g} A in structure {index}, elsewhere at least {reference:.3g} A); check their '
            'positions'
        )
    return warnings


def _element_counts(data: TrainingSet) -> np.ndarray:
    """Atoms of each element (columns) in each structure (rows)."""
    elements, types = np.unique(data.numbers, return_inverse=True)
    counts = np.zeros((len(data), len(elements)))
    np.add.at(counts, (np.repeat(np.arange(len(data)), data.natoms), types), 1.0)
    return counts


def _residual(design: np.ndarray, energies: np.ndarray) -> np.ndarray:
    coefficients = np.linalg.lstsq(design, energies, rcond=None)[0]
    return energies - design @ coefficients


def _rms(values: np.ndarray) -> float:
    return float(np.sqrt(np.mean(values**2)))


def _minimum_image(vectors: np.ndarray, cell: np.ndarray) -> np.ndarray:
    fractional = np.linalg.solve(cell.T, vectors.T).T
    return (fractional - np.round(fractional)) @ cell


def _shortest_pairs(data: TrainingSet) -> dict[str, np.ndarray]:
    """Shortest distance (A) of each element pair (e.g. ``'P-S'``) in each structure: CONTACT_CUTOFF where the pair
    lies farther apart, NaN in structures without one of its elements."""
    counts = _element_counts(data) > 0
    elements = np.unique(data.numbers)
    shortest: dict[str, np.ndarray] = {}
    offsets = data.offsets
    for index in range(len(data)):
        numbers = data.numbers[offsets[index] : offsets[index + 1]]
        atoms = Atoms(numbers, data.positions[offsets[index] : offsets[index + 1]], cell=data.cells[index], pbc=True)
        first, second, distance = neighbor_list('ijd', atoms, CONTACT_CUTOFF)
        low, high = np.minimum(numbers[first], numbers[second]), np.maximum(numbers[first], numbers[second])
        for a, b in set(zip(low.tolist(), high.tolist(), strict=True)):
            pair = f'{chemical_symbols[a]}-{chemical_symbols[b]}'
            if pair not in shortest:
                both = counts[:, np.searchsorted(elements, a)] & counts[:, np.searchsorted(elements, b)]
                shortest[pair] = np.where(both, CONTACT_CUTOFF, np.nan)
            shortest[pair][index] = distance[(low == a) & (high == b)].min()
    return shortest


def _listed(structures: list[int]) -> str:
    named = ', '.join(str(index) for index in structures[:LISTED])
    more = f' and {len(structures) - LISTED} more' if len(structures) > LISTED else ''
    return f'{len(structures)} structure(s) ({named}{more})'


def _times(factor: float) -> str:
    return f'{factor:.0f}' if factor >= 10 else f'{factor:.2g}'
