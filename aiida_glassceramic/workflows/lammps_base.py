"""Shared pieces of the LAMMPS workflows: protocols, the potential block and one restartable ``lammps.raw`` run.

The potential is either a :class:`~aiida_glassceramic.data.potential.NNPotentialData` (run through the
``glassceramic-lmp`` driver) or a ``Dict`` ``{'elements': ['Li', 'P', 'S'], 'commands': ['pair_style ...', ...]}``
holding a classical LAMMPS interaction; ``elements`` gives the element of atom types 1, 2, ...
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from aiida import orm
from aiida.engine import BaseRestartWorkChain, ProcessHandlerReport, WorkChain, process_handler, while_
from aiida.plugins import CalculationFactory

from .. import protocols
from ..data.potential import NNPotentialData
from ..engines import lammps_scripts as scripts

LammpsRawCalculation = CalculationFactory('lammps.raw')
PROTOCOL_FILE = 'md.yaml'


class InputValidationError(ValueError):
    """A workflow input is invalid; the message names the input and the fix."""


# -- protocols ------------------------------------------------------------------------------------------------------


def available_protocols() -> dict[str, str]:
    """Protocol names of md.yaml and their descriptions."""
    return protocols.available_protocols(PROTOCOL_FILE)


def load_protocol(protocol: str | None = None, overrides: Mapping | None = None) -> dict:
    """The full settings of an md.yaml ``protocol`` (default: its ``default_protocol``), ``overrides`` merged in."""
    return protocols.load_protocol(PROTOCOL_FILE, protocol, overrides, error=InputValidationError)


def section(settings: Mapping, name: str) -> dict:
    """One workflow's settings with the ``common`` ones (timestep, seed, damping, thermo) merged in."""
    merged = protocols.recursive_merge(settings.get('common', {}), settings.get(name, {}))
    merged.pop('options', None)
    merged.pop('max_iterations', None)
    return merged


# -- potential ------------------------------------------------------------------------------------------------------


def potential_elements(potential: orm.Data) -> list[str]:
    """The element of each atom type of ``potential``."""
    if isinstance(potential, NNPotentialData):
        return list(potential.elements)
    return list(potential.get_dict()['elements'])


def potential_setup(
    potential: orm.Data, core_repulsion: Mapping | None = None
) -> tuple[list[str], dict[str, orm.SinglefileData]]:
    """LAMMPS commands of the interaction and the files the calculation needs for it.

    ``core_repulsion`` (``inner_fraction``, ``outer_fraction``) adds a ZBL core to a neural network potential,
    switched off between those fractions of the shortest interatomic distance of its training data.
    """
    if isinstance(potential, NNPotentialData):
        commands = scripts.nnp_block(
            potential.elements,
            potential.cutoff,
            filename=scripts.POTENTIAL_FILE,
            core_repulsion=core_repulsion_range(potential, core_repulsion),
        )
        return commands, {'potential': potential}
    return list(potential.get_dict()['commands']), {}


def core_repulsion_range(potential: NNPotentialData, settings: Mapping | None) -> tuple[float, float] | None:
    """(inner, outer) of the ZBL core in A, or None when disabled or the potential records no training distances."""
    seen = [distance for distance in potential.min_distance.values() if distance > 0.0]
    if not settings or not seen:
        return None
    return settings['inner_fraction'] * min(seen), settings['outer_fraction'] * min(seen)


def validate_potential(potential: orm.Data, _=None) -> str | None:
    """A classical potential must be a Dict with ``elements`` and ``commands``."""
    if isinstance(potential, NNPotentialData):
        return None if potential.elements else '`potential`: the NNPotentialData has no `elements` attribute'
    content = potential.get_dict()
    if not content.get('elements') or not content.get('commands'):
        return (
            '`potential`: a classical potential is a Dict with `elements` (element of each atom type, e.g. '
            "['Li', 'P', 'S']) and `commands` (the pair_style / pair_coeff lines)"
        )
    return None


def check_species(structures: Iterable[tuple[str, orm.StructureData]], potential: orm.Data) -> str | None:
    """An error message if some structure holds an element the potential does not know."""
    elements = set(potential_elements(potential))
    for name, structure in structures:
        missing = sorted(structure.get_symbols_set() - elements)
        if missing:
            return (
                f'`{name}` holds {missing}, which the potential (elements {sorted(elements)}) does not cover; '
                'use a potential trained on every element of the structure'
            )
    return None


