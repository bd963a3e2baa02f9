"""Dynamics that blow up, with real LAMMPS: one rerun with the timestep halved over the same simulated time, then
exit code 311.

The numbers were measured with the venv's ``lmp`` on the 128-atom beta cell with the test pair potential (NPT,
1 bar, seven velocity seeds each): at 1500 K from the crystal, 8 fs loses atoms (or overflows the neighbour bins)
within 100 steps and 4 fs runs 800 steps; 300 K runs 1000 steps of 9 fs, and heating that state to 1500 K at 9 fs
loses atoms 40 to 70 steps later while 4.5 fs runs 200 steps. At 600 K, 40 fs and 20 fs both blow up within the
first 10 steps. Two atoms on one site give infinite energy at step 0.
"""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.lammps import LammpsCalculation
from aiida_glassceramic.engines import lammps_scripts as scripts
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.lammps_base import LammpsBaseWorkChain

from .conftest import ELEMENTS
from .test_handlers import RELAX

UNSTABLE_RUN = LammpsCalculation.exit_codes.ERROR_UNSTABLE_DYNAMICS.status
UNSTABLE = LammpsBaseWorkChain.exit_codes.ERROR_LAMMPS_UNSTABLE.status
RUN_FAILED = AnnealWorkChain.exit_codes.ERROR_RUN_FAILED.status


def anneal_overrides(*, timestep_fs, temperature, steps, chunk_steps, snapshot_steps) -> dict:
    """NPT at 1 bar for ``steps`` steps of ``timestep_fs`` in chunks of ``chunk_steps``, thermo every 10 steps and a
    snapshot every ``snapshot_steps``."""
    to_ps = timestep_fs / 1000.0
    return {
        'common': {'timestep_fs': timestep_fs, 'thermo_interval_steps': 10},
        'anneal': {
            'temperature': temperature,
            'pressure_bar': 1.0,
            'total_ps': steps * to_ps,
            'chunk_ps': chunk_steps * to_ps,
            'snapshot_interval_ps': snapshot_steps * to_ps,
            'snapshot_start_ps': snapshot_steps * to_ps,
        },
    }


def anneal(code, structure, potential, **settings):
    return AnnealWorkChain.get_builder_from_protocol(
        code, structure, potential=potential, protocol='demo', overrides=anneal_overrides(**settings)
    )


def chunk_runs(node) -> dict[str, orm.WorkChainNode]:
    return {link.link_label: link.node for link in node.base.links.get_outgoing(node_class=orm.WorkChainNode).all()}


def calculations(run: orm.WorkChainNode) -> list[orm.CalcJobNode]:
    return sorted(run.called, key=lambda calc: calc.ctime)


def commands(calculation: orm.CalcJobNode, name: str) -> list[str]:
    """The lines of the calculation's script that start with command ``name``."""
    return [line for line in calculation.inputs.script.get_content().splitlines() if line.split()[:1] == [name]]


def dump_steps(retrieved: orm.FolderData, filename: str) -> list[int]:
    lines = retrieved.base.repository.get_object_content(filename).splitlines()
    return [int(lines[index + 1]) for index, line in enumerate(lines) if line == 'ITEM: TIMESTEP']


