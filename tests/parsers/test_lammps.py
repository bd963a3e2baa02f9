"""The LAMMPS parser of the MD workflows: output that aiida-lammps' own parser raises on becomes an exit code."""

from __future__ import annotations

import pytest
from aiida import orm
from aiida.plugins import CalculationFactory

from tests.parsers.retrieved import parse_files

EXIT_CODES = CalculationFactory('lammps.raw').exit_codes
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
   Step          Time           Temp          PotEng         KinEng         TotEng         Press
"""
ROWS = [
    '         0  0 300 -52.2166269896 4.9248115245 -47.2918154651 -19409.2507334',
    '        10  0.01 262.71551 -51.6011852 4.31259 -47.28859 -17044.2',
    '        20  0.02 201.00042 -50.5896552 3.29951 -47.29014 -13105.9',
]
END = """Loop time of 0.0298424 on 1 procs for 20 steps with 128 atoms

Total wall time: 0:00:01
"""
NAN_ROWS = [
    '         0  0 300 inf 4.9248115245 inf -nan',
    '        10  0.01 -nan 0 -nan -nan -nan',
]


def complete() -> str:
    return HEADER + '\n'.join(ROWS) + '\n' + END


def parse(computer: orm.Computer, files: dict[str, bytes | str]):
    return parse_files(computer, 'lammps.raw', 'glassceramic.lammps', files)


def test_complete_output_is_parsed_as_upstream(aiida_localhost):
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': complete()})
    assert calcfunction.is_finished_ok
    results = outputs['results']['compute_variables']
    assert results['total_wall_time'] == '0:00:01' and 'unparsed' not in results


@pytest.mark.parametrize(
    'content',
    [HEADER + '\n'.join(ROWS) + '\n', HEADER + '\n'.join(ROWS)[:-20]],
    ids=['cut-after-a-row', 'cut-inside-a-row'],
)
def test_output_cut_inside_the_thermo_table(aiida_localhost, content):
    """A job killed while LAMMPS prints thermo rows: finished, without the end of run, so the work chains rerun it."""
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.is_finished_ok
    results = outputs['results']['compute_variables']
    assert 'total_wall_time' not in results and results['errors'] == []
    assert results['unparsed']  # why aiida-lammps' parser could not read it


def test_non_finite_thermo_and_lammps_error(aiida_localhost):
    content = HEADER + '\n'.join(NAN_ROWS) + '\nERROR on proc 0: Non-numeric atom coords - simulation unstable\n'
    outputs, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status
    assert 'Non-numeric atom coords' in calcfunction.exit_message
    assert 'thermo not finite from step 0' in calcfunction.exit_message
    assert outputs['results']['compute_variables']['errors'][0]['message'].startswith('ERROR on proc 0')


def test_non_finite_thermo_of_a_run_that_ended(aiida_localhost):
    """LAMMPS went on with NaN energies to the end of the run: still an error, never a finished calculation."""
    _, calcfunction = parse(aiida_localhost, {'lammps.out': HEADER + '\n'.join(NAN_ROWS) + '\n' + END})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status
    assert 'thermo not finite from step 0' in calcfunction.exit_message


def test_error_on_the_last_line_without_newline(aiida_localhost):
    content = HEADER + '\n'.join(ROWS) + '\nERROR: Lost atoms: original 128 current 126'
    _, calcfunction = parse(aiida_localhost, {'lammps.out': content})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status
    assert 'Lost atoms' in calcfunction.exit_message


@pytest.mark.parametrize(
    ('files', 'exit_code'),
    [
        ({'lammps.out': GARBAGE}, EXIT_CODES.ERROR_PARSING_OUTFILE),
        ({'lammps.out': GARBAGE[128:168] + complete().encode()}, EXIT_CODES.ERROR_PARSING_OUTFILE),
        ({}, EXIT_CODES.ERROR_OUTFILE_MISSING),
    ],
    ids=['garbage', 'complete-but-not-utf8', 'missing'],
)
def test_unreadable_output(aiida_localhost, files, exit_code):
    outputs, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == exit_code.status
    if files.get('lammps.out') == GARBAGE:
        assert 'results' not in outputs