def check_positive(values: Iterable[float], name: str) -> str | None:
    values = list(values)
    if not values:
        return f'`{name}` is empty; give at least one temperature (K)'
    if any(value <= 0 for value in values):
        return f'`{name}` = {values}: temperatures must be positive (K)'
    return None


def calculation_inputs(
    code: orm.AbstractCode,
    *,
    script: str,
    potential: orm.Data,
    files: Mapping[str, orm.SinglefileData],
    retrieve: Iterable[str],
    options: Mapping[str, Any],
) -> dict:
    """Inputs of one ``lammps.raw`` calculation: script, potential file, extra files, retrieve list, options."""
    _, potential_files = potential_setup(potential)
    all_files = {**potential_files, **files}
    filenames = {key: _filename(key) for key in all_files}
    return {
        'code': code,
        'script': orm.SinglefileData.from_string(script, filename='input.in'),
        'files': all_files,
        'filenames': orm.Dict(filenames),
        'settings': orm.Dict({'additional_retrieve_list': list(retrieve)}),
        'metadata': {'options': dict(options)},
    }


def _filename(key: str) -> str:
    return {
        'potential': scripts.POTENTIAL_FILE,
        'structure': scripts.DATA_FILE,
        'restart': scripts.RESTART_INPUT,
    }[key]


def data_file_node(structure: orm.StructureData, elements: list[str]) -> orm.SinglefileData:
    """The LAMMPS data file of ``structure`` as a file node (types in the order of ``elements``)."""
    return orm.SinglefileData.from_string(scripts.data_file(structure.get_ase(), elements), filename=scripts.DATA_FILE)


# -- one restartable calculation ------------------------------------------------------------------------------------


class LammpsBaseWorkChain(BaseRestartWorkChain):
    """Run one ``lammps.raw`` calculation until it completes; an incomplete run (process killed, job ended early,
    output missing) is run again with the same inputs, so at most that one calculation's work is lost.

    Complete means: LAMMPS printed its total wall time and every file of ``required_files`` was retrieved.
    """

    _process_class = LammpsRawCalculation

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(LammpsRawCalculation, namespace='lammps')
        spec.input(
            'required_files',
            valid_type=orm.List,
            serializer=orm.to_aiida_type,
            default=lambda: orm.List([scripts.RESTART_OUTPUT]),
            help='Files a complete run leaves in the retrieved folder.',
        )
        spec.expose_outputs(LammpsRawCalculation)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )
        spec.exit_code(
            310, 'ERROR_LAMMPS_RUN', message='LAMMPS stopped with an error (a script or set-up problem): {error}'
        )

    def setup(self):
        super().setup()
        self.ctx.inputs = self.exposed_inputs(LammpsRawCalculation, 'lammps')

    @process_handler(priority=600)
    def handle_lammps_error(self, node):
        """A LAMMPS error does not go away by running again: stop with the message."""
        if node.exit_status == LammpsRawCalculation.exit_codes.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR.status:
            return ProcessHandlerReport(True, self.exit_codes.ERROR_LAMMPS_RUN.format(error=node.exit_message))
        return None

    @process_handler(priority=500)
    def handle_incomplete_run(self, node):
        """Run again with the same inputs when the run did not reach its end (killed, walltime, lost output)."""
        missing = self.missing_files(node)
        if node.is_finished_ok and not missing:
            return None
        if node.exit_status not in (0, LammpsRawCalculation.exit_codes.ERROR_OUTFILE_MISSING.status):
            return None
        self.report(f'{node.process_label}<{node.pk}> did not complete (missing: {", ".join(missing)}); running again')
        return ProcessHandlerReport(True)

    def missing_files(self, node) -> list[str]:
        """Required files (and LAMMPS' end-of-run line) that the run did not leave."""
        if 'retrieved' not in node.outputs:
            return ['retrieved folder']
        names = set(node.outputs.retrieved.base.repository.list_object_names())
        missing = [name for name in self.inputs.required_files.get_list() if name not in names]
        results = node.outputs.results.get_dict() if 'results' in node.outputs else {}
        if 'total_wall_time' not in results.get('compute_variables', {}):
            missing.append('end of run in lammps.out')
        return missing


# -- shared base of the MD work chains -------------------------------------------------------------------------------


def _single_structure(inputs) -> list[tuple[str, orm.StructureData]]:
    return [('structure', inputs['structure'])] if 'structure' in inputs else []


def _many_structures(inputs) -> list[tuple[str, orm.StructureData]]:
    return [(f'structures.{key}', node) for key, node in inputs.get('structures', {}).items()]


