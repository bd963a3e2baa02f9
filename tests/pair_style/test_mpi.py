"""pair_style glassceramic under MPI domain decomposition: the same numbers on 1, 2 and 3 ranks."""

from __future__ import annotations

import re

import numpy as np
import pytest

from aiida_glassceramic.structures import read_crystal

from .conftest import ELEMENTS, assert_matches, reference
from .lammps_run import evaluate

TRAJECTORY = """velocity all create 600 4928459 loop geom
timestep 0.0005
{fix}
run 200
write_dump all custom unwrapped.dump id xu yu zu modify sort id format float %.17g
"""
FIXES = {
    'nvt': 'fix md all nvt temp 600 600 0.05',
    'npt': 'fix md all npt temp 600 600 0.05 tri 0 0 0.2',
}


def cell_64():
    """64 atoms in a triclinic cell, rattled."""
    atoms = read_crystal('beta').repeat((1, 2, 1))
    shear = np.array([[1.0, 0.0, 0.0], [0.1, 1.0, 0.0], [0.05, -0.1, 1.0]])
    atoms.set_cell(atoms.cell.array @ shear, scale_atoms=True)
    atoms.rattle(0.05, seed=5)
    return atoms


def processors(output: str) -> int:
    """The number of MPI ranks of LAMMPS' processor grid line."""
    grid = re.search(r'(\d+) by (\d+) by (\d+) MPI processor grid', output)
    return int(grid[1]) * int(grid[2]) * int(grid[3])


def test_one_two_three_ranks(potential_files, tmp_path):
    model, path = potential_files['cos']
    results = [evaluate(tmp_path / f'{ranks}', cell_64(), path, ELEMENTS, ranks=ranks) for ranks in (1, 2, 3)]
    assert [processors(result.output) for result in results] == [1, 2, 3]
    expected = reference(model, results[0].numbers, results[0].positions, results[0].cell)
    for result in results:
        assert_matches(result, expected)
        assert np.abs(result.forces - results[0].forces).max() < 1e-10 * np.abs(expected['forces']).max()


@pytest.mark.parametrize('ensemble', sorted(FIXES))
def test_trajectory_one_and_two_ranks(ensemble, potential_files, tmp_path):
    """200 steps of NVT or NPT (triclinic barostat) end at the same positions (1e-8 A) on 1 and 2 ranks."""
    _, path = potential_files['poly2']
    body = TRAJECTORY.format(fix=FIXES[ensemble])
    start = cell_64()
    finals, cells = [], []
    for ranks in (1, 2):
        folder = tmp_path / f'{ranks}'
        result = evaluate(folder, cell_64(), path, ELEMENTS, ranks=ranks, body=body)
        finals.append(np.loadtxt(folder / 'unwrapped.dump', skiprows=9)[:, 1:4])
        cells.append(result.cell)
    assert np.abs(finals[0] - finals[1]).max() < 1e-8
    assert np.abs(cells[0] - cells[1]).max() < 1e-8
    if ensemble == 'npt':
        assert np.abs(cells[0] - start.cell.array).max() > 1e-3  # the barostat moved the cell
