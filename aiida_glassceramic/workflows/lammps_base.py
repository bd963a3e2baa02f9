"""Shared pieces of the LAMMPS workflows: protocols, the potential block and one restartable LAMMPS run.

The potential is either a :class:`~aiida_glassceramic.data.potential.NNPotentialData` or a ``Dict``
``{'elements': ['Li', 'P', 'S'], 'commands': ['pair_style ...', ...]}`` holding a classical LAMMPS interaction;
``elements`` gives the element of atom types 1, 2, ... The protocol setting ``potential_engine`` runs a
neural network potential as ``pair_style glassceramic`` (``pair_style``, the default: native, any number of MPI ranks)
or through the ``fix external`` of the ``glassceramic-lmp`` driver (``fix_external``: the torch model, one rank).
"""

from __future__ import annotations

import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path

from aiida import orm
from aiida.engine import (
    BaseRestartWorkChain,
    ProcessHandlerReport,
    WorkChain,
    calcfunction,
    process_handler,
    while_,
)

from .. import protocols
from ..calculations.lammps import LammpsCalculation
from ..data.potential import NNPotentialData
from ..engines import lammps_scripts as scripts
from ..protocols.mixin import ProtocolMixin
from ..protocols.schemas.md import Common, MdProtocol, parameters_model
from ..protocols.validation import validate, validate_field
from .input_checks import InputValidationError, structure_problem

PROTOCOL_FILE = 'md.yaml'
DEFAULT_REMEDY = Common.model_fields['timestep_remedy'].default  # timestep factor of the rerun of a blow-up
DEFAULT_ENGINE = Common.model_fields['potential_engine'].default


# -- protocols ------------------------------------------------------------------------------------------------------


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


def potential_commands(potential: orm.Data, parameters: Mapping) -> list[str]:
    """LAMMPS commands of the interaction: a classical potential's own, or a neural network potential run by
    ``parameters['potential_engine']`` (the files: ``potential`` itself and, for ``pair_style``, the file of
    :meth:`LammpsWorkChain.pair_style_files`).

    ``parameters['core_repulsion']`` (``inner_fraction``, ``outer_fraction``) adds a ZBL core to a neural network
    potential, switched off between those fractions of the shortest interatomic distance of its training data.
    """
    if not isinstance(potential, NNPotentialData):
        return list(potential.get_dict()['commands'])
    core = core_repulsion_range(potential, parameters.get('core_repulsion'))
    if parameters.get('potential_engine', DEFAULT_ENGINE) == 'pair_style':
        return scripts.pair_style_block(potential.elements, scripts.PAIR_STYLE_FILE, core)
    return scripts.nnp_block(potential.elements, potential.cutoff, scripts.POTENTIAL_FILE, core_repulsion=core)


@calcfunction
def export_pair_style(potential: NNPotentialData) -> orm.SinglefileData:
    """The file of LAMMPS' ``pair_style glassceramic`` written from ``potential``."""
    with tempfile.TemporaryDirectory() as folder:
        return orm.SinglefileData(potential.export_pair_style(Path(folder) / scripts.PAIR_STYLE_FILE))


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


def data_file_node(structure: orm.StructureData, elements: list[str]) -> orm.SinglefileData:
    """The LAMMPS data file of ``structure`` as a file node (types in the order of ``elements``)."""
    return orm.SinglefileData.from_string(scripts.data_file(structure.get_ase(), elements), filename=scripts.DATA_FILE)


# -- one restartable calculation ------------------------------------------------------------------------------------


def temperature_label(temperature: float) -> str:
    """A link label for a temperature: ``600.0 -> 'T600'``, ``612.5 -> 'T612p5'``."""
    return 'T' + f'{temperature:g}'.replace('.', 'p')