class LammpsWorkChain(WorkChain):
    """Common inputs (code, potential, parameters, options, max_iterations), input validation and
    ``get_builder_from_protocol`` of the MD work chains; subclasses name their ``PROTOCOL_SECTION``."""

    PROTOCOL_SECTION = ''
    MANY_STRUCTURES = False

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('code', valid_type=orm.AbstractCode, help='LAMMPS (`lmp`) or the `glassceramic-lmp` driver.')
        if cls.MANY_STRUCTURES:
            spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='Start structures.')
        else:
            spec.input('structure', valid_type=orm.StructureData, help='Start structure.')
        spec.input(
            'potential',
            valid_type=(NNPotentialData, orm.Dict),
            validator=validate_potential,
            help='NNPotentialData, or Dict(elements=[...], commands=[pair_style ..., pair_coeff ...]).',
        )
        spec.input('parameters', valid_type=orm.Dict, help=f'The `{cls.PROTOCOL_SECTION}` settings of a protocol.')
        spec.input('options', valid_type=orm.Dict, help='Metadata options of each LAMMPS calculation.')
        spec.input('max_iterations', valid_type=orm.Int, default=lambda: orm.Int(3), help='Attempts per run.')
        spec.inputs.validator = cls.validate_all
        spec.exit_code(320, 'ERROR_RUN_FAILED', message='A LAMMPS run failed after its retries: {run}')

    @classmethod
    def validate_all(cls, inputs, _=None) -> str | None:
        """Species coverage and the workflow's own parameter checks."""
        if 'potential' not in inputs or 'parameters' not in inputs:
            return None
        structures = _many_structures(inputs) if cls.MANY_STRUCTURES else _single_structure(inputs)
        if cls.MANY_STRUCTURES and not structures:
            return '`structures`: give at least one structure'
        return check_species(structures, inputs['potential']) or cls.validate_parameters(
            inputs['parameters'].get_dict()
        )

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        """Workflow-specific checks of ``parameters``; an error message or None."""
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        structure: orm.StructureData | Mapping[str, orm.StructureData],
        potential: orm.Data,
        *,
        protocol: str | None = None,
        overrides: Mapping | None = None,
        options: Mapping | None = None,
    ):
        """A builder with every setting from ``protocol`` (``paper``, ``fast``, ``demo``), ``overrides`` merged into
        the whole protocol (e.g. ``{'anneal': {'total_ps': 10}}``); raises InputValidationError on bad input."""
        settings = load_protocol(protocol, overrides)
        builder = cls.get_builder()
        builder.code = code
        builder.potential = potential
        if cls.MANY_STRUCTURES:
            builder.structures = {'structure': structure} if isinstance(structure, orm.StructureData) else structure
        else:
            if not isinstance(structure, orm.StructureData):
                raise InputValidationError(f'`structure`: {cls.__name__} takes one StructureData')
            builder.structure = structure
        common = settings.get('common', {})
        builder.parameters = orm.Dict(section(settings, cls.PROTOCOL_SECTION))
        builder.options = orm.Dict(protocols.recursive_merge(common.get('options', {}), options or {}))
        builder.max_iterations = orm.Int(common.get('max_iterations', 3))
        error = validate_potential(potential) or cls.validate_all(builder._inputs(prune=True))
        if error:
            raise InputValidationError(error)
        return builder

    def elements(self) -> list[str]:
        return potential_elements(self.inputs.potential)

    def potential_commands(self) -> list[str]:
        return potential_setup(self.inputs.potential, self.inputs.parameters.get('core_repulsion'))[0]

    def submit_run(
        self, script: str, files: Mapping[str, orm.SinglefileData], retrieve: list[str], label: str
    ) -> orm.WorkChainNode:
        """Submit one restartable LAMMPS run; ``retrieve`` files must all be there for the run to count."""
        inputs = calculation_inputs(
            self.inputs.code,
            script=script,
            potential=self.inputs.potential,
            files=files,
            retrieve=retrieve,
            options=self.inputs.options.get_dict(),
        )
        node = self.submit(
            LammpsBaseWorkChain,
            lammps=inputs,
            required_files=orm.List(retrieve),
            max_iterations=self.inputs.max_iterations,
            metadata={'call_link_label': label},
        )
        self.report(f'launched LammpsBaseWorkChain<{node.pk}> for {label}')
        return node

    def failed(self, node: orm.WorkChainNode, run: str):
        """The exit code when a run did not finish well, else None."""
        if node.is_finished_ok:
            return None
        return self.exit_codes.ERROR_RUN_FAILED.format(
            run=f'{run}: {node.process_label}<{node.pk}> {node.exit_message}'
        )
