"""The training parser turns broken or incomplete retrieved folders into the right exit codes, never a traceback."""

import json

import pytest
from aiida import orm

from aiida_glassceramic.calculations.train import TrainCalculation
from tests.calculations.lj_training_set import SMALL_DESCRIPTOR
from tests.parsers.retrieved import parse_files

GOOD_METRICS = {
    'rmse_energy_train': 1.5,
    'rmse_energy_test': 2.0,
    'rmse_forces_train': 80.0,
    'rmse_forces_test': 90.0,
    'rmse_energy_validation': 1.8,
    'rmse_forces_validation': 85.0,
    'n_train': 7,
    'n_validation': 1,
    'n_test': 2,
    'epochs': 10,
    'best_epoch': 9,
    'wall_time_s': 1.0,
}
EXIT_CODES = TrainCalculation.exit_codes
GARBAGE = bytes(range(256)) * 4  # not UTF-8, not JSON, not a torch archive


def parse(computer: orm.Computer, files: dict[str, bytes | str], max_test_rmse: dict | None = None):
    """Parse a stored training CalcJobNode whose retrieved folder holds ``files``; return outputs and parser node."""
    inputs = {} if max_test_rmse is None else {'max_test_rmse': orm.Dict(max_test_rmse)}
    return parse_files(computer, 'glassceramic.train', 'glassceramic.train', files, inputs)


@pytest.mark.parametrize(
    ('files', 'exit_code', 'message_part'),
    [
        ({'train.log': 'epoch 1\n', 'exit_status': '0\n'}, EXIT_CODES.ERROR_OUTPUT_FILES_MISSING, 'potential.pt'),
        ({'train.err': 'Killed\n'}, EXIT_CODES.ERROR_OUTPUT_FILES_MISSING, 'metrics.json'),
        (
            {'exit_status': '3\n', 'train.err': 'training diverged at epoch 2: loss is nan\n'},
            EXIT_CODES.ERROR_TRAINING_DIVERGED,
            'epoch 2',
        ),
        (
            {'exit_status': '2\n', 'train.err': 'parameters `epochs`: -1; give a positive integer\n'},
            EXIT_CODES.ERROR_INVALID_INPUT,
            '`epochs`',
        ),
        (
            {'exit_status': '1\n', 'train.err': 'Traceback ...\nMemoryError\n'},
            EXIT_CODES.ERROR_SCRIPT_FAILED,
            'MemoryError',
        ),
        (
            {'exit_status': '0\n', 'potential.pt': b'x', 'parity.png': b'x', 'metrics.json': '{"rmse_energy_tr'},
            EXIT_CODES.ERROR_METRICS_UNREADABLE,
            'not valid JSON',
        ),
        (
            {
                'exit_status': '0\n',
                'potential.pt': b'x',
                'parity.png': b'x',
                'metrics.json': json.dumps({**GOOD_METRICS, 'rmse_forces_test': None}),
            },
            EXIT_CODES.ERROR_METRICS_UNREADABLE,
            'rmse_forces_test',
        ),
        (
            {
                'exit_status': '0\n',
                'potential.pt': b'\x80\x02 truncated',
                'parity.png': b'x',
                'metrics.json': json.dumps(GOOD_METRICS),
            },
            EXIT_CODES.ERROR_POTENTIAL_UNREADABLE,
            '',
        ),
        (
            {'exit_status': GARBAGE, 'train.err': GARBAGE},
            EXIT_CODES.ERROR_OUTPUT_FILES_MISSING,
            'metrics.json',
        ),
        ({'exit_status': '1\n', 'train.err': GARBAGE}, EXIT_CODES.ERROR_SCRIPT_FAILED, 'status 1'),
        (
            {'exit_status': '0\n', 'potential.pt': b'x', 'parity.png': b'x', 'metrics.json': GARBAGE},
            EXIT_CODES.ERROR_METRICS_UNREADABLE,
            'not valid JSON',
        ),
        (
            {'exit_status': '0\n', 'potential.pt': b'x', 'parity.png': b'x', 'metrics.json': b''},
            EXIT_CODES.ERROR_METRICS_UNREADABLE,
            'not valid JSON',
        ),
        (
            {'exit_status': '0\n', 'potential.pt': b'x', 'parity.png': b'x', 'metrics.json': '[1.5, 2.0]'},
            EXIT_CODES.ERROR_METRICS_UNREADABLE,
            'JSON object',
        ),
        (
            {
                'exit_status': '0\n',
                'potential.pt': GARBAGE,
                'parity.png': b'x',
                'metrics.json': json.dumps(GOOD_METRICS),
            },
            EXIT_CODES.ERROR_POTENTIAL_UNREADABLE,
            '',
        ),
    ],
    ids=[
        'no-outputs',
        'killed',
        'diverged',
        'bad-input',
        'crashed',
        'truncated-metrics',
        'nan-metric',
        'bad-model',
        'garbage-status-and-stderr',
        'garbage-stderr',
        'garbage-metrics',
        'empty-metrics',
        'metrics-not-object',
        'garbage-model',
    ],
)
def test_failures_give_exit_codes(aiida_localhost, files, exit_code, message_part):
    _, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == exit_code.status
    assert message_part in calcfunction.exit_message
    assert not calcfunction.base.links.get_outgoing().all()


