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

from aiida_glassceramic.engines import lammps_scripts as scripts
from aiida_glassceramic.parsers.lammps import non_finite_thermo
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.lammps_base import (
    LammpsBaseWorkChain,
    calculation_inputs,
    load_protocol,
    section,
    step_divisor,
    validate_timestep_remedy,
)

from .conftest import ELEMENTS, PAIR_COMMANDS

LAMMPS_ERROR = 309  # aiida-lammps' ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR
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
    builder = AnnealWorkChain.get_builder_from_protocol(
        code, structure, potential, protocol='demo', overrides=anneal_overrides(**settings)
    )
    return builder


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
    assert first.exit_status == LAMMPS_ERROR
    assert 'Lost atoms' in first.exit_message or 'neighbor bins' in first.exit_message
    assert second.is_finished_ok
    assert commands(first, 'timestep') == ['timestep 0.008'] and commands(second, 'timestep') == ['timestep 0.004']
    assert commands(first, 'run') == ['run 400'] and commands(second, 'run') == ['run 800']
    assert commands(first, 'thermo') == ['thermo 10'] and commands(second, 'thermo') == ['thermo 20']
    assert step_divisor(run) == 2
    # what LAMMPS itself did in the rerun: 800 steps of 4 fs, snapshots every 0.8 ps, thermo to 3.2 ps
    retrieved = run.outputs.retrieved
    assert 'for 800 steps with 128 atoms' in retrieved.base.repository.get_object_content('lammps.out')
    assert dump_steps(retrieved, scripts.SNAPSHOT_DUMP) == [200, 400, 600, 800]
    assert dump_steps(retrieved, scripts.FINAL_DUMP) == [400]
    # the anneal's outputs, in steps of 8 fs: the same times as an unrefined run
    thermo = results['thermo']
    steps, time = thermo.get_array('step'), thermo.get_array('time')
    np.testing.assert_array_equal(steps, np.arange(0, 401, 10))
    np.testing.assert_allclose(time, steps * 0.008, rtol=1e-12, atol=1e-12)
    assert time[-1] == pytest.approx(3.2, abs=1e-12)
    assert np.all(np.isfinite(thermo.get_array('pe'))) and np.all(thermo.get_array('temp') < 3000.0)
    assert sorted(results['snapshots']) == [f'step_{step:012d}' for step in (100, 200, 300, 400)]
    assert len(results['structure'].get_ase()) == 128


