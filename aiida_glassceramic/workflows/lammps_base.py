"""Shared pieces of the LAMMPS workflows: protocols, the potential block and one restartable ``lammps.raw`` run.

The potential is either a :class:`~aiida_glassceramic.data.potential.NNPotentialData` or a ``Dict``
``{'elements': ['Li', 'P', 'S'], 'commands': ['pair_style ...', ...]}`` holding a classical LAMMPS interaction;
``elements`` gives the element of atom types 1, 2, ... The protocol setting ``potential_engine`` runs a
neural network potential as ``pair_style glassceramic`` (``pair_style``, the default: native, any number of MPI ranks)
or through the ``fix external`` of the ``glassceramic-lmp`` driver (``fix_external``: the torch model, one rank).
"""

from __future__ import annotations

import math
import re
import tempfile
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from aiida import orm
from aiida.engine import (
    BaseRestartWorkChain,
    ProcessHandlerReport,
    WorkChain,
    calcfunction,
    process_handler,
    while_,
)
from aiida.plugins import CalculationFactory

from .. import protocols
from ..data.potential import NNPotentialData
from ..engines import lammps_scripts as scripts
from ..parsers.lammps import STDOUT, non_finite_thermo
from .input_checks import InputValidationError, overlapping_atoms

LammpsRawCalculation = CalculationFactory('lammps.raw')
PROTOCOL_FILE = 'md.yaml'
LAMMPS_PARSER = 'glassceramic.lammps'  # aiida-lammps' raw parser, safe for output of runs that blew up
POTENTIAL_ENGINES = ('pair_style', 'fix_external')

# LAMMPS errors of dynamics that blew up (atoms flew off, forces or coordinates became NaN or infinite).
UNSTABLE_ERRORS = re.compile(
    r'Lost atoms|Non-numeric (?:atom coords|positions|box dimensions|pressure)|Out of range atoms'
    r'|Domain too large for neighbor bins|Too many neighbor bins'
)


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
    potential: orm.Data, core_repulsion: Mapping | None = None, engine: str = 'fix_external'
) -> tuple[list[str], dict[str, orm.SinglefileData]]:
    """LAMMPS commands of the interaction and the files the calculation needs for it (for ``engine = 'pair_style'``
    the pair-style file comes from :meth:`LammpsWorkChain.pair_style_files`).

    ``core_repulsion`` (``inner_fraction``, ``outer_fraction``) adds a ZBL core to a neural network potential,
    switched off between those fractions of the shortest interatomic distance of its training data.
    """
    if isinstance(potential, NNPotentialData):
        core = core_repulsion_range(potential, core_repulsion)
        if engine == 'pair_style':
            commands = scripts.pair_style_block(potential.elements, scripts.PAIR_STYLE_FILE, core)
        else:
            commands = scripts.nnp_block(
                potential.elements, potential.cutoff, scripts.POTENTIAL_FILE, core_repulsion=core
            )
        return commands, {'potential': potential}
    return list(potential.get_dict()['commands']), {}


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
        'metadata': {'options': {'parser_name': LAMMPS_PARSER, **options}},
    }


def _filename(key: str) -> str:
    return {
        'potential': scripts.POTENTIAL_FILE,
        'pair_style': scripts.PAIR_STYLE_FILE,
        'structure': scripts.DATA_FILE,
        'restart': scripts.RESTART_INPUT,
    }[key]


def data_file_node(structure: orm.StructureData, elements: list[str]) -> orm.SinglefileData:
    """The LAMMPS data file of ``structure`` as a file node (types in the order of ``elements``)."""
    return orm.SinglefileData.from_string(scripts.data_file(structure.get_ase(), elements), filename=scripts.DATA_FILE)


# -- one restartable calculation ------------------------------------------------------------------------------------


def validate_timestep_remedy(value: orm.Float, _=None, name: str = 'timestep_remedy') -> str | None:
    """The factor must be 1/k for a whole k >= 1 (k = 1 switches the remedy off)."""
    factor = value.value if isinstance(value, orm.Float) else value
    if (
        not isinstance(factor, int | float)
        or not 0.0 < factor <= 1.0
        or not math.isclose(1.0 / factor, round(1.0 / factor), rel_tol=1e-9)
    ):
        return f'`{name}` = {factor!r}: give 1/k for a whole k (0.5, 0.25, ...; 1 switches the remedy off)'
    return None


