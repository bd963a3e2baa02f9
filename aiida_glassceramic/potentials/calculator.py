"""ASE calculator for a trained potential."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from ase.calculators.calculator import Calculator, all_changes

from .io import load_potential
from .model import NNPotential


class NNPCalculator(Calculator):
    """Energy, forces and stress (ASE convention, eV/A^3) of an :class:`NNPotential` or a potential file."""

    implemented_properties = ('energy', 'free_energy', 'forces', 'stress')

    def __init__(self, potential: NNPotential | str | Path, **kwargs) -> None:
        super().__init__(**kwargs)
        self.model = potential if isinstance(potential, NNPotential) else load_potential(potential)

    def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes) -> None:
        super().calculate(atoms, properties, system_changes)
        if not all(self.atoms.pbc):
            raise ValueError('atoms.pbc: the potential needs a periodic cell in x, y and z')
        energy, forces, virial = self.model.compute(self.atoms.numbers, self.atoms.positions, self.atoms.cell.array)
        xx, yy, zz, xy, xz, yz = virial
        self.results = {
            'energy': energy,
            'free_energy': energy,
            'forces': forces,
            'stress': -np.array([xx, yy, zz, yz, xz, xy]) / self.atoms.get_volume(),
        }
