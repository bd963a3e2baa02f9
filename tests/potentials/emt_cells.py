"""Labelled training structures with an independent reference: distorted Cu/Al fcc cells and ASE's EMT."""

from __future__ import annotations

import numpy as np
from ase.build import bulk
from ase.calculators.emt import EMT


def emt_structures(count: int, seed: int) -> list:
    """Distorted 8-atom Cu/Al fcc cells labelled by EMT."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        atoms = bulk('Cu', 'fcc', a=3.6, cubic=True).repeat((2, 1, 1))
        atoms.numbers[rng.choice(8, size=rng.integers(1, 4), replace=False)] = 13
        atoms.set_cell(atoms.cell.array @ (np.eye(3) + rng.normal(0, 0.02, (3, 3))), scale_atoms=True)
        atoms.positions += rng.normal(0, 0.08, atoms.positions.shape)
        atoms.calc = EMT()
        images.append(atoms)
    return images
