"""Training of a Behler-Parrinello potential as a CalcJob: runs ``glassceramic-train`` on any computer."""

from __future__ import annotations

import json
import math
from collections.abc import Callable

import numpy as np
from aiida import orm
from aiida.common import CalcInfo, CodeInfo
from aiida.engine import CalcJob

from ..data.potential import NNPotentialData
from ..data.training_set import TrainingSetData
from ..potentials.dataset import TrainingSet

TRAINING_SET, PARAMETERS = 'training_set.npz', 'parameters.json'
POTENTIAL, METRICS, PARITY = 'potential.pt', 'metrics.json', 'parity.png'
STDOUT, STDERR, EXIT_STATUS = 'train.log', 'train.err', 'exit_status'
RMSE_BOUNDS = ('energy_meV_per_atom', 'forces_meV_per_A')
ACTIVATIONS = ('tanh', 'softplus', 'silu')
DTYPES = ('float32', 'float64')
CUTOFF_FUNCTIONS = ('cos', 'poly2')


class TrainingParameterError(ValueError):
    """A hyper-parameter that glassceramic-train would refuse, with the key and the fix in the message."""


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return (_is_int(value) or isinstance(value, float)) and math.isfinite(value)


PARAMETER_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    'hidden': (
        lambda v: isinstance(v, list) and bool(v) and all(_is_int(n) and n > 0 for n in v),
        'a non-empty list of positive integers (nodes per hidden layer), e.g. [10, 10]',
    ),
    'activation': (lambda v: v in ACTIVATIONS, f'one of {list(ACTIVATIONS)}'),
    'dtype': (lambda v: v in DTYPES, f'one of {list(DTYPES)}'),
    'cutoff': (lambda v: _is_number(v) and v > 0, 'a positive distance in Angstrom, e.g. 7.0'),
    'cutoff_function': (lambda v: v in CUTOFF_FUNCTIONS, f'one of {list(CUTOFF_FUNCTIONS)} (the cut-off function)'),
    'descriptor': (lambda v: isinstance(v, dict), 'a dict of symmetry-function parameters (or leave it out)'),
    'energy_weight': (lambda v: _is_number(v) and v >= 0, 'a number >= 0 (weight of the energy-per-atom loss)'),
    'force_weight': (lambda v: _is_number(v) and v >= 0, 'a number >= 0 (weight of the force loss)'),
    'learning_rate': (lambda v: _is_number(v) and v > 0, 'a positive number, e.g. 0.005'),
    'epochs': (lambda v: _is_int(v) and v > 0, 'a positive integer'),
    'batch_size': (lambda v: _is_int(v) and v > 0, 'a positive integer (structures per batch)'),
    'patience': (lambda v: _is_int(v) and v > 0, 'a positive integer (epochs without improvement before stopping)'),
    'test_fraction': (lambda v: _is_number(v) and 0 < v < 1, 'a number strictly between 0 and 1, e.g. 0.2'),
    'validation_fraction': (
        lambda v: _is_number(v) and 0 < v < 1,
        'a number strictly between 0 and 1 (share of the training part that stops the training), e.g. 0.1',
    ),
    'seed': (lambda v: _is_int(v) and v >= 0, 'an integer >= 0 (random split, batches and initial weights)'),
}


def validate_parameters(parameters: dict) -> None:
    """Check every hyper-parameter of ``glassceramic-train`` (see ``potentials.training.TrainingParameters``).

    :raises TrainingParameterError: naming the first unknown or invalid key and what it should be.
    """
    for key, value in parameters.items():
        if key not in PARAMETER_RULES:
            raise TrainingParameterError(f'unknown key `{key}`; known keys are {sorted(PARAMETER_RULES)}')
        check, expected = PARAMETER_RULES[key]
        if not check(value):
            raise TrainingParameterError(f'`{key}` is {value!r}; give {expected}')
    if parameters.get('energy_weight', 1.0) == 0 and parameters.get('force_weight', 1.0) == 0:
        raise TrainingParameterError('`energy_weight` and `force_weight` are both 0; at least one must be positive')
    if 'descriptor' in parameters:
        from ..descriptors.parameters import DescriptorParameterError, SymmetryFunctionParameters

        try:
            SymmetryFunctionParameters.from_dict(parameters['descriptor'])
        except DescriptorParameterError as error:
            raise TrainingParameterError(f'`descriptor`: {error}') from None


def validate_training_sets(value: dict, _) -> str | None:
    if not value:
        return 'training_sets: give at least one TrainingSetData, e.g. training_sets={"aimd": node}'
    return None


