"""The embedded GFN1-xTB engine, run for real on the 16-atom gamma-Li3PS4 cell."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase import units
from ase.md.verlet import VelocityVerlet
from tblite.ase import TBLite

from aiida_glassceramic.calculations.tblite import TbliteCalculation, structure_set
from aiida_glassceramic.engines.tblite_runner import EXIT_BAD_INPUT, main
from aiida_glassceramic.structures import read_crystal

OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}


def rattled(seed: int, amplitude: float = 0.05) -> ase.Atoms:
    atoms = read_crystal('gamma')
    atoms.rattle(amplitude, seed=seed)
    return atoms


def test_single_points_match_tblite_and_forces_sum_to_zero(tblite_code):
    images = [rattled(1)]
    parameters = orm.Dict({'task': 'single_point', 'calculator': {'method': 'GFN1-xTB'}})
    results, node = run_get_node(
        TbliteCalculation,
        code=tblite_code,
        structures=structure_set(images),
        parameters=parameters,
        metadata={'options': OPTIONS},
    )
    assert node.is_finished_ok, node.exit_message
    labels = results['labels'].get_training_set()
    assert labels.natoms.tolist() == [16]
    for index, atoms in enumerate(images):
        atoms.calc = TBLite(method='GFN1-xTB', verbosity=0)
        # Newton's third law: the forces on a periodic cell sum to zero
        np.testing.assert_allclose(labels.structure(index).get_forces().sum(axis=0), 0.0, atol=1e-6)
        np.testing.assert_allclose(labels.energies[index], atoms.get_potential_energy(), atol=1e-6)
        np.testing.assert_allclose(labels.structure(index).get_forces(), atoms.get_forces(), atol=1e-6)


def test_unconverged_scf_is_flagged(tblite_code):
    parameters = orm.Dict({'task': 'single_point', 'calculator': {'method': 'GFN1-xTB', 'max_iterations': 2}})
    results, node = run_get_node(
        TbliteCalculation,
        code=tblite_code,
        structures=structure_set([rattled(3)]),
        parameters=parameters,
        metadata={'options': OPTIONS},
    )
    assert node.exit_status == TbliteCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED.status
    assert results['misc']['unconverged'] == [0]
    assert 'labels' not in results


def test_nve_conserves_energy(tmp_path):
    """A short NVE run: total energy drifts far less than the kinetic energy exchanged."""
    ase.io.write(tmp_path / 'structures.extxyz', read_crystal('gamma'))
    config = {'task': 'md', 'md': {'thermostat': 'nve', 'temperature': 300, 'timestep': 0.5, 'steps': 16}}
    (tmp_path / 'input.json').write_text(json.dumps(config))
    arguments = ['--input', str(tmp_path / 'input.json'), '--structures', str(tmp_path / 'structures.extxyz')]
    assert main([*arguments, '--output-dir', str(tmp_path)]) == 0
    frames = ase.io.read(tmp_path / 'trajectory.extxyz', index=':')
    potential = np.array([frame.get_potential_energy() for frame in frames])
    kinetic = np.array([frame.get_kinetic_energy() for frame in frames])
    total = potential + kinetic
    assert len(frames) == 17
    assert np.ptp(kinetic) > 0.05  # energy does flow between kinetic and potential
    assert np.ptp(total) < 0.05 * np.ptp(kinetic)


def test_bad_input_exit_code(tmp_path, capsys):
    ase.io.write(tmp_path / 'structures.extxyz', read_crystal('gamma'))
    config = {'task': 'md', 'md': {'temperature': -5, 'timestep': 1.0, 'steps': 2}}
    (tmp_path / 'input.json').write_text(json.dumps(config))
    arguments = ['--input', str(tmp_path / 'input.json'), '--structures', str(tmp_path / 'structures.extxyz')]
    assert main([*arguments, '--output-dir', str(tmp_path)]) == EXIT_BAD_INPUT
    assert 'md.temperature' in capsys.readouterr().err


def test_calcjob_refuses_bad_parameters(aiida_profile, tblite_code):
    parameters = orm.Dict({'task': 'md', 'md': {'temperature': 0, 'timestep': 1.0, 'steps': 2}})
    structure = orm.StructureData(ase=read_crystal('gamma'))
    with pytest.raises(ValueError, match=r'md\.temperature'):
        run_get_node(TbliteCalculation, code=tblite_code, structure=structure, parameters=parameters)


def test_killed_md_continues_from_positions_and_velocities(tblite_code):
    """A run killed by a CPU-time limit continues from its restart data along the same NVE path."""
    structure = orm.StructureData(ase=read_crystal('gamma'))
    md = {'thermostat': 'nve', 'temperature': 600, 'timestep': 1.0, 'steps': 24, 'interval': 2}
    parameters = orm.Dict({'task': 'md', 'md': md})
    killed_options = {**OPTIONS, 'prepend_text': 'ulimit -t 5'}
    first, node = run_get_node(
        TbliteCalculation,
        code=tblite_code,
        structure=structure,
        parameters=parameters,
        metadata={'options': killed_options},
    )
    assert node.exit_status == TbliteCalculation.exit_codes.ERROR_MD_INCOMPLETE.status
    reached = int(first['restart'].get_array('step'))
    assert 0 < reached < 24
    assert first['trajectory'].get_stepids()[-1] == reached

    second, node = run_get_node(
        TbliteCalculation,
        code=tblite_code,
        structure=structure,
        parameters=orm.Dict({'task': 'md', 'md': {**md, 'steps': reached + 4}}),
        restart=first['restart'],
        metadata={'options': OPTIONS},
    )
    assert node.is_finished_ok, node.exit_message
    assert second['trajectory'].get_stepids().tolist() == [reached + 2, reached + 4]

    # reference: ASE velocity Verlet with tblite from the restart point, independent of the runner
    atoms = ase.Atoms(
        numbers=first['restart'].get_array('numbers'),
        positions=first['restart'].get_array('positions'),
        cell=first['restart'].get_array('cell'),
        pbc=True,
    )
    atoms.set_velocities(first['restart'].get_array('velocities'))
    atoms.calc = TBLite(method='GFN1-xTB', verbosity=0)
    VelocityVerlet(atoms, 1.0 * units.fs).run(4)
    np.testing.assert_allclose(second['trajectory'].get_positions()[-1], atoms.positions, atol=1e-6)
