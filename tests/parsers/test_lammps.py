"""The parser of the MD workflows' LAMMPS runs: every kind of broken output becomes its exit code; a complete run
gives the thermo series, the final structure, the snapshots keyed by simulated time and the files."""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm

from aiida_glassceramic.calculations.lammps import LammpsCalculation
from tests.parsers.retrieved import parse_files

EXIT_CODES = LammpsCalculation.exit_codes
GARBAGE = bytes(range(256)) * 4

HEADER = """LAMMPS (22 Jul 2025 - Update 4)
  using 1 OpenMP thread(s) per MPI task
Reading data file ...
  128 atoms
Setting up Verlet run ...
  Unit style    : metal
  Current step  : 0
  Time step     : 0.001
Per MPI rank memory allocation (min/avg/max) = 3.128 | 3.128 | 3.128 Mbytes
   Step          Time           Temp          PotEng         KinEng         TotEng         Press          Volume    \
     Lx             Ly             Lz             Xy             Xz             Yz
"""
BOX = '1000 10 10 10 0 0 0'
ROWS = [
    f'         0  0 300 -52.2166269896 4.9248115245 -47.2918154651 -19409.2507334 {BOX}',
    f'        10  0.01 262.71551 -51.6011852 4.31259 -47.28859 -17044.2 {BOX}',
    f'        20  0.02 201.00042 -50.5896552 3.29951 -47.29014 -13105.9 {BOX}',
]
LOOP = 'Loop time of 0.0298424 on 1 procs for 20 steps with 128 atoms\n'
END = LOOP + '\nTotal wall time: 0:00:01\n'
NAN_ROWS = [
    f'         0  0 300 inf 4.9248115245 inf -nan {BOX}',
    f'        10  0.01 -nan 0 -nan -nan -nan {BOX}',
]


def complete() -> str:
    return HEADER + '\n'.join(ROWS) + '\n' + END


def parse(computer: orm.Computer, files: dict[str, bytes | str], retrieve: list[str] | None = None):
    inputs = {'settings': orm.Dict({'additional_retrieve_list': retrieve})} if retrieve else None
    return parse_files(computer, 'glassceramic.lammps', 'glassceramic.lammps', files, inputs)


def dump_frame(positions, box: float, *, time: float | None = None, step: int = 0) -> str:
    """One frame of a ``dump custom ... id element x y z`` of an orthorhombic box, written out by hand."""
    lines = [] if time is None else ['ITEM: TIME', f'{time:.16g}']
    lines += ['ITEM: TIMESTEP', str(step), 'ITEM: NUMBER OF ATOMS', str(len(positions)), 'ITEM: BOX BOUNDS pp pp pp']
    lines += [f'0 {box}'] * 3 + ['ITEM: ATOMS id element x y z']
    lines += [f'{index + 1} {symbol} {x} {y} {z}' for index, (symbol, x, y, z) in enumerate(positions)]
    return '\n'.join(lines) + '\n'


def test_complete_run_gives_thermo_structure_snapshots_and_files(aiida_localhost):
    final = dump_frame([('Li', 1.0, 2.0, 3.0), ('S', 4.0, 5.0, 6.5)], 10.0, step=20)
    snapshots = dump_frame([('Li', 1.0, 1.0, 1.0), ('S', 2.0, 2.0, 2.0)], 10.0, time=0.01, step=10)
    snapshots += dump_frame([('Li', 1.5, 1.0, 1.0), ('S', 2.0, 2.5, 2.0)], 10.0, time=0.02, step=20)
    files = {
        'lammps.out': complete(),
        'final.dump': final,
        'snapshots.dump': snapshots,
        'final.restart': GARBAGE,
        'trajectory.dump': snapshots,
    }
    outputs, calcfunction = parse(aiida_localhost, files, retrieve=list(files)[1:])
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    assert outputs['results']['total_wall_time'] == '0:00:01' and outputs['results']['errors'] == []
    thermo = outputs['thermo']
    np.testing.assert_array_equal(thermo.get_array('step'), [0, 10, 20])
    np.testing.assert_array_equal(thermo.get_array('time'), [0.0, 0.01, 0.02])
    np.testing.assert_array_equal(thermo.get_array('pe'), [-52.2166269896, -51.6011852, -50.5896552])
    np.testing.assert_array_equal(thermo.get_array('vol'), [1000.0] * 3)
    atoms = outputs['structure'].get_ase()
    assert atoms.get_chemical_symbols() == ['Li', 'S']
    np.testing.assert_allclose(atoms.positions, [[1.0, 2.0, 3.0], [4.0, 5.0, 6.5]])
    np.testing.assert_allclose(atoms.cell.lengths(), [10.0] * 3)
    assert sorted(outputs['snapshots']) == ['fs_000000000010', 'fs_000000000020']
    np.testing.assert_allclose(outputs['snapshots']['fs_000000000020'].get_ase().positions[0], [1.5, 1.0, 1.0])
    assert outputs['restart'].get_content(mode='rb') == GARBAGE
    assert outputs['trajectory'].get_content() == snapshots and outputs['trajectory'].filename == 'trajectory.dump'
    assert 'velocities' not in outputs


