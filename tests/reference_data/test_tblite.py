"""The embedded GFN1-xTB engine, run for real on the 16-atom gamma-Li3PS4 cell."""

from __future__ import annotations

import json

import ase.io
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from tblite.ase import TBLite

from aiida_glassceramic.calculations.reference_engine import structure_set
from aiida_glassceramic.calculations.tblite import TbliteCalculation
from aiida_glassceramic.runners.reference_engine import EXIT_BAD_INPUT
from aiida_glassceramic.runners.tblite import main
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.reference_engine_base import TbliteBaseWorkChain
from tests.reference_data.engine_checks import (
    OPTIONS,
    assert_killed_md_continues,
    assert_nve_conserves_energy,
    run_single_points,
)

MD = {'temperature': 300, 'timestep': 1.0, 'steps': 2}


def rattled(seed: int, amplitude: float = 0.05) -> ase.Atoms:
    atoms = read_crystal('gamma')
    atoms.rattle(amplitude, seed=seed)
    return atoms


def test_single_points_match_tblite_and_forces_sum_to_zero(tblite_code):
    images = [rattled(1)]
    results, node = run_single_points(TbliteCalculation, tblite_code, images, {'method': 'GFN1-xTB'})
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
    calculator = {'method': 'GFN1-xTB', 'max_iterations': 2}
    results, node = run_single_points(TbliteCalculation, tblite_code, [rattled(3)], calculator)
    assert node.exit_status == TbliteCalculation.exit_codes.ERROR_SCF_NOT_CONVERGED.status
    assert results['misc']['unconverged'] == [0]
    assert 'labels' not in results


def test_restart_work_chain_stops_on_a_failed_scf_and_keeps_the_converged_labels(tblite_code):
    """A structure whose SCF fails would fail again: the restart work chain runs one job, keeps the labels of the
    structure that converged (equal to tblite's own) and names the other."""
    from ase.build import bulk

    good, bad = rattled(1), bulk('Li2S', 'fluorite', a=5.70)  # Gamma-only GFN1-xTB: the primitive cell's SCF fails
    parameters = orm.Dict({'task': 'single_point', 'calculator': {'method': 'GFN1-xTB'}})
    calc = {'code': tblite_code, 'structures': structure_set([good, bad]), 'parameters': parameters}
    results, node = run_get_node(TbliteBaseWorkChain, calc={**calc, 'metadata': {'options': OPTIONS}})
    assert node.exit_status == TbliteBaseWorkChain.exit_codes.ERROR_CALCULATION_FAILED.status, node.exit_message
    assert len(node.called) == 1, 'a failed SCF is not run again'
    assert results['misc']['unconverged'] == [1]
    labels = results['labels'].get_training_set()
    good.calc = TBLite(method='GFN1-xTB', verbosity=0)
    np.testing.assert_allclose(labels.energies, [good.get_potential_energy()], atol=1e-6)


def test_nve_conserves_energy(tmp_path):
    assert_nve_conserves_energy(main, tmp_path, timestep=0.5, steps=16)


@pytest.mark.parametrize(
    ('md', 'message'),
    [
        ({'temperature': -5, 'timestep': 1.0, 'steps': 2}, 'md.temperature `-5`: must be a positive number (K)'),
        ({'temperature': 300, 'timestep': 1.0, 'steps': 2.7}, 'md.steps `2.7`: must be a positive whole number'),
        ({'temperature': 300, 'timestep': 1.0, 'steps': '2'}, "md.steps `'2'`: must be a positive whole number"),
        ({'temperature': '300', 'timestep': 1.0, 'steps': 2}, "md.temperature `'300'`"),
        ({'temperature': 300, 'timestep': 1.0, 'steps': 2, 'interval': 0}, 'md.interval `0`'),
    ],
)
def test_bad_input_exit_code(tmp_path, capsys, md, message):
    ase.io.write(tmp_path / 'structures.extxyz', read_crystal('gamma'))
    (tmp_path / 'input.json').write_text(json.dumps({'task': 'md', 'md': md}))
    arguments = ['--input', str(tmp_path / 'input.json'), '--structures', str(tmp_path / 'structures.extxyz')]
    assert main([*arguments, '--output-dir', str(tmp_path)]) == EXIT_BAD_INPUT
    assert message in capsys.readouterr().err


@pytest.mark.parametrize(
    ('settings', 'element', 'match'),
    [
        ({'md': {'temperature': 0, 'timestep': 1.0, 'steps': 2}}, None, r'md\.temperature'),
        ({'calculator': {'method': 'GFN3-xTB'}, 'md': MD}, None, r'calculator\.method `GFN3-xTB`'),
        ({'md': MD}, 'U', r'structure: element U \(Z = 92\) is beyond'),
    ],
)
def test_calcjob_refuses_bad_input_before_submission(aiida_profile, tblite_code, settings, element, match):
    atoms = read_crystal('gamma')
    if element:
        atoms[0].symbol = element
    parameters = orm.Dict({'task': 'md', **settings})
    with pytest.raises(ValueError, match=match):
        run_get_node(TbliteCalculation, code=tblite_code, structure=orm.StructureData(ase=atoms), parameters=parameters)


def test_killed_md_continues_from_positions_and_velocities(tblite_code):
    """A run killed by a CPU-time limit continues from its restart data along the same NVE path."""
    assert_killed_md_continues(TbliteCalculation, tblite_code, TBLite(method='GFN1-xTB', verbosity=0))
