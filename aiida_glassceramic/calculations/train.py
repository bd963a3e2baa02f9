"""Training of a Behler-Parrinello potential as a CalcJob: runs ``glassceramic-train`` on any computer."""

from __future__ import annotations

import json
from collections.abc import Mapping

import numpy as np
from aiida import orm
from aiida.common import CalcInfo, CodeInfo
from aiida.engine import CalcJob

from ..data.potential import NNPotentialData
from ..data.training_set import TrainingSetData
from ..potentials.data_checks import check_training_data
from ..potentials.training_parameters import (
    TrainingParameterError,
    check_descriptor_species,
    check_stress_labels,
    validate_parameters,
)
from ..training_set import TrainingSet

TRAINING_SET, PARAMETERS = 'training_set.npz', 'parameters.json'
POTENTIAL, METRICS, PARITY = 'potential.pt', 'metrics.json', 'parity.png'
STDOUT, STDERR, EXIT_STATUS = 'train.log', 'train.err', 'exit_status'
RMSE_BOUNDS = ('energy_meV_per_atom', 'forces_meV_per_A')


def validate_training_sets(value: Mapping[str, TrainingSetData], _=None) -> str | None:
    """At least one training set, and none without structures; the same check serves the work chains' builders."""
    if not value:
        return 'training_sets: give at least one TrainingSetData, e.g. training_sets={"aimd": node}'
    empty = sorted(label for label, node in value.items() if not node.num_structures)
    if empty:
        return f'training_sets: {empty} hold no structure; give sets with labelled structures'
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
    """Check the hyper-parameters (naming the bad key), that a given descriptor covers every element and, with
    ``strict``, the sanity checks of the merged training data."""
    parameters = inputs['parameters'].get_dict()
    sets = inputs.get('training_sets', {})
    try:
        validate_parameters(parameters)
        check_descriptor_species(parameters.get('descriptor'), set().union(*(node.species for node in sets.values())))
        check_stress_labels(parameters, (node.has_stress for node in sets.values()))
    except TrainingParameterError as error:
        return f'parameters: {error}'
    if parameters.get('strict') and sets and not validate_training_sets(sets):
        warnings = check_training_data(merged_training_set(sets))
        if warnings:
            return f'training_sets refused (parameters.strict): {" | ".join(warnings)}'
    return None


def merged_training_set(training_sets: Mapping[str, TrainingSetData]) -> TrainingSet:
    """The training sets merged in the order of their sorted labels."""
    return TrainingSet.merge(*(training_sets[label].get_training_set() for label in sorted(training_sets)))


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
        merged = merged_training_set(self.inputs.training_sets)
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