def validate_max_test_rmse(value: orm.Dict | None, _) -> str | None:
    if value is None:
        return None
    for key, bound in value.get_dict().items():
        if key not in RMSE_BOUNDS:
            return f'max_test_rmse: unknown key `{key}`; use any of {list(RMSE_BOUNDS)}'
        if isinstance(bound, bool) or not isinstance(bound, int | float) or not bound > 0:
            return f'max_test_rmse: `{key}` is {bound!r}; give a positive number'
    return None


def validate_inputs(inputs: dict, _) -> str | None:
    """Check the hyper-parameters (naming the bad key) and that a given descriptor covers every element."""
    try:
        validate_parameters(inputs['parameters'].get_dict())
    except TrainingParameterError as error:
        return f'parameters: {error}'
    descriptor = inputs['parameters'].get('descriptor')
    if descriptor is not None:
        species = set().union(*(node.species for node in inputs['training_sets'].values()))
        missing = sorted(species - set(descriptor['elements']))
        if missing:
            return (
                f'parameters: `descriptor.elements` lacks {missing} of the training sets; add them or drop `descriptor`'
            )
    return None


class TrainCalculation(CalcJob):
    """Train a potential on one or more training sets (merged) with ``glassceramic-train``.

    The submit script records the script's exit status in ``exit_status`` (0 ok, 2 bad input, 3 diverged); a user
    ``metadata.options.append_text`` runs before that record, so it should end with the script's status intact.
    """

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace(
            'training_sets',
            valid_type=TrainingSetData,
            dynamic=True,
            validator=validate_training_sets,
            help='labelled structures; several sets are merged in the order of their sorted labels',
        )
        spec.input('parameters', valid_type=orm.Dict, help='hyper-parameters of glassceramic-train')
        spec.input(
            'max_test_rmse',
            valid_type=orm.Dict,
            required=False,
            validator=validate_max_test_rmse,
            help='upper bounds on the test RMSE: `energy_meV_per_atom` and/or `forces_meV_per_A`',
        )
        spec.inputs.validator = validate_inputs
        spec.inputs['metadata']['options']['parser_name'].default = 'glassceramic.train'
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False

        spec.output('potential', valid_type=NNPotentialData, help='the trained potential (model file + metadata)')
        spec.output('metrics', valid_type=orm.Dict, help='RMSE on train and test sets, with units in the keys')
        spec.output('parity_plot', valid_type=orm.SinglefileData, help='predicted vs reference energies and forces')
        spec.default_output_node = 'metrics'

        spec.exit_code(
            300, 'ERROR_OUTPUT_FILES_MISSING', message='the training wrote no {files} (exit status {status})'
        )
        spec.exit_code(301, 'ERROR_INVALID_INPUT', message='glassceramic-train refused its input: {error}')
        spec.exit_code(
            302, 'ERROR_SCRIPT_FAILED', message='glassceramic-train failed with exit status {status}: {error}'
        )
        spec.exit_code(303, 'ERROR_METRICS_UNREADABLE', message='metrics.json cannot be read: {error}')
        spec.exit_code(304, 'ERROR_POTENTIAL_UNREADABLE', message='potential.pt cannot be read: {error}')
        spec.exit_code(400, 'ERROR_TRAINING_DIVERGED', message='the training diverged (loss not finite): {error}')
        spec.exit_code(401, 'ERROR_TEST_RMSE_ABOVE_BOUND', message='test RMSE above the bound: {details}')

    def prepare_for_submission(self, folder):
        keys = sorted(self.inputs.training_sets)
        merged = TrainingSet.merge(*(self.inputs.training_sets[key].get_training_set() for key in keys))
        with folder.open(TRAINING_SET, 'wb') as handle:
            np.savez(handle, **merged.arrays())
        with folder.open(PARAMETERS, 'w') as handle:
            json.dump(self.inputs.parameters.get_dict(), handle, indent=2)

        codeinfo = CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = ['--training-set', TRAINING_SET, '--parameters', PARAMETERS, '--output-dir', '.']
        codeinfo.stdout_name = STDOUT
        codeinfo.stderr_name = STDERR
        codeinfo.withmpi = self.inputs.metadata.options.withmpi

        calcinfo = CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.append_text = f'echo $? > {EXIT_STATUS}'
        calcinfo.retrieve_list = [POTENTIAL, METRICS, PARITY, STDOUT, STDERR, EXIT_STATUS]
        # the arrays are in the repository of the training-set nodes already
        calcinfo.provenance_exclude_list = [TRAINING_SET]
        return calcinfo