@pytest.mark.slow
def test_blow_up_of_a_continuation_chunk(lmp_code, beta_structure, classical_potential):
    """A chunk that continues from a restart file blows up and is rerun at half the timestep from that same restart;
    a chunk continuing from the rerun's restart then carries on at the unrefined step numbers and times.

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
    assert first.exit_status == LAMMPS_ERROR and second.is_finished_ok
    assert commands(second, 'timestep') == ['timestep 0.0045'] and commands(second, 'run') == ['run 200']
    assert commands(second, 'reset_timestep') == [
        'reset_timestep $(2*step) time $(time)',  # after read_restart: the restart's step 100 becomes 200
        'reset_timestep $(step/2) time $(time)',  # after the run: back to the anneal's step 200
    ]
    assert second.inputs.files.restart.uuid == first.inputs.files.restart.uuid == cold_results['restart'].uuid
    retrieved = run.outputs.retrieved
    assert dump_steps(retrieved, scripts.SNAPSHOT_DUMP) == [300, 400]  # steps 150 and 200 of 9 fs
    assert dump_steps(retrieved, scripts.FINAL_DUMP) == [200]
    thermo = hot_results['thermo']
    steps, time = thermo.get_array('step'), thermo.get_array('time')
    np.testing.assert_array_equal(steps, np.arange(100, 201, 10))
    np.testing.assert_allclose(time, steps * 0.009, rtol=1e-12, atol=1e-12)
    assert sorted(hot_results['snapshots']) == ['step_000000000150', 'step_000000000200']

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
    assert first.exit_status == second.exit_status == LAMMPS_ERROR
    assert commands(second, 'timestep') == ['timestep 0.02'] and commands(second, 'run') == ['run 200']
    assert 'again with the timestep divided by 2' in run.exit_message
    assert 'smaller timestep' in run.exit_message and 'structure' in run.exit_message
    assert f'LammpsBaseWorkChain<{run.pk}>' in node.exit_message


def test_protocol_without_remedy_ends_with_311_at_once(lmp_code, beta_structure, classical_potential):
    """``common.timestep_remedy: 1`` in the protocol reaches the base work chain: no rerun, exit 311."""
    overrides = anneal_overrides(timestep_fs=40.0, temperature=600.0, steps=100, chunk_steps=100, snapshot_steps=100)
    overrides['common']['timestep_remedy'] = 1.0
    builder = AnnealWorkChain.get_builder_from_protocol(
        lmp_code, beta_structure, classical_potential, protocol='demo', overrides=overrides
    )
    _, node = run_get_node(builder)
    run = chunk_runs(node)['chunk_0000']
    assert node.exit_status == RUN_FAILED and run.exit_status == UNSTABLE
    assert run.inputs.timestep_remedy.value == 1.0
    assert len(calculations(run)) == 1 and '`timestep_remedy` is 1' in run.exit_message


def test_minimisation_blow_up_ends_with_311_at_once(lmp_code, beta_atoms, classical_potential):
    """An energy minimisation of two atoms on one site: infinite energy, non-numeric pressure. It has no timestep to
    refine: exit 311 after its one calculation, saying why. (The MD work chains refuse such a structure before they
    start; the base work chain runs whatever it is given.)"""
    atoms = beta_atoms.copy()
    atoms.positions[1] = atoms.positions[0]
    settings = load_protocol('demo')
    script = scripts.relax_script(section(settings, 'relax'), PAIR_COMMANDS, ELEMENTS)
    data = orm.SinglefileData.from_string(scripts.data_file(atoms, ELEMENTS), filename=scripts.DATA_FILE)
    inputs = calculation_inputs(
        lmp_code,
        script=script,
        potential=classical_potential,
        files={'structure': data},
        retrieve=[scripts.FINAL_DUMP],
        options=settings['common']['options'],
    )
    _, run = run_get_node(LammpsBaseWorkChain, lammps=inputs, required_files=[scripts.FINAL_DUMP])
    assert run.exit_status == UNSTABLE
    (calculation,) = calculations(run)
    assert calculation.exit_status == LAMMPS_ERROR
    assert 'Non-numeric pressure' in run.exit_message and 'thermo not finite from step 0' in run.exit_message
    assert 'energy minimisation' in run.exit_message


# -- the script rewriting and the detection, without LAMMPS ------------------------------------------------------


def anneal_settings(**anneal) -> dict:
    return section(load_protocol('demo', {'common': {'thermo_interval_steps': 10}, 'anneal': anneal}), 'anneal')


def test_refined_continuation_script():
    """Every step count doubles, the step counter is doubled after read_restart and halved back after the run."""
    settings = anneal_settings(total_ps=0.6, chunk_ps=0.2, snapshot_interval_ps=0.1, snapshot_start_ps=0.2)
    chunk = scripts.anneal_chunks(settings)[1]
    original = scripts.anneal_chunk_script(settings, chunk, scripts.nnp_block(ELEMENTS, 5.0), ELEMENTS)
    refined = scripts.refine_timestep(original, 2).splitlines()
    changed = [line for line in refined if line not in original.splitlines()]
    assert changed == [
        '# timestep divided by 2: step numbers count the shorter steps up to the last run',
        'reset_timestep $(2*step) time $(time)',
        'timestep 0.0005',
        'thermo 20',
        'dump snapshots all custom 200 snapshots.dump id element x y z',
        'dump_modify snapshots sort id element Li P S format float %.10g delay 600',
        'run 400',
        'undump snapshots',
        'reset_timestep $(step/2) time $(time)',
    ]
    assert refined.index('reset_timestep $(2*step) time $(time)') == refined.index('read_restart previous.restart') + 1
    assert refined.index('undump snapshots') == refined.index('run 400') + 1
    assert refined[-2:] == original.splitlines()[-2:]  # write_dump, write_restart


def test_refined_scripts_of_every_md_workflow():
    """Melt-quench, diffusion and VDOS scripts refine; their run lengths scale by the divisor."""
    settings = section(load_protocol('demo'), 'melt_quench')
    melt_quench = scripts.melt_quench_script(settings, PAIR_COMMANDS, ELEMENTS)
    refined = scripts.refine_timestep(melt_quench, 4)
    runs = [int(line.split()[1]) for line in melt_quench.splitlines() if line.startswith('run ')]
    assert [int(line.split()[1]) for line in refined.splitlines() if line.startswith('run ')] == [4 * n for n in runs]
    for name, script in (
        (
            'diffusion',
            scripts.diffusion_script(section(load_protocol('demo'), 'diffusion'), 600.0, PAIR_COMMANDS, ELEMENTS),
        ),
        ('vdos', scripts.vdos_script(section(load_protocol('demo'), 'vdos'), PAIR_COMMANDS, ELEMENTS)),
    ):
        refined = scripts.refine_timestep(script, 2)
        assert 'reset_timestep 0' in refined.splitlines(), name  # the production run still starts at step 0
        assert scripts.timestep_ps(refined) == scripts.timestep_ps(script) / 2, name


@pytest.mark.parametrize(
    ('line', 'reason'),
    [
        ('minimize 0 1e-3 100 1000', 'energy minimisation'),
        ('fix avg all ave/time 10 10 100 c_thermo_temp file t.dat', 'ave/time'),
        ('compute msd all msd', 'not known'),
        ('run 100 upto', 'not known'),
        ('thermo ${every}', 'not a plain number'),
        ('variable n equal 100', 'not known'),
        ('fix nnp all external pf/callback 10 1', 'every step'),
        ('fix anneal all npt temp 600 600 0.1 iso 1 1 1 nreset 1000', 'every step'),
        ('timestep ${dt}', 'not a plain number'),
    ],
)
def test_scripts_with_unknown_step_counts_are_not_refined(line, reason):
    script = f'units metal\ntimestep 0.001\n{line}\nrun 10\n'
    with pytest.raises(scripts.RefinementError, match=reason):
        scripts.refine_timestep(script, 2)


def test_non_finite_thermo():
    rows = [
        '   Step          Time           Temp          PotEng',
        '         0  0 300 -52.2',
        '        10  0.01 -nan 0',
        '  1 by 1 by 1 MPI processor grid',
    ]
    assert non_finite_thermo(rows) == 'thermo not finite from step 10'
    assert non_finite_thermo([*rows[:2], '        20  0.02 inf 1.0']) == 'thermo not finite from step 20'
    assert non_finite_thermo(rows[:2]) is None


@pytest.mark.parametrize(('factor', 'valid'), [(0.5, True), (0.25, True), (1.0, True), (0.3, False), (0.0, False)])
def test_timestep_remedy_is_one_over_a_whole_number(aiida_profile, factor, valid):
    assert (validate_timestep_remedy(orm.Float(factor)) is None) is valid
