"""The handlers of ``LammpsBaseWorkChain``, each called on a fake finished calculation with the exit code the parser
gives: no LAMMPS, milliseconds."""

from __future__ import annotations

import pytest
from aiida import orm
from aiida.engine import ExitCode, ProcessHandlerReport
from aiida.engine.utils import instantiate_process
from aiida.manage import get_manager
from plumpy import ProcessState

from aiida_glassceramic.calculations.lammps import LammpsCalculation
from aiida_glassceramic.workflows.lammps_base import LammpsBaseWorkChain, build_script

CALC = LammpsCalculation.exit_codes
BASE = LammpsBaseWorkChain.exit_codes
# Chunk 1 of an NPT anneal at 2 fs: steps (100, 200], snapshots every 50 steps from step 100.
ANNEAL = {
    'timestep_fs': 2.0,
    'seed': 1234,
    'tdamp_ps': 0.1,
    'pdamp_ps': 1.0,
    'thermo_interval_steps': 10,
    'temperature': 600.0,
    'pressure_bar': 1.0,
    'total_ps': 0.6,
    'chunk_ps': 0.2,
    'snapshot_interval_ps': 0.1,
    'snapshot_start_ps': 0.2,
    'chunk': 1,
}
RELAX = {
    'timestep_fs': 1.0,
    'thermo_interval_steps': 10,
    'cell': None,
    'min_style': 'cg',
    'etol': 0.0,
    'ftol': 1e-4,
    'maxiter': 100,
    'maxeval': 1000,
}
COMMON = {'timestep_fs': 1.0, 'seed': 1234, 'tdamp_ps': 0.1, 'pdamp_ps': 1.0, 'thermo_interval_steps': 10}
DYNAMICS = {
    'melt_quench': {
        **COMMON,
        't_initial': 300.0,
        't_melt': 1500.0,
        'heating_rate_k_per_ps': 2400.0,
        'melt_hold_ps': 0.5,
        'cooling_rate_k_per_ps': 1200.0,
        't_final': 300.0,
        'final_hold_ps': 0.25,
    },
    'anneal': ANNEAL,
    'diffusion': {
        **COMMON,
        'temperature': 600.0,
        'species': ['Li'],
        'time_ps': 1.0,
        'equilibration_ps': 0.1,
        'dump_interval_ps': 0.01,
    },
    'vdos': {**COMMON, 'temperature': 100.0, 'time_ps': 0.5, 'equilibration_ps': 0.1, 'dump_interval_fs': 5.0},
}
BLOW_UP = CALC.ERROR_UNSTABLE_DYNAMICS.format(symptom='Lost atoms: original 128 current 126')
# The arguments (positions after the command) that count steps; every other argument is a time or no number at all.
STEP_ARGUMENTS = {'run': 1, 'thermo': 1, 'reset_timestep': 1, 'dump': 4}


@pytest.fixture
def restart_file(aiida_profile):
    return orm.SinglefileData.from_string('restart data of chunk 0', filename='final.restart').store()


@pytest.fixture
def base_workchain(lmp_code, classical_potential, restart_file):
    """Factory: a set-up LammpsBaseWorkChain for chunk 1 of the anneal (or ``script``), ``settings`` over ANNEAL."""

    def factory(script: str = 'anneal', **settings):
        parameters = {**(RELAX if script == 'relax' else ANNEAL), **settings}
        inputs = {
            'script': script,
            'parameters': orm.Dict(parameters),
            'potential': classical_potential,
            'lammps': {
                'code': lmp_code,
                'files': {'restart': restart_file},
                'metadata': {'options': {'resources': {'num_machines': 1}}},
            },
        }
        process = instantiate_process(get_manager().get_runner(), LammpsBaseWorkChain, **inputs)
        process.setup()
        return process

    return factory


