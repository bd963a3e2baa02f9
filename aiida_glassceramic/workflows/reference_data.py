"""Reference data: crystal models -> AIMD per condition -> uniform snapshots -> screening -> static labels.

The same work chain drives VASP (aiida-vasp's ``vasp.vasp``) or an embedded engine: GFN1-xTB (tblite) or the
universal potential CHGNet, whose labelled MD frames are the labels (no static stage). Conditions
run in parallel and independently; a killed AIMD continues from its last structure and velocities; a static point
that does not converge is left out of the training set and named in the report. At most ``max_concurrent`` jobs
are in flight at any time, as a sliding window: the work chain waits for the oldest job in flight, takes in every job
that has ended by then and fills the free places from the queue.
"""

from __future__ import annotations

from aiida import orm
from aiida.engine import WorkChain, while_
from aiida.plugins import WorkflowFactory

from ..calculations.chgnet import ChgnetCalculation
from ..calculations.tblite import TbliteCalculation
from ..data.training_set import TrainingSetData
from ..engines import vasp as vasp_engine
from ..engines.reference_runner import InputError
from ..engines.reference_runner import validate as validate_run
from ..protocols import load_protocol, recursive_merge
from ..structures import read_crystal
from .input_checks import overlapping_atoms, resolve_code
from .reference_functions import (
    DEFECTS,
    build_conditions,
    frame_labels,
    merge_training_sets,
    screen_snapshots,
    split_structures,
    summarize,
    vasp_labels,
)

ENGINES = ('tblite', 'chgnet', 'vasp')
EMBEDDED = {'tblite': TbliteCalculation, 'chgnet': ChgnetCalculation}  # engines run by the package's own runner
LABELS_FROM_MD = ('chgnet',)  # engines whose MD frames are the labels: a static point would repeat them
# default CalcJob plugin of each code
ENGINE_PLUGINS = {'tblite': ('glassceramic.tblite',), 'chgnet': ('glassceramic.chgnet',), 'vasp': ('vasp.vasp',)}
DEFAULT_OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}


class ReferenceDataInputError(ValueError):
    """Inputs of the reference-data work chain that cannot work; the message names the field and the fix."""


PROTOCOL_FILE = 'reference_data.yaml'


def check_parameters(parameters: dict, crystals: dict[str, set[str] | int], engine: str) -> None:
    """Raise :class:`ReferenceDataInputError` for settings that cannot run; ``crystals``: name -> (symbols, natoms)."""
    if engine not in ENGINES:
        raise ReferenceDataInputError(f'engine `{engine}`: use one of {ENGINES}')
    conditions, md = parameters['conditions'], parameters['md']
    for temperature in conditions['temperatures']:
        if not float(temperature) > 0:
            raise ReferenceDataInputError(f'conditions.temperatures: {temperature} K; every temperature must be > 0 K')
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
    if engine in EMBEDDED:
        if engine not in parameters:
            raise ReferenceDataInputError(f'parameters.{engine}: missing; give the {engine} calculator and thermostat')
        try:
            validate_run(
                {'task': 'single_point', 'calculator': parameters[engine]['calculator']}, EMBEDDED[engine].ENGINE
            )
        except InputError as error:
            raise ReferenceDataInputError(f'parameters.{engine}.{error}') from None
    if engine == 'vasp':
        settings = parameters['vasp']
        elements = set().union(*(symbols for symbols, _ in crystals.values()))
        try:
            vasp_engine.check_potential_family(settings['potential_family'], settings['potential_mapping'], elements)
            for size in conditions['cell_sizes']:
                vasp_engine.kpoints_mesh(settings['aimd']['kpoints'], int(size))
                vasp_engine.kpoints_mesh(settings['static']['kpoints'], int(size))
        except vasp_engine.VaspInputError as error:
            raise ReferenceDataInputError(f'parameters.vasp.{error}') from None


