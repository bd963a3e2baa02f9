"""Supercells, strain and the vacancy models of the reference data set."""

from __future__ import annotations

from collections.abc import Sequence

import ase
import numpy as np

from .io import StructureError, read_crystal


def supercell(atoms: ase.Atoms, repeats: Sequence[int]) -> ase.Atoms:
    """Repeat a cell ``repeats = (na, nb, nc)`` times; the paper's MD model is beta x (6, 6, 5) = 5760 atoms."""
    repeats = tuple(int(n) for n in repeats)
    if len(repeats) != 3 or min(repeats) < 1:
        raise StructureError(f'repeats `{repeats}`: need three positive integers, e.g. (6, 6, 5)')
    return atoms.repeat(repeats)


def repeat_along(atoms: ase.Atoms, natoms: int, axis: int = 0) -> ase.Atoms:
    """Repeat the cell along one axis (default a) until it holds ``natoms`` atoms."""
    if natoms % len(atoms):
        raise StructureError(f'natoms `{natoms}`: not a multiple of the {len(atoms)} atoms of the cell')
    repeats = [1, 1, 1]
    repeats[axis] = natoms // len(atoms)
    return supercell(atoms, repeats)


def reference_cell(polymorph: str, natoms: int) -> ase.Atoms:
    """The 32- or 64-atom cells of the reference data (bundled polymorph, repeated along a)."""
    return repeat_along(read_crystal(polymorph), natoms, axis=0)


def strain_isotropic(atoms: ase.Atoms, strain: float) -> ase.Atoms:
    """Scale every lattice vector by ``1 + strain`` (fractional coordinates kept); volume ratio (1 + strain)**3."""
    if not -0.5 < strain < 0.5:
        raise StructureError(f'strain `{strain}`: give a fraction such as -0.02 or 0.02, not a percentage')
    strained = atoms.copy()
    strained.set_cell(atoms.cell * (1.0 + strain), scale_atoms=True)
    return strained


def li_vacancy(atoms: ase.Atoms, seed: int = 0) -> ase.Atoms:
    """Remove one Li atom chosen at random with ``seed``."""
    rng = np.random.default_rng(seed)
    lithium = _indices(atoms, 'Li')
    return _without(atoms, [int(rng.choice(lithium))])


def li2s_vacancy(atoms: ase.Atoms, seed: int = 0) -> ase.Atoms:
    """Remove one formula unit of Li2S around a random S: that S and its two nearest Li (charge neutral).

    Li+ and S2- carry charges +1 and -2, so a neutral Li2S vacancy removes two Li for each S; the S is
    chosen at random with ``seed`` and the Li are its nearest neighbours under periodic boundaries.
    """
    rng = np.random.default_rng(seed)
    sulfur = int(rng.choice(_indices(atoms, 'S')))
    lithium = _indices(atoms, 'Li')
    if len(lithium) < 2:
        raise StructureError('structure: a Li2S vacancy needs at least two Li atoms')
    distances = atoms.get_distances(sulfur, lithium, mic=True)
    nearest = lithium[np.argsort(distances, kind='stable')[:2]]
    return _without(atoms, [sulfur, *nearest.tolist()])


def _indices(atoms: ase.Atoms, symbol: str) -> np.ndarray:
    indices = np.flatnonzero(np.asarray(atoms.get_chemical_symbols()) == symbol)
    if indices.size == 0:
        raise StructureError(f'structure {atoms.get_chemical_formula()}: has no {symbol} atom to remove')
    return indices


def _without(atoms: ase.Atoms, remove: list[int]) -> ase.Atoms:
    keep = np.setdiff1d(np.arange(len(atoms)), remove)
    return atoms[keep]