def finished(process, exit_code) -> orm.CalcJobNode:
    """A LammpsCalculation that finished with ``exit_code``, as the process's last child."""
    node = orm.CalcJobNode(
        computer=process.inputs.lammps.code.computer, process_type='aiida.calculations:glassceramic.lammps'
    )
    node.set_process_label('LammpsCalculation')
    node.set_process_state(ProcessState.FINISHED)
    node.set_exit_status(exit_code.status)
    node.set_exit_message(exit_code.message)
    node.store()
    process.ctx.children = [*process.ctx.get('children', []), node]
    process.ctx.iteration = len(process.ctx.children)
    return node


def commands(process, *names: str) -> list[str]:
    """The lines of the script the next calculation runs that start with one of ``names``."""
    return [line for line in process.ctx.inputs.script.get_content().splitlines() if line.split()[0] in names]


STEP_COMMANDS = ('timestep', 'run', 'thermo', 'reset_timestep', 'dump', 'dump_modify')


def test_setup_builds_the_script_and_names_the_files(base_workchain, restart_file):
    process = base_workchain()
    assert commands(process, *STEP_COMMANDS) == [
        'reset_timestep 100 time 0.2',
        'timestep 0.002',
        'thermo 10',
        'dump snapshots all custom 50 snapshots.dump id element x y z',
        'dump_modify snapshots sort id element Li P S format float %.10g delay 150 time yes',
        'run 100',
    ]
    assert process.ctx.inputs.script.is_stored and process.ctx.inputs.files == {'restart': restart_file}
    assert process.ctx.inputs.filenames == {'restart': 'previous.restart'}


def test_blow_up_runs_again_with_the_script_built_at_half_the_timestep(base_workchain, restart_file):
    """Twice the steps of half the length: thermo, snapshots and the chunk's start at the same simulated times."""
    process = base_workchain()
    first_script = process.ctx.inputs.script
    finished(process, BLOW_UP)
    assert process.inspect_process().status == 0 and not process.ctx.is_finished  # the work chain runs it again
    assert commands(process, *STEP_COMMANDS) == [
        'reset_timestep 200 time 0.2',
        'timestep 0.001',
        'thermo 20',
        'dump snapshots all custom 100 snapshots.dump id element x y z',
        'dump_modify snapshots sort id element Li P S format float %.10g delay 300 time yes',
        'run 200',
    ]
    assert process.ctx.inputs.script.uuid != first_script.uuid and process.ctx.inputs.script.is_stored
    assert process.ctx.inputs.files['restart'].uuid == restart_file.uuid  # from the same restart file


def test_a_quarter_of_the_timestep(base_workchain):
    process = base_workchain(timestep_remedy=0.25)
    report = process.handle_unstable_dynamics(finished(process, BLOW_UP))
    assert isinstance(report, ProcessHandlerReport) and report.do_break and report.exit_code.status == 0
    assert commands(process, 'timestep', 'run', 'thermo') == ['timestep 0.0005', 'thermo 40', 'run 400']


def test_second_blow_up_ends_with_311(base_workchain):
    process = base_workchain()
    process.handle_unstable_dynamics(finished(process, BLOW_UP))
    report = process.handle_unstable_dynamics(finished(process, BLOW_UP))
    assert report.exit_code.status == BASE.ERROR_LAMMPS_UNSTABLE.status
    assert report.exit_code.message.startswith('The dynamics blew up: Lost atoms: original 128 current 126, again ')
    assert 'timestep divided by 2' in report.exit_code.message and 'smaller timestep' in report.exit_code.message
    assert process.inspect_process().status == BASE.ERROR_LAMMPS_UNSTABLE.status


@pytest.mark.parametrize(
    ('script', 'settings', 'reason'),
    [('anneal', {'timestep_remedy': 1.0}, '`timestep_remedy` is 1'), ('relax', {}, 'energy minimisation')],
)
def test_blow_up_without_a_remedy_ends_with_311_at_once(base_workchain, script, settings, reason):
    process = base_workchain(script, **settings)
    first_script = process.ctx.inputs.script
    report = process.handle_unstable_dynamics(finished(process, BLOW_UP))
    assert report.exit_code.status == BASE.ERROR_LAMMPS_UNSTABLE.status and reason in report.exit_code.message
    assert process.ctx.inputs.script.uuid == first_script.uuid


