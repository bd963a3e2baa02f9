"""Small test structures: the bundled crystals and disordered cells of the same composition and density."""

from __future__ import annotations

import ase
import numpy as np

from aiida_glassceramic.structures import read_crystal, supercell


def beta(repeats=(1, 1, 1)) -> ase.Atoms:
    return supercell(read_crystal('beta'), repeats)


def random_gas(repeats=(1, 1, 1), seed: int = 0) -> ase.Atoms:
    """Beta's cell and composition with every atom at a uniformly random position (no order at all)."""
    atoms = beta(repeats)
    atoms.set_scaled_positions(np.random.default_rng(seed).random((len(atoms), 3)))
    return atoms


def sheared(atoms: ase.Atoms) -> ase.Atoms:
    """The same atoms in a triclinic cell (a, b tilted), positions kept fractional."""
    cell = atoms.cell.array.copy()
    cell[1] += 0.3 * cell[0]
    cell[2] += 0.2 * cell[0] - 0.1 * cell[1]
    atoms = atoms.copy()
    atoms.set_cell(cell, scale_atoms=True)
    return atoms
