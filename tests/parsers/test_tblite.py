"""The tblite parser turns damaged, truncated or foreign output files into exit codes, never a traceback, and the
one-line error of input the runner refused into exit code 302 with that line."""

from __future__ import annotations

import io
import json

import ase.io
import numpy as np
import pytest
from aiida import orm

from aiida_glassceramic.calculations.tblite import TbliteCalculation
from aiida_glassceramic.runners.reference_engine import EXIT_BAD_INPUT, LABELS, RESTART, STATUS, TRAJECTORY
from aiida_glassceramic.runners.tblite import main
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.training_set import TrainingSet
from tests.parsers.reference_runs import MD_STEPS, labelled_frame, write_md_run
from tests.parsers.retrieved import parse_files

EXIT_CODES = TbliteCalculation.exit_codes
GARBAGE = bytes(range(256)) * 4  # not UTF-8, not JSON, not a zip archive, not XYZ


@pytest.fixture(scope='module')
def md_files(tmp_path_factory) -> dict[str, bytes]:
    return write_md_run(tmp_path_factory.mktemp('md'))


@pytest.fixture(scope='module')
def labels_file() -> bytes:
    """labels.npz of two converged single points, as the runner writes it."""
    buffer = io.BytesIO()
    arrays = TrainingSet.from_atoms([labelled_frame(0), labelled_frame(1)]).arrays()
    np.savez(buffer, converged=np.array([True, True]), **arrays)
    return buffer.getvalue()


def parse(computer: orm.Computer, files: dict[str, bytes | str], task: str):
    """Parse a stored tblite CalcJobNode of ``task`` whose retrieved folder holds ``files``."""
    parameters = {'task': task, 'md': {'steps': MD_STEPS, 'temperature': 300.0, 'timestep': 1.0}}
    return parse_files(
        computer, 'glassceramic.tblite', 'glassceramic.tblite', files, {'parameters': orm.Dict(parameters)}
    )


def single_point_status() -> str:
    return json.dumps({'task': 'single_point', 'converged': [True, True]})


def test_complete_outputs_parse(aiida_localhost, md_files, labels_file):
    """The reference for the damaged cases below: the same files, undamaged, parse."""
    outputs, calcfunction = parse(aiida_localhost, {STATUS: single_point_status(), LABELS: labels_file}, 'single_point')
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    assert len(outputs['labels'].get_array('energies')) == 2
    outputs, calcfunction = parse(aiida_localhost, md_files, 'md')
    assert calcfunction.is_finished_ok, calcfunction.exit_message
    assert outputs['trajectory'].numsteps == MD_STEPS + 1 and outputs['misc']['steps'] == MD_STEPS


