"""Reference data: crystal models -> AIMD per condition -> uniform snapshots -> screening -> static labels.

The same work chain drives every reference engine through its adapter (:mod:`..engines.reference_engine`): VASP
(aiida-vasp) or an embedded engine, GFN1-xTB (tblite) or a universal potential (CHGNet, SevenNet), whose labelled MD
frames are the labels (no static stage). Each job is a restart work chain of the engine: a killed AIMD continues
there from its last structure and velocities. Conditions run in parallel and independently; a condition that fails,
or a static point that does not converge, is left out of the training set and named in the report. At most
``max_concurrent`` jobs are in flight at any time, as a sliding window: the work chain waits for the oldest job in
flight, takes in every job that has ended by then and fills the free places from the queue.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import ToContext, WorkChain, while_

from ..data.training_set import TrainingSetData
from ..engines.embedded import CHGNET, SEVENNET, TBLITE
from ..engines.reference_engine import EngineInputError, ReferenceEngine, snapshot_stride, temperature_programs
from ..engines.vasp import VASP
from ..protocols import recursive_merge
from ..protocols.mixin import ProtocolMixin
from ..protocols.schemas.reference_data import ReferenceDataProtocol
from ..structures import read_crystal
from .input_checks import InputValidationError, resolve_code, structure_problem
from .reference_functions import (
    DEFECTS,
    build_conditions,
    frame_labels,
    merge_training_sets,
    screen_snapshots,
    split_structures,
    summarize,
)

ENGINES: dict[str, ReferenceEngine] = {engine.name: engine for engine in (TBLITE, CHGNET, SEVENNET, VASP)}
ENGINE_PLUGINS = {name: engine.code_plugins for name, engine in ENGINES.items()}  # calculation plugins of the codes
DEFAULT_OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}


class ReferenceDataInputError(InputValidationError):
    """Inputs of the reference-data work chain that cannot work; the message names the field and the fix."""


PROTOCOL_FILE = 'reference_data.yaml'


def check_parameters(parameters: dict, crystals: dict[str, set[str] | int], engine: str) -> None:
    """Raise :class:`ReferenceDataInputError` for settings that cannot run; ``crystals``: name -> (symbols, natoms)."""
    if engine not in ENGINES:
        raise ReferenceDataInputError(f'engine `{engine}`: use one of {list(ENGINES)}')
    conditions, md = parameters['conditions'], parameters['md']
    for key in ('cell_sizes', 'strains', 'defects', 'temperatures'):
        if not conditions[key]:
            raise ReferenceDataInputError(f'conditions.{key}: empty; give at least one')
    for temperature in conditions['temperatures']:
        if not float(temperature) > 0:
            raise ReferenceDataInputError(f'conditions.temperatures: {temperature} K; every temperature must be > 0 K')
    for quench in conditions.get('quenches', []):
        if len(quench) != 2 or not min(float(value) for value in quench) > 0:
            raise ReferenceDataInputError(f'conditions.quenches: {quench}; give [start, end] temperatures, each > 0 K')
    for key in ('steps', 'timestep'):
        if not float(md[key]) > 0:
            raise ReferenceDataInputError(f'md.{key} `{md[key]}`: must be > 0')
    if not 0 < float(md['snapshot_fraction']) <= 1:
        raise ReferenceDataInputError(f'md.snapshot_fraction `{md["snapshot_fraction"]}`: give a fraction in (0, 1]')
    unknown = set(conditions['defects']) - set(DEFECTS)
    if unknown:
        raise ReferenceDataInputError(f'conditions.defects: unknown {sorted(unknown)}; use {sorted(DEFECTS)}')
    if int(parameters['static']['max_concurrent']) < 1:
        raise ReferenceDataInputError('static.max_concurrent: must be a positive number of jobs in flight')
    if not crystals:
        raise ReferenceDataInputError('structures: give at least one crystal model')
    for name, (symbols, natoms) in crystals.items():
        if 'Li' not in symbols:
            raise ReferenceDataInputError(
                f'structures.{name} ({sorted(symbols)}): has no Li; the reference data need a Li-containing crystal'
            )
        if 'li2s_vacancy' in conditions['defects'] and 'S' not in symbols:
            raise ReferenceDataInputError(
                f'structures.{name}: a Li2S vacancy needs S; drop `li2s_vacancy` from defects'
            )
        for size in conditions['cell_sizes']:
            if int(size) % natoms:
                raise ReferenceDataInputError(
                    f'conditions.cell_sizes: {size} atoms is not a multiple of the {natoms} atoms of structures.{name}'
                )
    try:
        ENGINES[engine].check(parameters, set().union(*(symbols for symbols, _ in crystals.values())))
    except EngineInputError as error:
        raise ReferenceDataInputError(str(error)) from None


def validate_inputs(inputs: dict, _) -> str | None:
    for name, structure in inputs['structures'].items():
        if message := structure_problem(structure, f'structures.{name}'):
            return message
    crystals = {
        name: (set(structure.get_symbols_set()), len(structure.sites))
        for name, structure in inputs['structures'].items()
    }
    try:
        check_parameters(inputs['parameters'].get_dict(), crystals, inputs['engine'].value)
    except (ReferenceDataInputError, KeyError) as error:
        return str(error) if isinstance(error, ReferenceDataInputError) else f'parameters: missing key {error}'
    return None


def planned_counts(parameters: dict, num_crystals: int, engine: str = 'tblite') -> dict:
    """How many calculations a protocol creates and what they cost (static counts: before screening, at most)."""
    conditions, md = parameters['conditions'], parameters['md']
    per_size = (
        num_crystals * len(conditions['strains']) * len(conditions['defects']) * len(temperature_programs(conditions))
    )
    steps = int(md['steps'])
    runs = per_size * len(conditions['cell_sizes'])
    snapshots = 0 if ENGINES[engine].labels_from_md else runs * (steps // snapshot_stride(md))
    per_job = ENGINES[engine].batch_size(parameters) or 1
    return {
        'md_runs': runs,
        'md_steps': runs * steps,
        'md_atom_steps': per_size * sum(int(size) for size in conditions['cell_sizes']) * steps,
        'static_points_at_most': snapshots,
        'static_jobs_at_most': -(-snapshots // per_job),
    }


def as_structure(value) -> orm.StructureData:
    if isinstance(value, orm.StructureData):
        return value
    return orm.StructureData(ase=read_crystal(value) if isinstance(value, str) else value)


class ReferenceDataWorkChain(ProtocolMixin, WorkChain):
    """Labelled training structures from AIMD of crystal models under a grid of conditions."""

    _protocol_file = 'reference_data.yaml'
    _protocol_model = ReferenceDataProtocol

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='crystal models')
        spec.input('code', valid_type=orm.AbstractCode, help='glassceramic-tblite, -chgnet, -sevennet or VASP code')
        spec.input('engine', valid_type=orm.Str, default=lambda: orm.Str('tblite'), help=f'one of {list(ENGINES)}')
        spec.input('parameters', valid_type=orm.Dict, help='a protocol of protocols/reference_data.yaml')
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of every job')
        spec.inputs.validator = validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.jobs_to_run)(cls.submit_jobs, cls.take_ended_jobs),  # AIMD of every condition
            cls.screen,
            while_(cls.jobs_to_run)(cls.submit_jobs, cls.take_ended_jobs),  # static labels
            cls.results,
        )
        spec.output('training_set', valid_type=TrainingSetData, help='static labels of the kept snapshots')
        spec.output('report', valid_type=orm.Dict, help='counts: conditions, snapshots, kept, labelled, excluded')
        spec.exit_code(400, 'ERROR_ALL_MD_FAILED', message='every AIMD condition failed')
        spec.exit_code(401, 'ERROR_NO_LABELS', message='no static point converged')

    @classmethod
    def get_builder_from_protocol(
        cls,
        code: orm.AbstractCode | str | int,
        structures: dict | None = None,
        protocol: str | None = None,
        overrides: dict | None = None,
        *,
        engine: str | None = None,
        options: dict | None = None,
    ):
        """A builder for a protocol (``paper``, ``fast``, ``demo``) of ``protocols/reference_data.yaml``.

        :param code: the engine's code (node, label or PK).
        :param structures: crystal models by name (StructureData, ase.Atoms or a bundled name); default: the
            protocol's ``crystals``.
        :param overrides: nested dictionary merged into the protocol (e.g. ``{'static': {'max_concurrent': 50}}``,
            ``{'vasp': {'potential_family': 'PBE.64'}}``).
        :param engine: ``tblite``, ``chgnet``, ``sevennet`` or ``vasp``; default: the engine of the code's plugin.
        :param options: ``metadata.options`` of every job (resources, wall time, ...).
        :raises InputValidationError: settings that cannot run, before anything is stored or submitted.
        """
        parameters = cls.get_protocol_inputs(protocol, overrides)
        code = resolve_code(code, 'code', tuple(plugin for plugins in ENGINE_PLUGINS.values() for plugin in plugins))
        if engine is None:
            engines = [name for name, plugins in ENGINE_PLUGINS.items() if code.default_calc_job_plugin in plugins]
            if not engines:
                raise InputValidationError(f'`engine`: code `{code.full_label}` has no engine plugin; give `engine`')
            engine = engines[0]
        code = resolve_code(code, 'code', ENGINE_PLUGINS.get(engine, ()))
        if structures is None:
            structures = {name: name for name in parameters['crystals']}
        nodes = {name: as_structure(value) for name, value in structures.items()}
        for name, node in nodes.items():
            if message := structure_problem(node, f'structures.{name}'):
                raise ReferenceDataInputError(message)
        crystals = {name: (set(node.get_symbols_set()), len(node.sites)) for name, node in nodes.items()}
        check_parameters(parameters, crystals, engine)
        builder = cls.get_builder()
        builder.structures = nodes
        builder.code = code
        builder.engine = orm.Str(engine)
        builder.parameters = orm.Dict(parameters)
        builder.options = orm.Dict(recursive_merge(DEFAULT_OPTIONS, options or {}))
        return builder

    @property
    def engine(self) -> ReferenceEngine:
        return ENGINES[self.inputs.engine.value]

    def setup(self):
        """The grid of conditions, each an AIMD job in the queue."""
        parameters = self.inputs.parameters.get_dict()
        self.ctx.parameters = parameters
        self.ctx.options = self.inputs.options.get_dict() if 'options' in self.inputs else dict(DEFAULT_OPTIONS)
        self.ctx.queue, self.ctx.running, self.ctx.ended, self.ctx.md_labels = [], [], {'aimd': [], 'static': []}, []
        for crystal_name in sorted(self.inputs.structures):
            models = build_conditions(self.inputs.structures[crystal_name], orm.Dict(parameters['conditions']))
            for model in (models[name] for name in sorted(models)):
                for start, end in temperature_programs(parameters['conditions']):
                    temperatures = f'{start:g} K' if start == end else f'{start:g} -> {end:g} K'
                    self.ctx.queue.append(
                        {
                            'stage': 'aimd',
                            'index': len(self.ctx.queue),
                            'label': f'{crystal_name} {model.label}, {temperatures}',
                            'structure': model.uuid,
                            'cell_size': model.base.extras.get('cell_size'),
                            'temperatures': (start, end),
                        }
                    )
        self.ctx.counts = {
            'planned': planned_counts(parameters, len(self.inputs.structures), self.inputs.engine.value),
            'md_runs': len(self.ctx.queue),
        }
        self.report(f'{len(self.ctx.queue)} AIMD conditions with the {self.engine.name} engine')

    # ---- the window of jobs in flight ----

    def jobs_to_run(self) -> bool:
        return bool(self.ctx.queue or self.ctx.running)

    def submit_jobs(self):
        """Fill the free places of the window from the queue, then wait for the oldest job in flight."""
        code, parameters = self.inputs.code, self.ctx.parameters
        while self.ctx.queue and len(self.ctx.running) < int(parameters['static']['max_concurrent']):
            job = self.ctx.queue.pop(0)
            structure, options = orm.load_node(job['structure']), dict(self.ctx.options)
            if job['stage'] == 'aimd':
                process, inputs = self.engine.aimd(
                    code, structure, tuple(job['temperatures']), job['cell_size'], parameters, options
                )
            else:
                process, inputs = self.engine.static(code, structure, job['cell_size'], parameters, options)
            node = self.submit(process, **inputs, metadata={'label': job['label'], 'call_link_label': job['stage']})
            self.ctx.running.append({**job, 'node': node.uuid})
        return ToContext(oldest=orm.load_node(self.ctx.running[0]['node']))

    def take_ended_jobs(self):
        """Take in every job that has ended (the oldest one at least); the others stay in flight."""
        running = []
        for job in self.ctx.running:
            node = orm.load_node(job['node'])
            if not node.is_terminated:
                running.append(job)
                continue
            self.ctx.ended[job['stage']].append(job)
            if job['stage'] == 'aimd' and not node.is_finished_ok:
                self.report(f'{job["label"]}: AIMD failed and is left out ({failure(node)})')
        self.ctx.running = running

    def ended(self, stage: str) -> list[tuple[dict, orm.ProcessNode]]:
        """The ended jobs of ``stage`` in the order of the queue, whatever order they ended in."""
        jobs = sorted(self.ctx.ended[stage], key=lambda job: job['index'])
        return [(job, orm.load_node(job['node'])) for job in jobs]

    # ---- snapshots and screening ----

    def screen(self):
        """Snapshots of every condition whose AIMD ended well, screened; their labels (from the MD frames) or their
        static jobs in the queue."""
        aimd = self.ended('aimd')
        jobs = [len(calculations(node)) for _, node in aimd]
        failed = [f'{job["label"]}: {failure(node)}' for job, node in aimd if not node.is_finished_ok]
        self.ctx.counts.update(
            {
                'md_jobs': sum(jobs),
                'md_restarts': sum(max(0, count - 1) for count in jobs),  # continuations of killed jobs
                'md_failed': len(failed),
                'failed_conditions': sorted(failed),
            }
        )
        done = [(job, calculations(node)) for job, node in aimd if node.is_finished_ok]
        if not done:
            return self.exit_codes.ERROR_ALL_MD_FAILED
        md, screening = self.ctx.parameters['md'], self.ctx.parameters['screening']
        elements = sorted(set().union(*(set(s.get_symbols_set()) for s in self.inputs.structures.values())))
        per_job, snapshots, kept = self.engine.batch_size(self.ctx.parameters), 0, 0
        for condition, calcs in done:
            segments, offsets, steps = {}, {}, 0
            for calc in (calc for calc in calcs if 'trajectory' in calc.outputs):  # vasp.vasp numbers its frames
                name = f'segment_{len(segments):03d}'
                segments[name], offsets[name] = calc.outputs.trajectory, steps
                steps += calc.outputs.trajectory.numsteps
            parameters = {
                'stride': snapshot_stride(md),
                'offsets': offsets,
                'threshold': float(screening['threshold']),
                'cutoff': float(screening.get('cutoff', 7.0)),
                'elements': elements,
                'max_selected': screening.get('max_selected'),
            }
            result = screen_snapshots(orm.Dict(parameters), **segments)
            snapshots += result['screening']['snapshots']
            kept += result['screening']['kept']
            if self.engine.labels_from_md:
                self.ctx.md_labels.append(frame_labels(result['structures'], **segments).uuid)
                continue
            batches = split_structures(result['structures'], orm.Int(per_job or 1), orm.Bool(per_job is None))
            for name in sorted(batches):
                job = {'stage': 'static', 'label': f'{condition["label"]}: {name}', 'cell_size': condition['cell_size']}
                self.ctx.queue.append({**job, 'index': len(self.ctx.queue), 'structure': batches[name].uuid})
        self.ctx.counts.update({'snapshots': snapshots, 'kept_after_screening': kept})
        self.report(f'{snapshots} snapshots, {kept} kept after screening, {len(self.ctx.queue)} static jobs')
        return None

    # ---- labels ----

    def results(self):
        static = [node for _, node in self.ended('static')]
        label_sets, excluded = self.engine.labels(static)
        for message in excluded:
            self.report(f'excluded from the training set: {message}')
        sets = [*(orm.load_node(uuid) for uuid in self.ctx.md_labels), *label_sets]
        self.ctx.counts.update(
            {'static_jobs': len(static), 'excluded': len(excluded), 'excluded_points': sorted(excluded)}
        )
        if not sets:
            self.out('report', summarize(orm.Dict(self.ctx.counts)))
            return self.exit_codes.ERROR_NO_LABELS
        # named by their place in the queue: the same training set whatever order the jobs ended in
        training_set = merge_training_sets(**{f'set_{index:06d}': labels for index, labels in enumerate(sets)})
        self.ctx.counts['labelled'] = training_set.num_structures
        self.out('training_set', training_set)
        self.out('report', summarize(orm.Dict(self.ctx.counts)))
        self.report(
            f'{training_set.num_structures} labelled structures; {len(excluded)} excluded; '
            f'{self.ctx.counts["md_failed"]} failed AIMD conditions'
        )
        return None


def calculations(job: orm.ProcessNode) -> list[orm.CalcJobNode]:
    """The calculations a job ran, in their order (a killed one, then its continuations)."""
    return sorted((node for node in job.called if isinstance(node, orm.CalcJobNode)), key=lambda node: node.ctime)


def failure(job: orm.ProcessNode) -> str:
    """Why a job failed: its exit status and message, and those of its last calculation."""
    reason = f'{job.process_label}<{job.pk}> exit status {job.exit_status}: {job.exit_message}'
    if (calcs := calculations(job)) and calcs[-1].exit_status:
        reason += f'; last {calcs[-1].process_label}<{calcs[-1].pk}> exit status {calcs[-1].exit_status}: '
        reason += f'{calcs[-1].exit_message}'
    return reason