@pytest.fixture(scope='module')
def potential_file(tmp_path_factory) -> bytes:
    """An (untrained) potential written by the package's own serialiser."""
    from aiida_glassceramic.descriptors import SymmetryFunctionParameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential

    model = NNPotential(SymmetryFunctionParameters.from_dict(SMALL_DESCRIPTOR), hidden=(4,))
    model.metrics = GOOD_METRICS
    path = save_potential(model, tmp_path_factory.mktemp('potential') / 'potential.pt')
    return path.read_bytes()


def good_files(potential: bytes) -> dict[str, bytes | str]:
    return {
        'exit_status': '0\n',
        'potential.pt': potential,
        'metrics.json': json.dumps(GOOD_METRICS),
        'parity.png': b'\x89PNG\r\n\x1a\n',
        'train.log': 'epoch 1: test loss 1.0\n',
    }


def test_outputs_carry_units(aiida_localhost, potential_file):
    outputs, calcfunction = parse(aiida_localhost, good_files(potential_file))
    assert calcfunction.is_finished_ok
    metrics = outputs['metrics'].get_dict()
    assert metrics['rmse_energy_test_meV_per_atom'] == GOOD_METRICS['rmse_energy_test']
    assert metrics['rmse_forces_train_meV_per_A'] == GOOD_METRICS['rmse_forces_train']
    assert metrics['n_test'] == 2
    assert metrics['rmse_forces_validation_meV_per_A'] == GOOD_METRICS['rmse_forces_validation']
    assert metrics['n_validation'] == 1
    assert outputs['potential'].elements == SMALL_DESCRIPTOR['elements']
    assert outputs['potential'].base.attributes.get('hidden') == [4]
    assert outputs['potential'].base.attributes.get('n_features') == 24
    assert outputs['parity_plot'].filename == 'parity.png'
    assert metrics['warnings'] == []


def test_warnings_of_the_training_data_reach_metrics_and_report(aiida_localhost, potential_file):
    warning = 'forces: ... forces look 1000 times too large for the energies; give forces in eV/A (not meV/A)'
    files = {**good_files(potential_file), 'metrics.json': json.dumps({**GOOD_METRICS, 'warnings': [warning]})}
    outputs, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.is_finished_ok
    assert outputs['metrics']['warnings'] == [warning]
    calculation = calcfunction.inputs.retrieved.creator
    logs = [log.message for log in orm.Log.collection.get_logs_for(calculation)]
    assert logs == [f'training data: {warning}']


def test_malformed_warnings_are_unreadable_metrics(aiida_localhost, potential_file):
    files = {**good_files(potential_file), 'metrics.json': json.dumps({**GOOD_METRICS, 'warnings': 'forces'})}
    _, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == EXIT_CODES.ERROR_METRICS_UNREADABLE.status
    assert '`warnings`' in calcfunction.exit_message


def test_test_rmse_above_bound(aiida_localhost, potential_file):
    """Outputs stay attached for inspection; the exit code names the metric over its bound."""
    bounds = {'energy_meV_per_atom': 1.0, 'forces_meV_per_A': 100.0}
    outputs, calcfunction = parse(aiida_localhost, good_files(potential_file), max_test_rmse=bounds)
    assert calcfunction.exit_status == EXIT_CODES.ERROR_TEST_RMSE_ABOVE_BOUND.status
    assert 'rmse_energy_test_meV_per_atom = 2.000 > 1.0' in calcfunction.exit_message
    assert 'forces' not in calcfunction.exit_message
    assert set(outputs) == {'potential', 'metrics', 'parity_plot'}


def test_truncated_potential(aiida_localhost, potential_file):
    files = {**good_files(potential_file), 'potential.pt': potential_file[: len(potential_file) // 2]}
    outputs, calcfunction = parse(aiida_localhost, files)
    assert calcfunction.exit_status == EXIT_CODES.ERROR_POTENTIAL_UNREADABLE.status
    assert 'not readable as a potential' in calcfunction.exit_message
    assert not outputs