@pytest.mark.parametrize(
    'exit_code',
    [CALC.ERROR_INCOMPLETE_RUN, CALC.ERROR_MISSING_FILES.format(files='final.restart'), CALC.ERROR_OUTFILE_MISSING],
    ids=['killed', 'files-missing', 'no-output'],
)
def test_incomplete_run_runs_again_with_the_same_inputs(base_workchain, restart_file, exit_code):
    process = base_workchain()
    script = process.ctx.inputs.script
    report = process.handle_incomplete_run(finished(process, exit_code))
    assert report.do_break and report.exit_code.status == 0
    assert process.ctx.inputs.script.uuid == script.uuid
    assert process.ctx.inputs.files['restart'].uuid == restart_file.uuid
    assert process.inspect_process().status == 0 and not process.ctx.is_finished


def test_lammps_error_ends_with_310(base_workchain):
    process = base_workchain()
    error = 'ERROR: Unrecognized pair style glassceramic (src/force.cpp:275)'
    node = finished(process, CALC.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.format(error=error))
    assert process.inspect_process().status == BASE.ERROR_LAMMPS_RUN.status
    assert 'Unrecognized pair style' in process.handle_lammps_error(node).exit_code.message


def test_each_handler_acts_on_its_exit_codes_only(base_workchain):
    process = base_workchain()
    incomplete, blow_up = finished(process, CALC.ERROR_INCOMPLETE_RUN), finished(process, BLOW_UP)
    success = finished(process, ExitCode(0))
    assert process.handle_unstable_dynamics(incomplete) is None
    assert process.handle_incomplete_run(blow_up) is None and process.handle_lammps_error(blow_up) is None
    assert all(
        handler(success) is None for handler in (process.handle_unstable_dynamics, process.handle_incomplete_run)
    )
    assert process.inspect_process() is None and process.ctx.is_finished  # the last child finished well: done


@pytest.mark.parametrize(
    ('script', 'settings', 'message'),
    [
        ('anneal_chunk', {}, "`script` = 'anneal_chunk': choose one of"),
        ('anneal', {'chunk_ps': 0.0015}, '`parameters`: anneal.chunk_ps = 0.0015 ps is not a whole'),
        ('anneal', {'timestep_remedy': 0.3}, '`parameters.timestep_remedy` = 0.3: give 1/k'),
        ('vdos', {}, "`parameters`: the vdos script needs the setting 'dump_interval_fs'"),
    ],
)
def test_bad_input_is_refused_before_anything_runs(base_workchain, script, settings, message):
    with pytest.raises(ValueError, match=message.replace('.', r'\.').replace('(', r'\(')):
        base_workchain(script, **settings)


@pytest.mark.parametrize('name', sorted(DYNAMICS))
def test_every_md_script_at_half_the_timestep(classical_potential, name):
    """Built at half the timestep, a script differs only in its step counts, each twice as large: the same simulated
    times, with thermo and dump output at the same times."""
    plain, half = (build_script(name, DYNAMICS[name], classical_potential, divisor).splitlines() for divisor in (1, 2))
    assert len(plain) == len(half)
    for line, halved in zip(plain, half, strict=True):
        words, halved_words = line.split(), halved.split()
        scaled = [STEP_ARGUMENTS[words[0]]] if words[0] in STEP_ARGUMENTS else []
        scaled += [index + 1 for index, word in enumerate(words) if words[0] == 'dump_modify' and word == 'delay']
        if words[0] == 'timestep':
            assert float(halved_words[1]) == float(words[1]) / 2
            continue
        for index in scaled:
            assert int(halved_words[index]) == 2 * int(words[index]), line
            halved_words[index] = words[index]
        assert halved_words == words
