"""Labelled structures for training: ragged arrays, one row per atom or per structure.

A training set of tens of thousands of structures is a handful of arrays, never one object per structure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from pathlib import Path

import ase
import ase.io
import numpy as np
from ase.calculators.calculator import PropertyNotImplementedError
from ase.calculators.singlepoint import SinglePointCalculator

ATOM_ARRAYS = ('numbers', 'positions', 'forces')
STRUCTURE_ARRAYS = ('natoms', 'cells', 'energies', 'stresses')


class TrainingSetError(ValueError):
    """Inconsistent or incomplete training data."""


@dataclass(frozen=True)
class TrainingSet:
    """Structures with energies, forces and (optionally) stresses.

    Per atom (all structures concatenated): ``numbers`` (A,), ``positions`` and ``forces`` (A, 3) in A and eV/A.
    Per structure: ``natoms`` (S,), ``cells`` (S, 3, 3) in A (rows are lattice vectors), ``energies`` (S,) in eV,
    ``stresses`` (S, 6) in eV/A^3 (Voigt xx yy zz yz xz xy) or ``None``. Every structure is periodic.
    """

    numbers: np.ndarray
    positions: np.ndarray
    forces: np.ndarray
    natoms: np.ndarray
    cells: np.ndarray
    energies: np.ndarray
    stresses: np.ndarray | None = None

    def __post_init__(self) -> None:
        for name, dtype in (('numbers', np.int32), ('natoms', np.int64)):
            object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=dtype))
        for name in ('positions', 'forces', 'cells', 'energies', 'stresses'):
            if getattr(self, name) is not None:
                object.__setattr__(self, name, np.ascontiguousarray(getattr(self, name), dtype=np.float64))
        self._validate()

    def _validate(self) -> None:
        natoms_total, nstructures = int(self.natoms.sum()), len(self.natoms)
        expected = {
            'numbers': (natoms_total,),
            'positions': (natoms_total, 3),
            'forces': (natoms_total, 3),
            'cells': (nstructures, 3, 3),
            'energies': (nstructures,),
            'stresses': (nstructures, 6),
        }
        for name, shape in expected.items():
            array = getattr(self, name)
            if array is not None and array.shape != shape:
                raise TrainingSetError(f'training set `{name}`: shape {array.shape}, expected {shape}')
        if nstructures and self.natoms.min() < 1:
            raise TrainingSetError('training set `natoms`: every structure needs at least one atom')
        for name in ('positions', 'forces', 'cells', 'energies', 'stresses'):
            array = getattr(self, name)
            if array is not None and not np.all(np.isfinite(array)):
                raise TrainingSetError(f'training set `{name}`: contains NaN or infinite values')

    def __len__(self) -> int:
        return len(self.natoms)

    @property
    def offsets(self) -> np.ndarray:
        """Start of each structure in the per-atom arrays, plus the total number of atoms at the end."""
        return np.concatenate([[0], np.cumsum(self.natoms)])

    @property
    def species(self) -> list[str]:
        """The element symbols present, sorted alphabetically."""
        return sorted({ase.data.chemical_symbols[z] for z in np.unique(self.numbers)})

    @classmethod
    def from_atoms(cls, images: Sequence[ase.Atoms]) -> TrainingSet:
        """Collect structures labelled by a calculator (or by ``info['energy']`` and ``arrays['forces']``)."""
        if not images:
            raise TrainingSetError('training set: no structures given')
        energies, forces, stresses = [], [], []
        for index, atoms in enumerate(images):
            if not all(atoms.pbc):
                raise TrainingSetError(f'structure {index}: every training structure must be periodic in x, y and z')
            energy, force, stress = _labels(atoms, index)
            energies.append(energy)
            forces.append(force)
            stresses.append(stress)
        has_stress = all(stress is not None for stress in stresses)
        return cls(
            numbers=np.concatenate([atoms.numbers for atoms in images]),
            positions=np.concatenate([atoms.positions for atoms in images]),
            forces=np.concatenate(forces),
            natoms=np.array([len(atoms) for atoms in images]),
            cells=np.stack([atoms.cell.array for atoms in images]),
            energies=np.array(energies),
            stresses=np.stack(stresses) if has_stress else None,
        )

    def structure(self, index: int) -> ase.Atoms:
        """One structure as labelled :class:`ase.Atoms` (single-point calculator attached)."""
        start, stop = self.offsets[index], self.offsets[index + 1]
        atoms = ase.Atoms(
            numbers=self.numbers[start:stop], positions=self.positions[start:stop], cell=self.cells[index], pbc=True
        )
        results = {'energy': float(self.energies[index]), 'forces': self.forces[start:stop].copy()}
        if self.stresses is not None:
            results['stress'] = self.stresses[index].copy()
        atoms.calc = SinglePointCalculator(atoms, **results)
        return atoms

    def to_atoms(self) -> list[ase.Atoms]:
        return [self.structure(index) for index in range(len(self))]

    def subset(self, indices: Sequence[int] | np.ndarray) -> TrainingSet:
        """The structures at ``indices``, in that order."""
        indices = np.asarray(indices, dtype=np.int64)
        if indices.size and (indices.min() < -len(self) or indices.max() >= len(self)):
            raise TrainingSetError(f'training set subset: indices out of range for {len(self)} structures')
        offsets = self.offsets
        atom_index = (
            np.concatenate([np.arange(offsets[i], offsets[i + 1]) for i in indices])
            if indices.size
            else np.zeros(0, dtype=np.int64)
        )
        return TrainingSet(
            numbers=self.numbers[atom_index],
            positions=self.positions[atom_index],
            forces=self.forces[atom_index],
            natoms=self.natoms[indices],
            cells=self.cells[indices],
            energies=self.energies[indices],
            stresses=None if self.stresses is None else self.stresses[indices],
        )

    def split(self, fraction: float = 0.8, seed: int = 0) -> tuple[TrainingSet, TrainingSet]:
        """Random split into (train, test) with ``fraction`` of the structures in train."""
        if not 0.0 < fraction < 1.0:
            raise TrainingSetError(f'split fraction `{fraction}`: must lie strictly between 0 and 1')
        if len(self) < 2:
            raise TrainingSetError('training set split: needs at least two structures')
        order = np.random.default_rng(seed).permutation(len(self))
        ntrain = min(max(1, round(fraction * len(self))), len(self) - 1)
        return self.subset(np.sort(order[:ntrain])), self.subset(np.sort(order[ntrain:]))

    @classmethod
    def merge(cls, *sets: TrainingSet) -> TrainingSet:
        """Concatenate training sets; stresses are kept only if every set has them."""
        if not sets:
            raise TrainingSetError('training set merge: nothing to merge')
        keep_stress = all(each.stresses is not None for each in sets)
        arrays = {
            field.name: np.concatenate([getattr(each, field.name) for each in sets])
            for field in fields(cls)
            if field.name != 'stresses'
        }
        arrays['stresses'] = np.concatenate([each.stresses for each in sets]) if keep_stress else None
        return cls(**arrays)

    def deduplicate(self, tolerance: float = 1e-6) -> TrainingSet:
        """Drop structures identical (same species, cell and positions within ``tolerance`` A) to an earlier one."""
        seen: dict[tuple, list[int]] = {}
        keep = []
        offsets = self.offsets
        for index in range(len(self)):
            start, stop = offsets[index], offsets[index + 1]
            key = (int(self.natoms[index]), self.numbers[start:stop].tobytes())
            candidates = seen.setdefault(key, [])
            duplicate = any(
                np.allclose(self.cells[other], self.cells[index], atol=tolerance)
                and np.allclose(
                    self.positions[offsets[other] : offsets[other + 1]], self.positions[start:stop], atol=tolerance
                )
                for other in candidates
            )
            if not duplicate:
                candidates.append(index)
                keep.append(index)
        return self.subset(keep)

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name (``stresses`` only when present)."""
        return {
            field.name: getattr(self, field.name) for field in fields(self) if getattr(self, field.name) is not None
        }

    def save_npz(self, path: str | Path) -> None:
        np.savez(path, **self.arrays())

    @classmethod
    def load_npz(cls, path: str | Path) -> TrainingSet:
        with np.load(path) as data:
            missing = [name for name in (*ATOM_ARRAYS, 'natoms', 'cells', 'energies') if name not in data]
            if missing:
                raise TrainingSetError(f'training set file `{path}`: missing arrays {missing}')
            return cls(**{name: data[name] for name in data.files})

    def write_extxyz(self, path: str | Path) -> None:
        """Write extended XYZ (energy, forces, stress) readable by ASE and most potential-fitting codes."""
        ase.io.write(path, self.to_atoms(), format='extxyz')


def _labels(atoms: ase.Atoms, index: int) -> tuple[float, np.ndarray, np.ndarray | None]:
    """Energy, forces and stress of a labelled structure (computed by its calculator if need be)."""
    if atoms.calc is not None:
        energy, forces = atoms.get_potential_energy(), atoms.get_forces()
        try:
            stress = atoms.get_stress()
        except PropertyNotImplementedError:
            stress = None
    else:
        energy, forces, stress = atoms.info.get('energy'), atoms.arrays.get('forces'), atoms.info.get('stress')
    if energy is None or forces is None:
        raise TrainingSetError(f'structure {index}: needs an energy and forces (attach a calculator with results)')
    if stress is not None:
        stress = np.asarray(stress, dtype=float)
        if stress.shape == (3, 3):
            stress = stress.reshape(9)[[0, 4, 8, 5, 2, 1]]
    return float(energy), np.asarray(forces, dtype=float), stress