def validate_script_inputs(inputs, _=None) -> str | None:
    """The script must be one of :data:`.lammps_scripts.SCRIPTS` and build from ``parameters``."""
    if 'script' not in inputs or 'parameters' not in inputs or 'potential' not in inputs:
        return None
    name, parameters = inputs['script'].value, inputs['parameters'].get_dict()
    if name not in scripts.SCRIPTS:
        return f'`script` = {name!r}: choose one of {sorted(scripts.SCRIPTS)}'
    try:
        validate_field(
            Common, 'timestep_remedy', parameters.get('timestep_remedy', DEFAULT_REMEDY), 'parameters.timestep_remedy'
        )
        build_script(name, parameters, inputs['potential'])
    except InputValidationError as error:
        return str(error)
    except scripts.ScriptSettingsError as error:
        return f'`parameters`: {error}'
    except KeyError as error:
        return f'`parameters`: the {name} script needs the setting {error}'
    return None


def build_script(name: str, parameters: Mapping, potential: orm.Data, divisor: int = 1) -> str:
    """The text of script ``name`` from ``parameters`` with the timestep divided by ``divisor``."""
    return scripts.SCRIPTS[name](
        scripts.with_timestep_divided(dict(parameters), divisor),
        potential_commands(potential, parameters),
        potential_elements(potential),
    )


class LammpsBaseWorkChain(BaseRestartWorkChain):
    """Build the LAMMPS script ``script`` of :data:`.lammps_scripts.SCRIPTS` from ``parameters`` and ``potential`` and
    run it until it completes. The handlers act on the exit codes of :class:`.LammpsCalculation`:

    - incomplete (job killed or out of time, output or required files missing): run again with the same inputs (a
      continuation chunk from the same restart file), so at most that one calculation's work is lost;
    - dynamics that blew up: run once more with the script built anew at the timestep times ``timestep_remedy``
      (``parameters``, default 0.5): every step count derives from a time, so the run covers the same simulated
      time with output at the same times. A blow-up of that rerun, of an energy minimisation or with a remedy of 1
      ends the work chain with 311;
    - any other LAMMPS error: stop with 310.
    """

    _process_class = LammpsCalculation

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.expose_inputs(LammpsCalculation, namespace='lammps', exclude=('script', 'filenames'))
        spec.input(
            'script',
            valid_type=orm.Str,
            serializer=orm.to_aiida_type,
            help=f'Name of the script to build: one of {sorted(scripts.SCRIPTS)}.',
        )
        spec.input(
            'parameters',
            valid_type=orm.Dict,
            help='Settings the script is built from (a section of md.yaml plus what the run adds, e.g. `chunk`).',
        )
        spec.input(
            'potential',
            valid_type=(NNPotentialData, orm.Dict),
            validator=validate_potential,
            help='NNPotentialData, or Dict(elements=[...], commands=[pair_style ..., pair_coeff ...]).',
        )
        spec.inputs.validator = validate_script_inputs
        spec.expose_outputs(LammpsCalculation)
        spec.outline(
            cls.setup,
            while_(cls.should_run_process)(cls.run_process, cls.inspect_process),
            cls.results,
        )
        spec.exit_code(
            310, 'ERROR_LAMMPS_RUN', message='LAMMPS stopped with an error (a script or set-up problem): {error}'
        )
        spec.exit_code(
            311,
            'ERROR_LAMMPS_UNSTABLE',
            message='{blow_up}, {when}: use a smaller timestep, or check the potential (its short-range repulsion) and '
            'the structure (atoms too close)',
        )

    def setup(self):
        super().setup()
        self.ctx.inputs = self.exposed_inputs(LammpsCalculation, 'lammps')
        potential = self.inputs.potential
        files = {
            **({'potential': potential} if isinstance(potential, NNPotentialData) else {}),
            **self.ctx.inputs.get('files', {}),
        }
        self.ctx.inputs.files = files
        self.ctx.inputs.filenames = {key: scripts.INPUT_FILES[key] for key in files}
        self.ctx.timestep_divisor = 1
        self.ctx.inputs.script = self.script()

    def script(self) -> orm.SinglefileData:
        """The script at the current timestep, stored: the checkpoint can only refer to stored nodes."""
        text = build_script(
            self.inputs.script.value,
            self.inputs.parameters.get_dict(),
            self.inputs.potential,
            self.ctx.timestep_divisor,
        )
        return orm.SinglefileData.from_string(text, filename=LammpsCalculation.FILENAME_INPUT).store()

    @process_handler(priority=600, exit_codes=[LammpsCalculation.exit_codes.ERROR_UNSTABLE_DYNAMICS])
    def handle_unstable_dynamics(self, node):
        """Run once more with the script built at a shorter timestep, else stop with 311."""
        divisor = round(1.0 / self.inputs.parameters.get('timestep_remedy', DEFAULT_REMEDY))
        if self.ctx.timestep_divisor > 1:
            when = f'again with the timestep divided by {self.ctx.timestep_divisor}'
        elif divisor == 1:
            when = 'and `timestep_remedy` is 1 (no rerun with a shorter timestep)'
        elif self.inputs.script.value in scripts.MINIMISATIONS:
            when = 'in an energy minimisation (no timestep to shorten)'
        else:
            self.ctx.timestep_divisor = divisor
            self.ctx.inputs.script = self.script()
            self.report(
                f'{node.process_label}<{node.pk}>: {node.exit_message}; running again with the timestep divided by '
                f'{divisor} over the same simulated time'
            )
            return ProcessHandlerReport(True)
        return ProcessHandlerReport(
            True, self.exit_codes.ERROR_LAMMPS_UNSTABLE.format(blow_up=node.exit_message, when=when)
        )

    @process_handler(
        priority=500,
        exit_codes=[
            LammpsCalculation.exit_codes.ERROR_INCOMPLETE_RUN,
            LammpsCalculation.exit_codes.ERROR_MISSING_FILES,
            LammpsCalculation.exit_codes.ERROR_OUTFILE_MISSING,
        ],
    )
    def handle_incomplete_run(self, node):
        """Run again with the same inputs."""
        self.report(f'{node.process_label}<{node.pk}>: {node.exit_message}; running again with the same inputs')
        return ProcessHandlerReport(True)

    @process_handler(priority=400, exit_codes=[LammpsCalculation.exit_codes.ERROR_PARSER_DETECTED_LAMMPS_RUN_ERROR])
    def handle_lammps_error(self, node):
        """A LAMMPS error does not go away by running again: stop with the message."""
        return ProcessHandlerReport(True, self.exit_codes.ERROR_LAMMPS_RUN.format(error=node.exit_message))