def instability(node: orm.CalcJobNode) -> str | None:
    """What shows that the dynamics of ``node`` blew up: the LAMMPS error and/or non-finite thermo output."""
    if 'retrieved' not in node.outputs or STDOUT not in node.outputs.retrieved.base.repository.list_object_names():
        return None
    with node.outputs.retrieved.base.repository.open(STDOUT, 'rb') as handle:
        lines = [line.decode(errors='replace') for line in handle]
    errors = [line.strip() for line in lines if 'ERROR' in line and UNSTABLE_ERRORS.search(line)]
    symptoms = [re.sub(r'^ERROR(?: on proc \d+)?: ', '', error).split(' (src/')[0] for error in errors[:1]]
    thermo = non_finite_thermo(lines)
    return '; '.join([*symptoms, thermo] if thermo else symptoms) or None


def step_divisor(node: orm.WorkChainNode) -> int:
    """Steps of the last calculation of LammpsBaseWorkChain ``node`` per step of its script: 1, or ``k`` when the
    timestep was divided by ``k`` (the thermo rows and dump frames of that run then carry ``k`` times the step numbers
    of the unrefined script, see :func:`~aiida_glassceramic.engines.lammps_scripts.refine_timestep`)."""
    calculations = sorted((child for child in node.called if isinstance(child, orm.CalcJobNode)), key=_ctime)
    script = node.inputs.lammps.script
    if not calculations or calculations[-1].inputs.script.uuid == script.uuid:
        return 1
    original = scripts.timestep_ps(script.get_content())
    used = scripts.timestep_ps(calculations[-1].inputs.script.get_content())
    return round(original / used) if original and used else 1


def _ctime(node: orm.Node):
    return node.ctime