def test_blow_up_is_run_again_with_half_the_timestep(lmp_code, beta_structure, classical_potential):
    """8 fs at 1500 K loses atoms; the rerun at 4 fs covers the same 3.2 ps with 800 steps and finishes."""
    builder = anneal(
        lmp_code,
        beta_structure,
        classical_potential,
        timestep_fs=8.0,
        temperature=1500.0,
        steps=400,
        chunk_steps=400,
        snapshot_steps=100,
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    run = chunk_runs(node)['chunk_0000']
    first, second = calculations(run)
    assert first.exit_status == UNSTABLE_RUN
    assert 'Lost atoms' in first.exit_message or 'neighbor bins' in first.exit_message
    assert second.is_finished_ok
    assert commands(first, 'timestep') == ['timestep 0.008'] and commands(second, 'timestep') == ['timestep 0.004']
    assert commands(first, 'run') == ['run 400'] and commands(second, 'run') == ['run 800']
    assert commands(first, 'thermo') == ['thermo 10'] and commands(second, 'thermo') == ['thermo 20']
    # what LAMMPS itself did in the rerun: 800 steps of 4 fs, snapshots every 0.8 ps, thermo to 3.2 ps
    retrieved = run.outputs.retrieved
    assert 'for 800 steps with 128 atoms' in retrieved.base.repository.get_object_content('lammps.out')
    assert dump_steps(retrieved, scripts.SNAPSHOT_DUMP) == [200, 400, 600, 800]
    assert dump_steps(retrieved, scripts.FINAL_DUMP) == [800]
    # the anneal's outputs at the times of an unrefined run: thermo every 0.08 ps, snapshots every 0.8 ps
    thermo = results['thermo']
    np.testing.assert_array_equal(thermo.get_array('step'), np.arange(0, 801, 20))
    np.testing.assert_allclose(thermo.get_array('time'), np.arange(41) * 0.08, rtol=1e-12, atol=1e-12)
    assert np.all(np.isfinite(thermo.get_array('pe'))) and np.all(thermo.get_array('temp') < 3000.0)
    assert sorted(results['snapshots']) == [f'fs_{fs:012d}' for fs in (800, 1600, 2400, 3200)]
    assert len(results['structure'].get_ase()) == 128


@pytest.mark.slow
def test_blow_up_of_a_continuation_chunk(lmp_code, beta_structure, classical_potential):
    """A chunk that continues from a restart file blows up and is rerun at half the timestep from that same restart;
    a chunk continuing from the rerun's restart then carries on at its own step numbers and times.

    Chunk 0 at 300 K (9 fs, stable); chunk 1 from its restart at 1500 K (9 fs: atoms lost; 4.5 fs: fine); chunk 2
    from chunk 1's restart at 300 K again (9 fs). Each is its own anneal continuing from the previous one's restart.
    """
    settings = {'timestep_fs': 9.0, 'steps': 300, 'chunk_steps': 100, 'snapshot_steps': 50}
    cold = anneal(lmp_code, beta_structure, classical_potential, temperature=300.0, **settings)
    cold.parameters = orm.Dict({**cold.parameters.get_dict(), 'total_ps': 0.9})  # chunk 0 only
    cold_results, cold_node = run_get_node(cold)
    assert cold_node.is_finished_ok, cold_node.exit_message

    hot = anneal(lmp_code, beta_structure, classical_potential, temperature=1500.0, **settings)
    hot.parameters = orm.Dict({**hot.parameters.get_dict(), 'total_ps': 1.8})  # chunk 1 only
    hot.restart, hot.first_chunk = cold_results['restart'], orm.Int(0)
    hot_results, hot_node = run_get_node(hot)
    assert hot_node.is_finished_ok, hot_node.exit_message
    run = chunk_runs(hot_node)['chunk_0001']
    first, second = calculations(run)
    assert first.exit_status == UNSTABLE_RUN and second.is_finished_ok
    assert commands(second, 'timestep') == ['timestep 0.0045'] and commands(second, 'run') == ['run 200']
    # the chunk starts at 0.9 ps: step 100 of 9 fs, step 200 of 4.5 fs
    assert commands(first, 'reset_timestep') == ['reset_timestep 100 time 0.9']
    assert commands(second, 'reset_timestep') == ['reset_timestep 200 time 0.9']
    assert second.inputs.files.restart.uuid == first.inputs.files.restart.uuid == cold_results['restart'].uuid
    retrieved = run.outputs.retrieved
    assert dump_steps(retrieved, scripts.SNAPSHOT_DUMP) == [300, 400]  # 1.35 and 1.8 ps
    assert dump_steps(retrieved, scripts.FINAL_DUMP) == [400]
    thermo = hot_results['thermo']
    np.testing.assert_array_equal(thermo.get_array('step'), np.arange(200, 401, 20))
    np.testing.assert_allclose(thermo.get_array('time'), np.arange(100, 201, 10) * 0.009, rtol=1e-12, atol=1e-12)
    assert sorted(hot_results['snapshots']) == ['fs_000000001350', 'fs_000000001800']

    cold_again = anneal(lmp_code, beta_structure, classical_potential, temperature=300.0, **settings)
    cold_again.restart, cold_again.first_chunk = hot_results['restart'], orm.Int(1)
    final_results, final_node = run_get_node(cold_again)
    assert final_node.is_finished_ok, final_node.exit_message
    assert [len(calculations(run)) for run in chunk_runs(final_node).values()] == [1]
    thermo = final_results['thermo']
    steps, time = thermo.get_array('step'), thermo.get_array('time')
    np.testing.assert_array_equal(steps, np.arange(200, 301, 10))
    np.testing.assert_allclose(time, steps * 0.009, rtol=1e-12, atol=1e-12)
    assert time[-1] == pytest.approx(2.7, abs=1e-12)
    assert sorted(final_results['snapshots']) == ['fs_000000002250', 'fs_000000002700']


def test_blow_up_at_half_the_timestep_too_ends_with_311(lmp_code, beta_structure, classical_potential):
    """40 fs blows up at the first steps, and so does 20 fs: exit 311 after exactly two calculations."""
    builder = anneal(
        lmp_code,
        beta_structure,
        classical_potential,
        timestep_fs=40.0,
        temperature=600.0,
        steps=100,
        chunk_steps=100,
        snapshot_steps=100,
    )
    _, node = run_get_node(builder)
    assert node.exit_status == RUN_FAILED
    run = chunk_runs(node)['chunk_0000']
    assert run.exit_status == UNSTABLE
    first, second = calculations(run)
    assert first.exit_status == second.exit_status == UNSTABLE_RUN
    assert commands(second, 'timestep') == ['timestep 0.02'] and commands(second, 'run') == ['run 200']
    assert 'again with the timestep divided by 2' in run.exit_message
    assert 'smaller timestep' in run.exit_message and 'structure' in run.exit_message
    assert f'LammpsBaseWorkChain<{run.pk}>' in node.exit_message


def test_protocol_without_remedy_ends_with_311_at_once(lmp_code, beta_structure, classical_potential):
    """``common.timestep_remedy: 1`` in the protocol reaches the base work chain: no rerun, exit 311."""
    overrides = anneal_overrides(timestep_fs=40.0, temperature=600.0, steps=100, chunk_steps=100, snapshot_steps=100)
    overrides['common']['timestep_remedy'] = 1.0
    builder = AnnealWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, potential=classical_potential, protocol='demo', overrides=overrides
    )
    _, node = run_get_node(builder)
    run = chunk_runs(node)['chunk_0000']
    assert node.exit_status == RUN_FAILED and run.exit_status == UNSTABLE
    assert run.inputs.parameters['timestep_remedy'] == 1.0
    assert len(calculations(run)) == 1 and '`timestep_remedy` is 1' in run.exit_message