def test_thermo_of_several_runs(aiida_localhost):
    """A run continuing at the last step repeats that row (kept once); a run after ``reset_timestep 0`` counts from
    0 again (kept: it is another stretch of simulated time)."""
    header = HEADER.split('Per MPI')[1].split('\n', 1)[1]
    second = [f'        20  0.02 201.00042 -50.5896552 3.29951 -47.29014 -13105.9 {BOX}']
    second += [f'        30  0.03 190 -50.5 3.2 -47.3 -13000 {BOX}']
    third = [f'         0  0 190 -50.5 3.2 -47.3 -13000 {BOX}', f'        10  0.01 185 -50.4 3.1 -47.3 -12900 {BOX}']
    content = HEADER + '\n'.join(ROWS) + '\n' + LOOP
    content += header + '\n'.join(second) + '\n' + LOOP + header + '\n'.join(third) + '\n' + END
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    np.testing.assert_array_equal(outputs['thermo'].get_array('step'), [0, 10, 20, 30, 0, 10])
    np.testing.assert_array_equal(outputs['thermo'].get_array('temp')[3:], [190, 190, 185])


@pytest.mark.parametrize(
    'content',
    [HEADER + '\n'.join(ROWS) + '\n', HEADER + '\n'.join(ROWS)[:-20]],
    ids=['cut-after-a-row', 'cut-inside-a-row'],
)
def test_output_cut_inside_the_thermo_table(aiida_localhost, content):
    """A job killed while LAMMPS prints thermo rows: an incomplete run, which the work chains run again."""
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_INCOMPLETE_RUN.status
    assert outputs['results']['total_wall_time'] is None and 'thermo' not in outputs


def test_non_finite_thermo_and_lammps_error(aiida_localhost):
    content = HEADER + '\n'.join(NAN_ROWS) + '\nERROR on proc 0: Non-numeric atom coords - simulation unstable\n'
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_UNSTABLE_DYNAMICS.status
    assert calcfunction.exit_message == (
        'The dynamics blew up: Non-numeric atom coords - simulation unstable; thermo not finite from step 0'
    )
    assert outputs['results']['errors'][0].startswith('ERROR on proc 0')


def test_non_finite_thermo_of_a_run_that_ended(aiida_localhost):
    """LAMMPS went on with NaN energies to the end of the run: unstable, never a finished calculation."""
    _, calcfunction = parse(aiida_localhost, {'lammps.out': HEADER + '\n'.join(NAN_ROWS) + '\n' + END})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_UNSTABLE_DYNAMICS.status
    assert calcfunction.exit_message.endswith('thermo not finite from step 0')


@pytest.mark.parametrize(
    'error',
    [
        'ERROR: Lost atoms: original 128 current 126 (src/thermo.cpp:494)',
        'ERROR on proc 3: Out of range atoms - cannot compute PPPM (src/KSPACE/pppm.cpp:1924)',
        'ERROR: Domain too large for neighbor bins (src/nbin_standard.cpp:212)',
        'ERROR: Non-numeric pressure - simulation unstable (src/fix_nh.cpp:1065)',
    ],
)
def test_unstable_errors_on_the_last_line_without_newline(aiida_localhost, error):
    _, calcfunction = parse(aiida_localhost, {'lammps.out': HEADER + '\n'.join(ROWS) + '\n' + error})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_UNSTABLE_DYNAMICS.status
    assert 'src/' not in calcfunction.exit_message and error.split(': ', 1)[1][:20] in calcfunction.exit_message


def test_other_lammps_error(aiida_localhost):
    content = HEADER + 'ERROR: Unrecognized pair style glassceramic (src/force.cpp:275)\nLast command: pair_style\n'
    _, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status
    assert 'Unrecognized pair style glassceramic' in calcfunction.exit_message


def test_required_file_missing(aiida_localhost):
    """LAMMPS ended, but a file the run must leave did not come back: the work chains run it again."""
    _, calcfunction = parse(aiida_localhost, {'lammps.out': complete()}, retrieve=['final.restart', 'final.dump'])
    assert calcfunction.exit_status == EXIT_CODES.ERROR_MISSING_FILES.status
    assert calcfunction.exit_message == 'The run did not leave final.restart, final.dump'


@pytest.mark.parametrize(
    ('files', 'exit_code'),
    [
        ({'lammps.out': GARBAGE}, EXIT_CODES.ERROR_PARSING_OUTFILE),
        ({'lammps.out': GARBAGE[128:168] + complete().encode()}, EXIT_CODES.ERROR_PARSING_OUTFILE),
        ({'lammps.out': 'Segmentation fault\n'}, EXIT_CODES.ERROR_PARSING_OUTFILE),
        ({}, EXIT_CODES.ERROR_OUTFILE_MISSING),
    ],
    ids=['garbage', 'complete-but-not-utf8', 'not-lammps', 'missing'],
)
def test_unreadable_output(aiida_localhost, files, exit_code):
    outputs, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == exit_code.status
    assert 'results' not in outputs


def test_extrapolation_warnings_of_every_run(aiida_localhost):
    """The line pair_style glassceramic prints at the end of each run, summed over the runs (an echoed print command
    of the fix external driver is not a count)."""
    first = '12 atom-steps in 3 steps (6 atoms at most in one step; first at step 10)'
    second = '0 atom-steps in 0 steps (0 atoms at most in one step; first at step none)'
    prefix = 'glassceramic: extrapolation warnings:'
    lines = [LOOP, f'{prefix} {first}', f'print "{prefix} {first}"', f'{prefix} {second}', LOOP]
    content = HEADER + '\n'.join(ROWS) + '\n' + '\n'.join(lines) + '\nTotal wall time: 0:00:01\n'
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    runs = [
        {'atom_steps': 12, 'steps': 3, 'max_atoms': 6, 'first_step': 10},
        {'atom_steps': 0, 'steps': 0, 'max_atoms': 0, 'first_step': None},
    ]
    expected = {'atom_steps': 12, 'steps': 3, 'max_atoms': 6, 'first_step': 10, 'runs': runs}
    assert outputs['results']['extrapolation'] == expected
    outputs, _ = parse(aiida_localhost, {'lammps.out': complete()})
    assert outputs['results']['extrapolation'] is None
