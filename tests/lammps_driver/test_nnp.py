"""The neural network potential inside LAMMPS: energy, forces and virial equal ``NNPotential.compute``; MD works."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from aiida_glassceramic.potentials.io import load_potential
from aiida_glassceramic.potentials.lammps_driver import Driver
from aiida_glassceramic.structures import read_crystal, supercell

from .conftest import NNP_ELEMENTS, QUIET, by_tag, lammps_data_text, nnp_script, thermo_rows

EXECUTABLE = Path(sys.executable).with_name('glassceramic-lmp')


def distorted_cell(seed: int):
    """beta-Li3PS4 under a general (non-symmetric) strain of a few percent, rattled by 0.05 A."""
    rng = np.random.default_rng(seed)
    atoms = read_crystal('beta')
    deformation = np.eye(3) + rng.uniform(-0.04, 0.04, (3, 3))
    atoms.set_cell(atoms.cell.array @ deformation, scale_atoms=True)
    atoms.rattle(0.05, seed=seed)
    return atoms


@pytest.mark.parametrize('type_order', [NNP_ELEMENTS, ('S', 'Li', 'P')], ids=['Li-P-S', 'S-Li-P'])
@pytest.mark.parametrize('seed', [1, 2])
def test_lammps_equals_compute_on_distorted_cells(tmp_path, random_potential, seed, type_order):
    atoms = distorted_cell(seed)
    (tmp_path / 'cell.data').write_text(lammps_data_text(atoms, type_order))
    with Driver(QUIET) as driver:
        driver.run_text(nnp_script(tmp_path / 'cell.data', 'run 0\n', type_order, random_potential))
        lmp = driver.lmp
        boxlo, boxhi, xy, yz, xz, _, _ = lmp.extract_box()
        lammps_cell = np.array(
            [[boxhi[0] - boxlo[0], 0, 0], [xy, boxhi[1] - boxlo[1], 0], [xz, yz, boxhi[2] - boxlo[2]]]
        )
        energy, forces = lmp.get_thermo('pe'), by_tag(lmp, 'f')
        pressure_to_virial = lmp.get_thermo('vol') / lmp.extract_global('nktv2p')
        virial = np.array([lmp.get_thermo(key) for key in ('pxx', 'pyy', 'pzz', 'pxy', 'pxz', 'pyz')])
        virial *= pressure_to_virial  # no velocities: the pressure is the virial over the volume
        assert lmp.get_thermo('ke') == 0.0

    # reference: the model on the unrotated ASE cell; LAMMPS' frame is a rotation Q of it
    expected_energy, expected_forces, w = load_potential(random_potential).compute(
        atoms.numbers, atoms.positions, atoms.cell.array
    )
    rotation = np.linalg.solve(atoms.cell.array, lammps_cell)
    np.testing.assert_allclose(rotation @ rotation.T, np.eye(3), atol=1e-10)
    assert abs(np.linalg.det(rotation) - 1) < 1e-10 and not np.allclose(rotation, np.eye(3), atol=1e-3)
    tensor = np.array([[w[0], w[3], w[4]], [w[3], w[1], w[5]], [w[4], w[5], w[2]]])
    rotated = rotation.T @ tensor @ rotation
    expected_virial = rotated[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]

    natoms = len(atoms)
    assert abs(energy - expected_energy) / natoms < 1e-8
    np.testing.assert_allclose(forces, expected_forces @ rotation, rtol=0, atol=1e-8)
    np.testing.assert_allclose(virial / natoms, expected_virial / natoms, rtol=0, atol=1e-8)
    assert np.abs(expected_forces).max() > 1e-2 and np.abs(expected_virial[3:]).max() > 1e-3


def run_executable(arguments, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXECUTABLE), *arguments], cwd=cwd, capture_output=True, text=True, timeout=300, check=False
    )


@pytest.mark.parametrize(
    ('elements', 'potential', 'message'),
    [
        (('Li', 'P', 'Se'), None, 'knows only Li, P, S, not `Se`'),
        (('Li', 'P'), None, '2 names for 3 atom types'),
        (NNP_ELEMENTS, 'not-a-model.pt', 'cannot load a potential from it'),
    ],
    ids=['unknown-element', 'fewer-elements', 'not-a-model-file'],
)
def test_bad_set_up_is_a_clear_error(tmp_path, random_potential, elements, potential, message):
    (tmp_path / 'cell.data').write_text(lammps_data_text(read_crystal('beta')))
    (tmp_path / 'not-a-model.pt').write_text('pair_coeff * * Li P S\n')
    script = nnp_script('cell.data', 'run 0\n', elements, potential or str(random_potential))
    (tmp_path / 'in.nnp').write_text(script)
    done = run_executable(['-in', 'in.nnp', '-log', 'none'], tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    assert any(line.startswith('ERROR: glassceramic-lmp:') for line in done.stdout.splitlines())


def test_elements_and_dtype_from_the_command_line(tmp_path, random_potential):
    atoms = read_crystal('beta')
    (tmp_path / 'cell.data').write_text(lammps_data_text(atoms))
    script = nnp_script('cell.data', 'run 0\nprint "PE $(pe:%.10f)"\n').replace('variable nnp_', '# variable nnp_')
    (tmp_path / 'in.nnp').write_text(script)
    energies = {}
    for dtype in ('float64', 'float32'):
        arguments = ['-var', 'nnp_elements', 'Li P S', '-var', 'nnp_potential', str(random_potential)]
        done = run_executable(['-in', 'in.nnp', '-log', 'none', *arguments, '-var', 'nnp_dtype', dtype], tmp_path)
        assert done.returncode == 0, done.stderr
        energies[dtype] = float(done.stdout.split('PE ')[1].split()[0])
    expected, _, _ = load_potential(random_potential).compute(atoms.numbers, atoms.positions, atoms.cell.array)
    assert energies['float64'] == pytest.approx(expected, abs=1e-8 * len(atoms))
    assert energies['float32'] == pytest.approx(expected, abs=1e-4 * len(atoms))


NVE_PICOSECONDS = 10
# Total-energy drift over 10 ps at 1 fs. With the poly2 cut-off of the trained potential: drift 3.9e-6 eV/atom, total
# energy within a 4.2e-5 eV/atom band; the same training with the cosine cut-off (whose second derivative jumps where
# pairs cross the cut-off) gave 3.1e-5 and a 2.9e-4 band.
NVE_DRIFT_BOUND = 1e-4


@pytest.mark.slow
def test_nve_conserves_energy(tmp_path, trained_potential):
    """256 atoms, 10 ps at 1 fs from 300 K: total energy drifts by less than NVE_DRIFT_BOUND eV/atom."""
    atoms = supercell(read_crystal('beta'), (2, 2, 2))
    (tmp_path / 'cell.data').write_text(lammps_data_text(atoms))
    steps = NVE_PICOSECONDS * 1000
    body = f'velocity all create 300 4928459 mom yes rot yes\ntimestep 0.001\nfix md all nve\nthermo 100\nrun {steps}\n'
    with Driver(['-screen', 'none', '-log', str(tmp_path / 'nve.log')]) as driver:
        driver.run_text(nnp_script(tmp_path / 'cell.data', body, potential=trained_potential))
        calls = driver.couplings['nnp'].calls
    rows = np.array(thermo_rows(tmp_path / 'nve.log'))  # step pe ke etotal temp press vol
    assert len(atoms) >= 256 and calls == steps + 1 and rows[-1, 0] == steps
    time_ps, total = rows[:, 0] / 1000, rows[:, 3] / len(atoms)
    drift = np.polyfit(time_ps, total, 1)[0] * NVE_PICOSECONDS
    assert abs(drift) < NVE_DRIFT_BOUND, f'drift {drift:.2e} eV/atom over {NVE_PICOSECONDS} ps'
    assert abs(total[-1] - total[0]) < NVE_DRIFT_BOUND
    assert np.ptp(rows[:, 2]) / len(atoms) > 1e-3, 'kinetic and potential energy must exchange'
    assert 100 < rows[-1, 4] < 600


def test_npt_changes_the_volume(tmp_path, trained_potential):
    """Under the barostat the same cell ends smaller at 20 kbar than at 1 bar: the virial reaches LAMMPS."""
    atoms = supercell(read_crystal('beta'), (1, 2, 2))
    (tmp_path / 'cell.data').write_text(lammps_data_text(atoms))
    volumes = {}
    for pressure in (1.0, 20000.0):
        body = (
            'velocity all create 300 4928459 mom yes rot yes\ntimestep 0.001\n'
            f'fix md all npt temp 300 300 0.1 iso {pressure} {pressure} 0.1\nthermo 50\nrun 400\n'
        )
        log = tmp_path / f'npt_{pressure:.0f}.log'
        with Driver(['-screen', 'none', '-log', str(log)]) as driver:
            driver.run_text(nnp_script(tmp_path / 'cell.data', body, potential=trained_potential))
        rows = np.array(thermo_rows(log))  # step pe ke etotal temp press vol
        volumes[pressure] = rows[-100 // 50 :, 6].mean()
        start_volume = rows[0, 6]
    assert volumes[20000.0] < 0.98 * volumes[1.0], volumes
    assert volumes[20000.0] < start_volume, 'compressed at 20 kbar'


def test_closer_than_training_data_warns(tmp_path, trained_potential):
    atoms = read_crystal('beta')
    lithium = [index for index, symbol in enumerate(atoms.get_chemical_symbols()) if symbol == 'Li']
    sulfur = [index for index, symbol in enumerate(atoms.get_chemical_symbols()) if symbol == 'S']
    direction = atoms.get_distance(lithium[0], sulfur[0], mic=True, vector=True)
    atoms.positions[lithium[0]] += direction * (1 - 1.2 / np.linalg.norm(direction))  # Li-S at 1.2 A
    (tmp_path / 'cell.data').write_text(lammps_data_text(atoms))
    (tmp_path / 'in.close').write_text(nnp_script('cell.data', 'run 0\n', potential=trained_potential))
    done = run_executable(['-in', 'in.close', '-log', 'none'], tmp_path)
    assert done.returncode == 0, done.stderr
    assert 'CloseContactWarning' in done.stderr and 'Li-S' in done.stderr
    assert any(line.startswith('WARNING: glassceramic-lmp: CloseContactWarning') for line in done.stdout.splitlines())