def test_minimisation_blow_up_ends_with_311_at_once(lmp_code, beta_atoms, classical_potential):
    """An energy minimisation of two atoms on one site: infinite energy, non-numeric pressure. It has no timestep to
    shorten: exit 311 after its one calculation, saying why. (The MD work chains refuse such a structure before they
    start; the base work chain runs whatever it is given.)"""
    atoms = beta_atoms.copy()
    atoms.positions[1] = atoms.positions[0]
    data = orm.SinglefileData.from_string(scripts.data_file(atoms, ELEMENTS), filename=scripts.DATA_FILE)
    _, run = run_get_node(
        LammpsBaseWorkChain,
        script='relax',
        parameters=orm.Dict({**RELAX, 'cell': 'aniso', 'pressure_bar': 1.0, 'vmax': 0.001}),
        potential=classical_potential,
        lammps={
            'code': lmp_code,
            'files': {'structure': data},
            'settings': orm.Dict({'additional_retrieve_list': [scripts.FINAL_DUMP]}),
            'metadata': {'options': {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}}},
        },
    )
    assert run.exit_status == UNSTABLE
    (calculation,) = calculations(run)
    assert calculation.exit_status == UNSTABLE_RUN
    assert 'Non-numeric pressure' in run.exit_message and 'thermo not finite from step 0' in run.exit_message
    assert 'energy minimisation' in run.exit_message