class LammpsBaseWorkChain(BaseRestartWorkChain):
    """Run one ``lammps.raw`` calculation until it completes; an incomplete run (process killed, job ended early,
    output missing) is run again with the same inputs, so at most that one calculation's work is lost.

    Complete means: LAMMPS printed its total wall time and every file of ``required_files`` was retrieved.

    Dynamics that blow up (LAMMPS stops with lost atoms, non-numeric coordinates or pressure, a box grown out of the
    neighbour bins, or the thermo output shows ``nan``/``inf``) are run once more with the timestep multiplied by
    ``timestep_remedy`` (default 0.5) and every step count multiplied by its inverse, so that the same simulated time
    and the same output times are covered (:func:`.lammps_scripts.refine_timestep` says what changes; scripts with
    commands of unknown step semantics, e.g. an energy minimisation, are not refined).
    A blow-up of the refined run, or of a script that cannot be refined, ends the work chain with exit code 311. The
    step numbers in the thermo and dump output of a refined run count the shorter steps; :func:`step_divisor` gives
    the factor.
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
        spec.input(
            'timestep_remedy',
            valid_type=orm.Float,
            serializer=orm.to_aiida_type,
            default=lambda: orm.Float(0.5),
            validator=validate_timestep_remedy,
            help='Factor of the timestep for the one rerun of dynamics that blew up (1/k; 1: no rerun).',
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
        spec.exit_code(
            311,
            'ERROR_LAMMPS_UNSTABLE',
            message='The simulation blew up ({symptom}) {when}: use a smaller timestep, or check the potential (its '
            'short-range repulsion) and the structure (atoms too close)',
        )

    def setup(self):
        super().setup()
        self.ctx.inputs = self.exposed_inputs(LammpsRawCalculation, 'lammps')
        self.ctx.timestep_divisor = 1

    @process_handler(priority=610)
    def handle_unstable_dynamics(self, node):
        """Dynamics that blew up: run once more with a shorter timestep over the same simulated time, else stop."""
        symptom = instability(node)
        if symptom is None:
            return None
        divisor = round(1.0 / self.inputs.timestep_remedy.value)
        if self.ctx.timestep_divisor > 1:
            when = f'again with the timestep divided by {self.ctx.timestep_divisor}'
            return ProcessHandlerReport(True, self.exit_codes.ERROR_LAMMPS_UNSTABLE.format(symptom=symptom, when=when))
        if divisor == 1:
            when = 'and `timestep_remedy` is 1 (no rerun with a shorter timestep)'
            return ProcessHandlerReport(True, self.exit_codes.ERROR_LAMMPS_UNSTABLE.format(symptom=symptom, when=when))
        try:
            script = scripts.refine_timestep(self.ctx.inputs.script.get_content(), divisor)
        except scripts.RefinementError as error:
            when = f'and the script cannot run with a shorter timestep ({error})'
            return ProcessHandlerReport(True, self.exit_codes.ERROR_LAMMPS_UNSTABLE.format(symptom=symptom, when=when))
        # stored now: the work chain's checkpoint can only refer to stored nodes (the daemon may stop before the rerun)
        refined = orm.SinglefileData.from_string(script, filename=self.ctx.inputs.script.filename)
        self.ctx.inputs.script = refined.store()
        self.ctx.timestep_divisor = divisor
        self.report(
            f'{node.process_label}<{node.pk}> blew up ({symptom}); running again with the timestep divided by '
            f'{divisor} and {divisor} times the steps (same simulated time)'
        )
        return ProcessHandlerReport(True)

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
        """Species coverage, overlapping atoms and the workflow's own parameter checks."""
        if 'potential' not in inputs or 'parameters' not in inputs:
            return None
        structures = _many_structures(inputs) if cls.MANY_STRUCTURES else _single_structure(inputs)
        if cls.MANY_STRUCTURES and not structures:
            return '`structures`: give at least one structure'
        for name, structure in structures:
            if message := overlapping_atoms(structure, name):
                return message
        engine = inputs['parameters'].get_dict().get('potential_engine', 'pair_style')
        if engine not in POTENTIAL_ENGINES:
            return f'`parameters.potential_engine` = {engine!r}: choose one of {POTENTIAL_ENGINES}'
        remedy = inputs['parameters'].get_dict().get('timestep_remedy', 0.5)
        if message := validate_timestep_remedy(remedy, name='parameters.timestep_remedy'):
            return message
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

    def potential_engine(self) -> str:
        return self.inputs.parameters.get('potential_engine', 'pair_style')

    def potential_commands(self) -> list[str]:
        core_repulsion = self.inputs.parameters.get('core_repulsion')
        return potential_setup(self.inputs.potential, core_repulsion, self.potential_engine())[0]

    def pair_style_files(self) -> dict[str, orm.SinglefileData]:
        """The pair-style file of a neural network potential run as ``pair_style glassceramic`` (made once)."""
        if self.potential_engine() != 'pair_style' or not isinstance(self.inputs.potential, NNPotentialData):
            return {}
        if 'pair_style_file' not in self.ctx:
            self.ctx.pair_style_file = export_pair_style(self.inputs.potential)
        return {'pair_style': self.ctx.pair_style_file}

    def submit_run(
        self, script: str, files: Mapping[str, orm.SinglefileData], retrieve: list[str], label: str
    ) -> orm.WorkChainNode:
        """Submit one restartable LAMMPS run; ``retrieve`` files must all be there for the run to count."""
        inputs = calculation_inputs(
            self.inputs.code,
            script=script,
            potential=self.inputs.potential,
            files={**self.pair_style_files(), **files},
            retrieve=retrieve,
            options=self.inputs.options.get_dict(),
        )
        node = self.submit(
            LammpsBaseWorkChain,
            lammps=inputs,
            required_files=orm.List(retrieve),
            max_iterations=self.inputs.max_iterations,
            timestep_remedy=orm.Float(self.inputs.parameters.get('timestep_remedy', 0.5)),
            metadata={'call_link_label': label},
        )
        self.report(f'launched LammpsBaseWorkChain<{node.pk}> for {label}')
        return node

    @staticmethod
    def step_divisor_input(node: orm.WorkChainNode) -> dict[str, orm.Int]:
        """``{'step_divisor': Int(k)}`` for the output parsers when the run of ``node`` had its timestep divided by
        ``k``, else ``{}`` (the parsers' provenance then stays that of a plain run)."""
        divisor = step_divisor(node)
        return {'step_divisor': orm.Int(divisor)} if divisor > 1 else {}

    def failed(self, node: orm.WorkChainNode, run: str):
        """The exit code when a run did not finish well, else None."""
        if node.is_finished_ok:
            return None
        return self.exit_codes.ERROR_RUN_FAILED.format(
            run=f'{run}: {node.process_label}<{node.pk}> {node.exit_message}'
        )
