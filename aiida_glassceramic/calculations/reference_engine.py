"""MD and single points of an embedded reference engine (:mod:`..runners.reference_engine`) as a CalcJob."""

from __future__ import annotations

import io
import json

import ase
import ase.io
import numpy as np
from aiida import orm
from aiida.common import CalcInfo, CodeInfo
from aiida.engine import CalcJob, ExitCode

from ..data.training_set import TrainingSetData
from ..runners.reference_engine import (
    ENGINE,
    LABELS,
    RESTART,
    STATUS,
    TRAJECTORY,
    Engine,
    InputError,
    check_elements,
    validate,
)

INPUT, STRUCTURES = 'input.json', 'structures.extxyz'
# exit codes of every engine (the restart work chain handles them by number); 400 is named by each engine
EXIT_CODES = {
    'ERROR_NO_OUTPUT': ExitCode(300, 'the run wrote no status file: it did not run or was killed'),
    'ERROR_CORRUPT_OUTPUT': ExitCode(301, 'an output file cannot be read: {error}'),
    'ERROR_BAD_INPUT': ExitCode(302, 'the runner refused its input: {error}'),
    'ERROR_MD_INCOMPLETE': ExitCode(310, 'md stopped at step {step} of {steps}; restart attached'),
}
FAILED = 400  # a calculation of the engine failed (SCF not converged, structure refused)


class ReferenceEngineCalculation(CalcJob):
    """Runs the engine's console script: NVT MD (trajectory + restart) or single points (labels).

    A subclass names its engine, parser, standard output file and the exit code 400 of a failed calculation.
    """

    ENGINE: Engine
    PARSER: str
    STDOUT: str
    FAILURE: tuple[str, str]  # label and message (with ``{what}``) of exit code 400

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('parameters', valid_type=orm.Dict, help=f'task, calculator and md settings of {cls.ENGINE.program}')
        spec.input('structure', valid_type=orm.StructureData, required=False, help='start structure (md)')
        spec.input(
            'structures', valid_type=orm.ArrayData, required=False, help='structures to label (see structure_set)'
        )
        spec.input('restart', valid_type=orm.ArrayData, required=False, help='positions + velocities to continue')
        spec.inputs.validator = cls.validate_inputs
        spec.inputs['metadata']['options']['parser_name'].default = cls.PARSER
        spec.inputs['metadata']['options']['resources'].default = {'num_machines': 1, 'num_mpiprocs_per_machine': 1}
        spec.inputs['metadata']['options']['withmpi'].default = False
        spec.output('labels', valid_type=TrainingSetData, required=False, help='energies, forces and stresses')
        spec.output('trajectory', valid_type=orm.TrajectoryData, required=False, help='md frames')
        spec.output('restart', valid_type=orm.ArrayData, required=False, help='last md frame with velocities')
        spec.output('misc', valid_type=orm.Dict, help='status: steps reached, failed structures, engine and model')
        spec.default_output_node = 'misc'
        for label, exit_code in EXIT_CODES.items():
            spec.exit_code(exit_code.status, label, message=exit_code.message)
        spec.exit_code(FAILED, cls.FAILURE[0], message=cls.FAILURE[1])

    @classmethod
    def validate_inputs(cls, inputs: dict, _) -> str | None:
        """Check the run description, that md has one structure and single points have some, and their elements."""
        try:
            config = validate(inputs['parameters'].get_dict(), cls.ENGINE)
        except InputError as error:
            return f'parameters: {error}'
        if config['task'] == 'md' and 'structure' not in inputs:
            return 'structure: task `md` needs the input `structure` (StructureData)'
        if config['task'] == 'single_point' and 'structures' not in inputs and 'structure' not in inputs:
            return 'structures: task `single_point` needs `structures` (structure set ArrayData) or `structure`'
        try:
            if 'structure' in inputs:
                check_elements(inputs['structure'].get_ase().numbers, cls.ENGINE, 'structure')
            if 'structures' in inputs:
                check_elements(inputs['structures'].get_array('numbers'), cls.ENGINE, 'structures')
        except InputError as error:
            return str(error)
        return None

    def prepare_for_submission(self, folder):
        with folder.open(INPUT, 'w') as handle:
            json.dump(self.inputs.parameters.get_dict(), handle)
        images = (
            structure_set_images(self.inputs.structures)
            if 'structures' in self.inputs
            else [self.inputs.structure.get_ase()]
        )
        with folder.open(STRUCTURES, 'w') as handle:
            ase.io.write(handle, images, format='extxyz')
        if 'restart' in self.inputs:
            buffer = io.BytesIO()
            restart = self.inputs.restart
            np.savez(buffer, **{name: restart.get_array(name) for name in restart.get_arraynames()})
            with folder.open(RESTART, 'wb') as handle:
                handle.write(buffer.getvalue())

        codeinfo = CodeInfo()
        codeinfo.code_uuid = self.inputs.code.uuid
        codeinfo.cmdline_params = ['--input', INPUT, '--structures', STRUCTURES]
        codeinfo.stdout_name = self.STDOUT
        codeinfo.withmpi = self.inputs.metadata.options.withmpi
        calcinfo = CalcInfo()
        calcinfo.codes_info = [codeinfo]
        calcinfo.retrieve_list = [STATUS, ENGINE, LABELS, TRAJECTORY, RESTART, self.STDOUT, '_scheduler-stderr.txt']
        return calcinfo


def structure_set(images: list[ase.Atoms], **per_structure: np.ndarray) -> orm.ArrayData:
    """Structures of any compositions as one node of ragged arrays (``numbers``, ``positions``, ``natoms``, ``cells``).

    ``per_structure`` adds arrays with one row per structure (e.g. the condition and MD step each came from).
    """
    node = orm.ArrayData()
    node.set_array('numbers', np.concatenate([atoms.numbers for atoms in images]).astype(np.int32))
    node.set_array('positions', np.concatenate([atoms.positions for atoms in images]))
    node.set_array('natoms', np.array([len(atoms) for atoms in images], dtype=np.int64))
    node.set_array('cells', np.stack([atoms.cell.array for atoms in images]))
    for name, values in per_structure.items():
        node.set_array(name, np.asarray(values))
    return node


def structure_set_images(node: orm.ArrayData, indices=None) -> list[ase.Atoms]:
    """The structures of a structure set (all, or those at ``indices``) as periodic ASE structures."""
    numbers, positions, natoms = node.get_array('numbers'), node.get_array('positions'), node.get_array('natoms')
    cells = node.get_array('cells')
    offsets = np.concatenate([[0], np.cumsum(natoms)])
    indices = range(len(natoms)) if indices is None else indices
    return [
        ase.Atoms(
            numbers=numbers[offsets[i] : offsets[i + 1]],
            positions=positions[offsets[i] : offsets[i + 1]],
            cell=cells[i],
            pbc=True,
        )
        for i in indices
    ]