@pytest.mark.parametrize(
    ('damage', 'exit_code', 'message_part'),
    [
        ({STATUS: GARBAGE}, EXIT_CODES.ERROR_CORRUPT_OUTPUT, STATUS),
        ({STATUS: '{"task": "single_po'}, EXIT_CODES.ERROR_CORRUPT_OUTPUT, STATUS),
        ({STATUS: '[1, 2]'}, EXIT_CODES.ERROR_CORRUPT_OUTPUT, 'not a JSON object'),
        ({LABELS: GARBAGE}, EXIT_CODES.ERROR_CORRUPT_OUTPUT, LABELS),
        ({LABELS: b''}, EXIT_CODES.ERROR_CORRUPT_OUTPUT, 'EOFError'),
        ('truncated-labels', EXIT_CODES.ERROR_CORRUPT_OUTPUT, 'BadZipFile'),
        ('labels-without-converged', EXIT_CODES.ERROR_CORRUPT_OUTPUT, 'KeyError'),
    ],
    ids=[
        'garbage-status',
        'truncated-status',
        'status-not-object',
        'garbage-labels',
        'empty-labels',
        'truncated-labels',
        'labels-without-converged',
    ],
)
def test_damaged_single_point_output(aiida_localhost, labels_file, damage, exit_code, message_part):
    files = {STATUS: single_point_status(), LABELS: labels_file}
    if damage == 'truncated-labels':
        files[LABELS] = labels_file[: len(labels_file) // 2]
    elif damage == 'labels-without-converged':
        buffer = io.BytesIO()
        np.savez(buffer, energies=np.zeros(2))
        files[LABELS] = buffer.getvalue()
    else:
        files.update(damage)
    outputs, calcfunction = parse(aiida_localhost, files, 'single_point')
    assert calcfunction.exit_status == exit_code.status
    assert message_part in calcfunction.exit_message
    assert not outputs


def cut_in_frame(trajectory: bytes, frames: int) -> bytes:
    """The trajectory cut in the middle of frame number ``frames`` (0-based), after the first atom line."""
    lines = trajectory.splitlines(keepends=True)
    per_frame = len(lines) // (MD_STEPS + 1)
    return b''.join(lines[: frames * per_frame + 3])


def test_md_trajectory_cut_inside_a_frame(aiida_localhost, md_files):
    """A killed run: status missing, the trajectory ends inside frame 3. The complete frames 0-2 and the restart
    are kept, exit 310."""
    files = {TRAJECTORY: cut_in_frame(md_files[TRAJECTORY], 3), RESTART: md_files[RESTART]}
    outputs, calcfunction = parse(aiida_localhost, files, 'md')
    assert calcfunction.exit_status == EXIT_CODES.ERROR_MD_INCOMPLETE.status
    assert 'step 2 of 4' in calcfunction.exit_message
    assert outputs['trajectory'].numsteps == 3
    np.testing.assert_array_equal(outputs['trajectory'].get_stepids(), [0, 1, 2])


@pytest.mark.parametrize(
    ('damage', 'exit_code'),
    [
        ({TRAJECTORY: GARBAGE}, EXIT_CODES.ERROR_CORRUPT_OUTPUT),
        ({TRAJECTORY: b''}, EXIT_CODES.ERROR_CORRUPT_OUTPUT),
        ({RESTART: GARBAGE}, EXIT_CODES.ERROR_CORRUPT_OUTPUT),
        ({RESTART: b'PK\x03\x04'}, EXIT_CODES.ERROR_CORRUPT_OUTPUT),
        ({STATUS: GARBAGE}, EXIT_CODES.ERROR_CORRUPT_OUTPUT),
    ],
    ids=['garbage-trajectory', 'empty-trajectory', 'garbage-restart', 'truncated-restart', 'garbage-status'],
)
def test_damaged_md_output(aiida_localhost, md_files, damage, exit_code):
    outputs, calcfunction = parse(aiida_localhost, {**md_files, **damage}, 'md')
    assert calcfunction.exit_status == exit_code.status, calcfunction.exit_message
    assert 'misc' not in outputs


def test_no_status_and_garbage_scheduler_stderr(aiida_localhost):
    outputs, calcfunction = parse(aiida_localhost, {'_scheduler-stderr.txt': GARBAGE}, 'single_point')
    assert calcfunction.exit_status == EXIT_CODES.ERROR_NO_OUTPUT.status
    assert not outputs


@pytest.mark.parametrize(
    ('calculator', 'element', 'message'),
    [
        (
            {'method': 'GFN3-xTB'},
            None,
            "calculator.method `GFN3-xTB`: use one of ['GFN1-xTB', 'GFN2-xTB', 'IPEA1-xTB']",
        ),
        ({'accuracy': 'high'}, None, "calculator.accuracy `'high'`: must be a positive number (SCC accuracy"),
        ({}, 'U', 'structures[0]: element U (Z = 92) is beyond the elements of glassceramic-tblite (up to Rn, Z = 86)'),
    ],
    ids=['unknown-method', 'accuracy-not-a-number', 'element-beyond-radon'],
)
def test_refused_input_is_named_in_the_status_and_the_exit_code(
    aiida_localhost, tmp_path, calculator, element, message
):
    """The runner checks its input before it runs anything: it writes status.json with the one-line error and exits
    2; the parser turns that into exit code 302 carrying the line."""
    atoms = read_crystal('gamma')
    if element:
        atoms[0].symbol = element
    ase.io.write(tmp_path / 'structures.extxyz', atoms)
    parameters = {'task': 'single_point', 'calculator': calculator}
    (tmp_path / 'input.json').write_text(json.dumps(parameters))
    arguments = ['--input', str(tmp_path / 'input.json'), '--structures', str(tmp_path / 'structures.extxyz')]
    assert main([*arguments, '--output-dir', str(tmp_path)]) == EXIT_BAD_INPUT
    status = json.loads((tmp_path / STATUS).read_text())
    assert status['exit_code'] == EXIT_BAD_INPUT and status['error'].startswith(message)
    assert not (tmp_path / LABELS).exists(), 'nothing ran'

    files = {STATUS: (tmp_path / STATUS).read_bytes()}
    outputs, calcfunction = parse_files(
        aiida_localhost, 'glassceramic.tblite', 'glassceramic.tblite', files, {'parameters': orm.Dict(parameters)}
    )
    assert calcfunction.exit_status == EXIT_CODES.ERROR_BAD_INPUT.status
    assert message in calcfunction.exit_message
    assert not outputs
