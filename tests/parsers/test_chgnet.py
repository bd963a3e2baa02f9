"""The parser on CHGNet runs: the engine's model and version reach ``misc``, even from a killed run; a failed
calculation gives CHGNet's exit code 400; a damaged engine file gives an exit code, never a traceback."""

from __future__ import annotations

import json

import numpy as np
import pytest
from aiida import orm

from aiida_glassceramic.calculations.chgnet import ChgnetCalculation
from aiida_glassceramic.runners.reference_engine import ENGINE, RESTART, STATUS, TRAJECTORY
from tests.parsers.reference_runs import MD_STEPS, labelled_frame, write_md_run
from tests.parsers.retrieved import parse_files

EXIT_CODES = ChgnetCalculation.exit_codes
DESCRIPTION = {'name': 'CHGNet', 'model': '0.3.0', 'package_version': '0.4.2', 'weights_sha256': 'ab' * 32}


@pytest.fixture(scope='module')
def md_files(tmp_path_factory) -> dict[str, bytes]:
    return {**write_md_run(tmp_path_factory.mktemp('md')), ENGINE: json.dumps(DESCRIPTION).encode()}


def parse(computer: orm.Computer, files: dict[str, bytes | str]):
    parameters = {'task': 'md', 'md': {'steps': MD_STEPS, 'temperature': 300.0, 'timestep': 1.0}}
    return parse_files(
        computer, 'glassceramic.chgnet', 'glassceramic.chgnet', files, {'parameters': orm.Dict(parameters)}
    )


def test_md_records_the_engine_and_the_stresses(aiida_localhost, md_files):
    outputs, calcfunction = parse(aiida_localhost, md_files)
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    assert outputs['misc']['engine'] == DESCRIPTION
    expected = np.stack([labelled_frame(step).get_stress() for step in range(MD_STEPS + 1)])
    np.testing.assert_allclose(outputs['trajectory'].get_array('stresses'), expected)
    np.testing.assert_allclose(outputs['labels'].get_training_set().stresses, expected)


def test_killed_run_records_the_engine(aiida_localhost, md_files):
    """Killed after step 1: no status file, two complete frames of 5 lines (count, comment, 3 atoms)."""
    trajectory = b''.join(md_files[TRAJECTORY].splitlines(keepends=True)[:10])
    files = {TRAJECTORY: trajectory, RESTART: md_files[RESTART], ENGINE: md_files[ENGINE]}
    outputs, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == EXIT_CODES.ERROR_MD_INCOMPLETE.status, calcfunction.exit_message
    assert outputs['misc']['engine'] == DESCRIPTION


def test_failed_calculation_gives_exit_400(aiida_localhost, md_files):
    status = {'task': 'md', 'steps': MD_STEPS, 'error': 'CHGNet refused the structure: isolated atom'}
    outputs, calcfunction = parse(aiida_localhost, {**md_files, STATUS: json.dumps(status)})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_CALCULATION_FAILED.status == 400
    assert outputs['misc']['error'] == status['error']


def test_damaged_engine_file(aiida_localhost, md_files):
    outputs, calcfunction = parse(aiida_localhost, {**md_files, ENGINE: b'{"name": "CHG'})
    assert calcfunction.exit_status == EXIT_CODES.ERROR_CORRUPT_OUTPUT.status
    assert ENGINE in calcfunction.exit_message
    assert not outputs
