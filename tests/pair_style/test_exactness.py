"""pair_style glassceramic equals NNPotential.compute: energy, forces, per-atom energies and virial."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_glassceramic.structures import read_crystal

from .conftest import ELEMENTS, assert_matches, reference
from .lammps_run import evaluate


def sheared_beta(seed: int = 1):
    atoms = read_crystal('beta')
    shear = np.array([[1.0, 0.0, 0.0], [0.12, 1.0, 0.0], [-0.08, 0.15, 1.0]])
    atoms.set_cell(atoms.cell.array @ shear, scale_atoms=True)
    atoms.rattle(0.08, seed=seed)
    return atoms


@pytest.mark.parametrize('function', ['cos', 'poly2'])
def test_triclinic_rattled(function, potential_files, tmp_path):
    model, path = potential_files[function]
    result = evaluate(tmp_path, sheared_beta(), path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))
