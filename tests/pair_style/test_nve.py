"""NVE with pair_style glassceramic follows the fix external (torch) path step for step and conserves energy as it."""

from __future__ import annotations

import numpy as np
import pytest

from aiida_glassceramic.engines import lammps_scripts as scripts
from aiida_glassceramic.potentials.io import save_potential

from .conftest import ELEMENTS
from .lammps_run import write_data
from .test_mpi import cell_64
from .test_workflow_scripts import run_driver

STEPS = 100
DYNAMICS = f"""velocity all create 300 4928459 loop geom
timestep 0.001
fix md all nve
thermo_style custom step pe ke etotal
thermo_modify format float %.17g
thermo 10
run {STEPS}
write_dump all custom final.dump id xu yu zu modify sort id format float %.17g
"""


def nve(folder, commands: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Total energy every 10 steps and the final unwrapped positions."""
    folder.mkdir()
    write_data(cell_64(), folder / 'structure.data', ELEMENTS)
    text = 'units metal\natom_style atomic\nboundary p p p\nread_data structure.data\n' + '\n'.join(commands)
    output = run_driver(folder, text + '\n' + DYNAMICS, 1)
    rows = [line.split() for line in output.splitlines() if line.split() and line.split()[0].isdigit()]
    energies = np.array([float(row[3]) for row in rows if len(row) == 4])
    return energies, np.loadtxt(folder / 'final.dump', skiprows=9)[:, 1:4]


@pytest.mark.parametrize('skin', [None, 1.0])
def test_nve_pair_style_equals_fix_external(skin, potential_files, tmp_path):
    """Also with the driver's neighbour-list reuse (``nnp_skin``), the GPU path's way of sparing the host."""
    model, path = potential_files['poly2']
    torch_file = save_potential(model, tmp_path / 'potential.pt')
    native, native_positions = nve(tmp_path / 'pair', scripts.pair_style_block(ELEMENTS, str(path)))
    driver = scripts.nnp_block(ELEMENTS, model.cutoff, str(torch_file))
    if skin is not None:
        driver.insert(0, f'variable nnp_skin string {skin}')
    driven, driven_positions = nve(tmp_path / 'driver', driver)
    assert len(native) == STEPS // 10 + 1
    assert np.abs(native - driven).max() < 1e-8 * np.abs(driven).max()
    assert np.abs(native_positions - driven_positions).max() < 1e-8
    assert np.abs(native - native[0]).max() / 64 < 1e-4  # eV/atom over 0.1 ps at 1 fs