def validate_inputs(inputs: dict, _) -> str | None:
    for name, structure in inputs['structures'].items():
        if message := overlapping_atoms(structure, f'structures.{name}'):
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
    per_size = num_crystals * len(conditions['strains']) * len(conditions['defects']) * len(conditions['temperatures'])
    steps = int(md['steps'])
    runs = per_size * len(conditions['cell_sizes'])
    snapshots = 0 if engine in LABELS_FROM_MD else runs * (steps // snapshot_stride(md))
    per_job = 1 if engine == 'vasp' else int(parameters['static'].get('structures_per_job', 1))
    return {
        'md_runs': runs,
        'md_steps': runs * steps,
        'md_atom_steps': per_size * sum(int(size) for size in conditions['cell_sizes']) * steps,
        'static_points_at_most': snapshots,
        'static_jobs_at_most': -(-snapshots // per_job),
    }


def snapshot_stride(md: dict) -> int:
    """MD steps between snapshots for a uniform ``snapshot_fraction`` (5 % -> every 20th step)."""
    return max(1, round(1.0 / float(md['snapshot_fraction'])))


def as_structure(value) -> orm.StructureData:
    if isinstance(value, orm.StructureData):
        return value
    return orm.StructureData(ase=read_crystal(value) if isinstance(value, str) else value)


class ReferenceDataWorkChain(WorkChain):
    """Labelled training structures from AIMD of crystal models under a grid of conditions."""

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input_namespace('structures', valid_type=orm.StructureData, dynamic=True, help='crystal models')
        spec.input('code', valid_type=orm.AbstractCode, help='glassceramic-tblite, glassceramic-chgnet or VASP code')
        spec.input('engine', valid_type=orm.Str, default=lambda: orm.Str('tblite'), help=f'one of {ENGINES}')
        spec.input('parameters', valid_type=orm.Dict, help='a protocol of protocols/reference_data.yaml')
        spec.input('options', valid_type=orm.Dict, required=False, help='metadata.options of every job')
        spec.inputs.validator = validate_inputs
        spec.outline(
            cls.setup,
            while_(cls.md_to_run)(cls.run_md, cls.inspect_md),
            cls.screen,
            while_(cls.static_to_run)(cls.run_static, cls.inspect_static),
            cls.results,
        )
        spec.output('training_set', valid_type=TrainingSetData, help='static labels of the kept snapshots')
        spec.output('report', valid_type=orm.Dict, help='counts: conditions, snapshots, kept, labelled, excluded')
        spec.exit_code(400, 'ERROR_ALL_MD_FAILED', message='every AIMD condition failed')
        spec.exit_code(401, 'ERROR_NO_LABELS', message='no static point converged')

    @classmethod
    def get_builder_from_protocol(  # noqa: PLR0917
        cls,
        engine_code: orm.AbstractCode | str | int,
        structures: dict | None = None,
        protocol: str | None = None,
        engine: str = 'tblite',
        overrides: dict | None = None,
        options: dict | None = None,
        max_concurrent: int | None = None,
        potential_family: str | None = None,
    ):
        """A builder for a protocol (``paper``, ``fast``, ``demo``) of ``protocols/reference_data.yaml``.

        :param structures: crystal models by name (StructureData, ase.Atoms or a bundled name); default: the
            protocol's ``crystals``.
        :param overrides: nested dictionary merged into the protocol.
        :param options: ``metadata.options`` of every job (resources, wall time, ...).
        :param max_concurrent: cap on jobs in flight (MD and static).
        :param potential_family: POTCAR family (VASP), overriding the protocol's.
        :raises ReferenceDataInputError: settings that cannot run, before anything is submitted.
        """
        parameters = load_protocol(PROTOCOL_FILE, protocol, overrides, error=ReferenceDataInputError)
        if max_concurrent is not None:
            parameters['static']['max_concurrent'] = int(max_concurrent)
        if potential_family is not None:
            parameters['vasp']['potential_family'] = potential_family
        if structures is None:
            structures = {name: name for name in parameters['crystals']}
        nodes = {name: as_structure(value) for name, value in structures.items()}
        for name, node in nodes.items():
            if message := overlapping_atoms(node, f'structures.{name}'):
                raise ReferenceDataInputError(message)
        engine_code = resolve_code(engine_code, 'engine_code', ENGINE_PLUGINS.get(engine, ()))
        crystals = {name: (set(node.get_symbols_set()), len(node.sites)) for name, node in nodes.items()}
        check_parameters(parameters, crystals, engine)
        builder = cls.get_builder()
        builder.structures = nodes
        builder.code = engine_code
        builder.engine = orm.Str(engine)
        builder.parameters = orm.Dict(parameters)
        builder.options = orm.Dict(recursive_merge(DEFAULT_OPTIONS, options or {}))
        return builder

    # ---- conditions and AIMD ----

    def setup(self):
        parameters = self.inputs.parameters.get_dict()
        self.ctx.parameters = parameters
        self.ctx.engine = self.inputs.engine.value
        self.ctx.options = self.inputs.options.get_dict() if 'options' in self.inputs else dict(DEFAULT_OPTIONS)
        self.ctx.md = []
        for crystal_name in sorted(self.inputs.structures):
            models = build_conditions(self.inputs.structures[crystal_name], orm.Dict(parameters['conditions']))
            for name in sorted(models):
                model = models[name]
                for temperature in parameters['conditions']['temperatures']:
                    self.ctx.md.append(
                        {
                            'label': f'{crystal_name} {model.label}, {temperature} K',
                            'model': model.uuid,
                            'cell_size': model.base.extras.get('cell_size'),
                            'temperature': float(temperature),
                            'segments': [],
                            'offsets': {},
                            'steps_done': 0,
                            'restarts': 0,
                            'restart': None,
                            'position': len(self.ctx.md),
                            'state': 'queued',
                        }
                    )
        self.ctx.counts = {
            'planned': planned_counts(parameters, len(self.inputs.structures), self.ctx.engine),
            'md_runs': len(self.ctx.md),
            'md_jobs': 0,
            'md_restarts': 0,
        }
        self.ctx.excluded = []
        self.ctx.label_sets = []  # [static job (or MD-labelled condition) index, labels] in the order they end
        self.ctx.vasp_points = []  # [static job index, structure, misc] of the converged VASP points
        self.report(f'{len(self.ctx.md)} AIMD conditions with the {self.ctx.engine} engine')

    def cap(self) -> int:
        return int(self.ctx.parameters['static']['max_concurrent'])

    def md_to_run(self) -> bool:
        return any(condition['state'] in ('queued', 'running') for condition in self.ctx.md)

    def run_md(self):
        """Fill the free places of the window from the queue, then wait for the oldest AIMD job in flight."""
        running = [condition for condition in self.ctx.md if condition['state'] == 'running']
        queued = [condition for condition in self.ctx.md if condition['state'] == 'queued']
        for condition in queued[: max(0, self.cap() - len(running))]:
            node = self.submit_md(condition)
            condition['state'], condition['job'] = 'running', node.uuid
            self.ctx.counts['md_jobs'] += 1
            running.append(condition)
        self.to_context(oldest=orm.load_node(running[0]['job']))

    def submit_md(self, condition: dict):
        md = self.ctx.parameters['md']
        structure = orm.load_node(condition['model'])
        metadata = {'label': condition['label'], 'call_link_label': 'aimd'}
        if self.ctx.engine in EMBEDDED:
            settings = self.ctx.parameters[self.ctx.engine]
            parameters = {
                'task': 'md',
                'calculator': settings['calculator'],
                'md': {
                    'thermostat': settings['thermostat'],
                    'friction': settings.get('friction', 0.01),
                    'temperature': condition['temperature'],
                    'timestep': float(md['timestep']),
                    'steps': int(md['steps']),
                    'interval': snapshot_stride(md),
                    'seed': int(md.get('seed', 0)),
                },
            }
            inputs = {
                'code': self.inputs.code,
                'structure': structure,
                'parameters': orm.Dict(parameters),
                'metadata': {**metadata, 'options': dict(self.ctx.options)},
            }
            if condition['restart']:
                inputs['restart'] = orm.load_node(condition['restart']['data'])
            return self.submit(EMBEDDED[self.ctx.engine], **inputs)
        restart = condition['restart']
        inputs = vasp_engine.aimd_inputs(
            self.inputs.code,
            orm.load_node(restart['structure']) if restart else structure,
            self.ctx.parameters['vasp'],
            condition['cell_size'],
            condition['temperature'],
            int(md['steps']) - condition['steps_done'],
            self.ctx.options,
            restart_folder=orm.load_node(restart['remote']) if restart else None,
        )
        return self.submit(WorkflowFactory('vasp.vasp'), **inputs, metadata=metadata)

    def inspect_md(self):
        """Take in every AIMD job that has ended (the oldest one at least); the others stay in flight."""
        for condition in self.ctx.md:
            if condition['state'] != 'running':
                continue
            node = orm.load_node(condition['job'])
            if not node.is_terminated:
                continue
            calc = node if self.ctx.engine in EMBEDDED else _last_calcjob(node)
            restart = self.collect_segment(condition, calc)
            if node.is_finished_ok:
                condition['state'] = 'done'
                continue
            reason = f'{node.process_label}<{node.pk}> exit status {node.exit_status}: {node.exit_message}'
            if restart and condition['restarts'] < int(self.ctx.parameters['md'].get('max_restarts', 0)):
                condition['restarts'] += 1
                condition['restart'] = restart
                condition['state'] = 'queued'
                self.ctx.md.append(self.ctx.md.pop(self.ctx.md.index(condition)))  # to the end of the queue
                self.ctx.counts['md_restarts'] += 1
                self.report(f'{condition["label"]}: {reason}; continuing from step {condition["steps_done"]}')
            else:
                condition['state'], condition['reason'] = 'failed', reason
                self.report(f'{condition["label"]}: AIMD failed and is left out ({reason})')

    def collect_segment(self, condition: dict, calc) -> dict | None:
        """Record the frames of an AIMD job; return what a continuation needs, or None if it cannot continue.

        A job that wrote no frame (killed before its first) continues from where the one before it stopped, if any.
        """
        if calc is None or 'trajectory' not in calc.outputs:
            return condition['restart']
        trajectory = calc.outputs.trajectory
        name = f'segment_{len(condition["segments"]):03d}'
        condition['segments'].append(trajectory.uuid)
        condition['offsets'][name] = condition['steps_done']
        if self.ctx.engine in EMBEDDED:
            condition['steps_done'] = int(trajectory.get_stepids()[-1])
            return {'data': calc.outputs.restart.uuid} if 'restart' in calc.outputs else None
        condition['steps_done'] += int(trajectory.get_array('positions').shape[0])
        if 'structure' not in calc.outputs or 'remote_folder' not in calc.outputs:
            return None
        return {'structure': calc.outputs.structure.uuid, 'remote': calc.outputs.remote_folder.uuid}

    # ---- snapshots and screening ----

    def screen(self):
        # in the order of the grid, whatever order the jobs ended in: the training set is the same on every run
        done = sorted((c for c in self.ctx.md if c['state'] == 'done'), key=lambda condition: condition['position'])
        self.ctx.counts['md_failed'] = len(self.ctx.md) - len(done)
        if not done:
            return self.exit_codes.ERROR_ALL_MD_FAILED
        md, screening = self.ctx.parameters['md'], self.ctx.parameters['screening']
        elements = sorted(set().union(*(set(s.get_symbols_set()) for s in self.inputs.structures.values())))
        self.ctx.static_queue, self.ctx.static_running, snapshots, kept = [], [], 0, 0
        per_job = int(self.ctx.parameters['static'].get('structures_per_job', 1))
        for condition in done:
            parameters = {
                'stride': snapshot_stride(md),
                'offsets': condition['offsets'],
                'threshold': float(screening['threshold']),
                'cutoff': float(screening.get('cutoff', 7.0)),
                'elements': elements,
                'max_selected': screening.get('max_selected'),
            }
            segments = {f'segment_{index:03d}': orm.load_node(uuid) for index, uuid in enumerate(condition['segments'])}
            result = screen_snapshots(orm.Dict(parameters), **segments)
            snapshots += result['screening']['snapshots']
            kept += result['screening']['kept']
            if self.ctx.engine in LABELS_FROM_MD:
                labels = frame_labels(result['structures'], **segments)
                self.ctx.label_sets.append([len(self.ctx.label_sets), labels.uuid])
                continue
            batches = split_structures(result['structures'], orm.Int(per_job), orm.Bool(self.ctx.engine == 'vasp'))
            self.ctx.static_queue.extend(
                {'batch': batches[name].uuid, 'cell_size': condition['cell_size'], 'index': len(self.ctx.static_queue)}
                for name in sorted(batches)
            )
        self.ctx.counts.update({'snapshots': snapshots, 'kept_after_screening': kept, 'static_jobs': 0})
        self.report(f'{snapshots} snapshots, {kept} kept after screening, {len(self.ctx.static_queue)} static jobs')
        return None

    # ---- static labels ----

    def static_to_run(self) -> bool:
        return bool(self.ctx.static_queue or self.ctx.static_running)

    def run_static(self):
        """Fill the free places of the window from the queue, then wait for the oldest static job in flight."""
        free = max(0, self.cap() - len(self.ctx.static_running))
        batch, self.ctx.static_queue = self.ctx.static_queue[:free], self.ctx.static_queue[free:]
        for item in batch:
            structures = orm.load_node(item['batch'])
            metadata = {'call_link_label': 'static'}
            if self.ctx.engine == 'tblite':
                parameters = {'task': 'single_point', 'calculator': self.ctx.parameters['tblite']['calculator']}
                node = self.submit(
                    TbliteCalculation,
                    structures=structures,
                    parameters=orm.Dict(parameters),
                    code=self.inputs.code,
                    metadata={**metadata, 'options': dict(self.ctx.options)},
                )
            else:
                inputs = vasp_engine.static_inputs(
                    self.inputs.code, structures, self.ctx.parameters['vasp'], item['cell_size'], self.ctx.options
                )
                node = self.submit(WorkflowFactory('vasp.vasp'), **inputs, metadata=metadata)
            self.ctx.counts['static_jobs'] += 1
            self.ctx.static_running.append({'job': node.uuid, 'batch': item['batch'], 'index': item['index']})
        self.to_context(oldest=orm.load_node(self.ctx.static_running[0]['job']))

    def inspect_static(self):
        """Take in every static job that has ended (the oldest one at least); the others stay in flight."""
        running = []
        for item in self.ctx.static_running:
            node = orm.load_node(item['job'])
            if not node.is_terminated:
                running.append(item)
                continue
            if self.ctx.engine == 'tblite':
                if 'labels' in node.outputs:
                    self.ctx.label_sets.append([item['index'], node.outputs.labels.uuid])
                unconverged = node.outputs.misc['unconverged'] if 'misc' in node.outputs else None
                if unconverged is None and not node.is_finished_ok:
                    unconverged = list(range(len(orm.load_node(item['batch']).get_array('natoms'))))
                for index in unconverged or []:
                    self.exclude(f'structure {index} of structure set <{orm.load_node(item["batch"]).pk}>', node)
            elif node.is_finished_ok:
                self.ctx.vasp_points.append([item['index'], item['batch'], node.outputs.misc.uuid])
            else:
                self.exclude(f'structure <{orm.load_node(item["batch"]).pk}>', node)
        self.ctx.static_running = running

    def exclude(self, what: str, node) -> None:
        message = f'{what}: not converged or failed in {node.process_label}<{node.pk}> (exit {node.exit_status})'
        self.ctx.excluded.append(message)
        self.report(f'excluded from the training set: {message}')

    def results(self):
        self.ctx.counts['excluded'] = len(self.ctx.excluded)
        self.ctx.counts['excluded_points'] = sorted(self.ctx.excluded)
        self.ctx.counts['failed_conditions'] = sorted(
            f'{c["label"]}: {c.get("reason")}' for c in self.ctx.md if c['state'] == 'failed'
        )
        if self.ctx.vasp_points:
            points = {}
            for index, structure, misc in self.ctx.vasp_points:
                points[f'structure_{index:06d}'] = orm.load_node(structure)
                points[f'misc_{index:06d}'] = orm.load_node(misc)
            self.ctx.label_sets.append([0, vasp_labels(**points).uuid])
        if not self.ctx.label_sets:
            self.out('report', summarize(orm.Dict(self.ctx.counts)))
            return self.exit_codes.ERROR_NO_LABELS
        # named by the static job's place in the queue: the same training set whatever order the jobs ended in
        sets = {f'set_{index:06d}': orm.load_node(uuid) for index, uuid in self.ctx.label_sets}
        training_set = merge_training_sets(**sets)
        self.ctx.counts['labelled'] = training_set.num_structures
        self.out('training_set', training_set)
        self.out('report', summarize(orm.Dict(self.ctx.counts)))
        self.report(
            f'{training_set.num_structures} labelled structures; {len(self.ctx.excluded)} excluded; '
            f'{self.ctx.counts["md_failed"]} failed AIMD conditions'
        )
        return None


def _last_calcjob(workchain: orm.WorkflowNode) -> orm.CalcJobNode | None:
    calcs = [node for node in workchain.called if isinstance(node, orm.CalcJobNode)]
    return max(calcs, key=lambda node: node.ctime) if calcs else None