# -- shared base of the MD work chains -------------------------------------------------------------------------------


def _single_structure(inputs) -> list[tuple[str, orm.StructureData]]:
    return [('structure', inputs['structure'])] if 'structure' in inputs else []


def _many_structures(inputs) -> list[tuple[str, orm.StructureData]]:
    return [(f'structures.{key}', node) for key, node in inputs.get('structures', {}).items()]


class LammpsWorkChain(ProtocolMixin, WorkChain):
    """Common inputs (code, potential, parameters, options, max_iterations), input validation and
    ``get_builder_from_protocol`` of the MD work chains; subclasses name their ``PROTOCOL_SECTION``."""

    PROTOCOL_SECTION = ''
    MANY_STRUCTURES = False
    _protocol_file = PROTOCOL_FILE
    _protocol_model = MdProtocol

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
        """The parameters (:meth:`check_parameters`), overlapping atoms and the potential's species coverage."""
        if 'parameters' not in inputs:
            return None
        try:
            cls.check_parameters(inputs['parameters'].get_dict())
        except InputValidationError as error:
            return str(error)
        if 'potential' not in inputs:
            return None
        structures = _many_structures(inputs) if cls.MANY_STRUCTURES else _single_structure(inputs)
        if cls.MANY_STRUCTURES and not structures:
            return '`structures`: give at least one structure'
        for name, structure in structures:
            if message := structure_problem(structure, name):
                return message
        return validate_potential(inputs['potential']) or check_species(structures, inputs['potential'])

    @classmethod
    def check_parameters(cls, parameters: Mapping) -> None:
        """Raise :class:`InputValidationError` naming the first wrong key of ``parameters`` (types, ranges, unknown
        keys, times consistent with each other)."""
        validate(parameters_model(cls.PROTOCOL_SECTION), parameters, 'parameters')
        if message := cls.validate_parameters(dict(parameters)):
            raise InputValidationError(message)

    @classmethod
    def validate_parameters(cls, parameters: dict) -> str | None:
        """Workflow-specific checks of ``parameters``; an error message or None."""
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode,
        structure: orm.StructureData | Mapping[str, orm.StructureData],
        protocol: str | None = None,
        overrides: Mapping | None = None,
        *,
        potential: orm.Data | None = None,
        options: Mapping | None = None,
    ):
        """A builder with every setting from ``protocol`` (``paper``, ``fast``, ``demo``), ``overrides`` merged into
        the whole protocol (e.g. ``{'anneal': {'total_ps': 10}}``), ``options`` over its calculation options.

        :param potential: NNPotentialData or a classical potential Dict (None: given later, e.g. by the study).
        :raises InputValidationError: naming the input and the fix.
        """
        settings = cls.get_protocol_inputs(protocol, overrides)
        builder = cls.get_builder()
        builder.code = code
        if potential is not None:
            builder.potential = potential
        if cls.MANY_STRUCTURES:
            builder.structures = {'structure': structure} if isinstance(structure, orm.StructureData) else structure
        else:
            if not isinstance(structure, orm.StructureData):
                raise InputValidationError(f'`structure`: {cls.__name__} takes one StructureData')
            builder.structure = structure
        common = settings['common']
        builder.parameters = orm.Dict(section(settings, cls.PROTOCOL_SECTION))
        builder.options = orm.Dict(protocols.recursive_merge(common['options'], options or {}))
        builder.max_iterations = orm.Int(common['max_iterations'])
        if error := cls.validate_all(builder._inputs(prune=True)):
            raise InputValidationError(error)
        return builder

    def elements(self) -> list[str]:
        return potential_elements(self.inputs.potential)

    def potential_engine(self) -> str:
        return self.inputs.parameters.get('potential_engine', DEFAULT_ENGINE)

    def pair_style_files(self) -> dict[str, orm.SinglefileData]:
        """The pair-style file of a neural network potential run as ``pair_style glassceramic`` (made once)."""
        if self.potential_engine() != 'pair_style' or not isinstance(self.inputs.potential, NNPotentialData):
            return {}
        if 'pair_style_file' not in self.ctx:
            self.ctx.pair_style_file = export_pair_style(self.inputs.potential)
        return {'pair_style': self.ctx.pair_style_file}

    def submit_run(
        self, script: str, files: Mapping[str, orm.SinglefileData], retrieve: list[str], label: str, **settings
    ) -> orm.WorkChainNode:
        """Submit one restartable LAMMPS run of script ``script`` built from ``parameters`` with ``settings`` added;
        ``retrieve`` files must all be there for the run to count."""
        parameters = orm.Dict({**self.inputs.parameters.get_dict(), **settings}) if settings else self.inputs.parameters
        node = self.submit(
            LammpsBaseWorkChain,
            script=script,
            parameters=parameters,
            potential=self.inputs.potential,
            lammps={
                'code': self.inputs.code,
                'files': {**self.pair_style_files(), **files},
                'settings': orm.Dict({'additional_retrieve_list': retrieve}),
                'metadata': {'options': self.inputs.options.get_dict()},
            },
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
