"""The whole study in one work chain: reference data -> potential -> glass -> anneal -> analysis -> dynamics."""

from __future__ import annotations

import difflib
from collections.abc import Mapping

from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction, if_

from ..data import NNPotentialData, TrainingSetData
from ..engines.lammps_scripts import snapshot_time_fs
from ..protocols.mixin import ProtocolMixin
from ..protocols.schemas.glassceramic import Analysis, GlassCeramicProtocol
from ..protocols.schemas.md import STAGES as MD_SECTIONS
from ..protocols.validation import validate, validate_field
from .analysis_functions import (
    compute_domains,
    compute_entropy_fingerprint,
    compute_li_order,
    compute_pair_distribution,
    compute_speciation,
    compute_xrd,
)
from .anneal import AnnealWorkChain
from .diffusion import DiffusionWorkChain
from .input_checks import InputValidationError, resolve_code, structure_problem
from .melt_quench import MeltQuenchWorkChain
from .reference_data import ENGINE_PLUGINS, ReferenceDataWorkChain
from .relax import RelaxWorkChain
from .structure_functions import build_supercell
from .train import TrainPotentialWorkChain
from .vdos import VdosWorkChain

MD_STAGES = {
    'melt_quench': MeltQuenchWorkChain,
    'anneal': AnnealWorkChain,
    'relax': RelaxWorkChain,
    'diffusion': DiffusionWorkChain,
    'vdos': VdosWorkChain,
}
CODE_PLUGINS = {'train': ('glassceramic.train',), 'lammps': ('lammps.raw',)}  # and the reference engine's
MD_EXCLUDED = ('structure', 'structures', 'potential')  # made by the study
RELAX_AFTER_DYNAMICS_LABEL = 'last frames of diffusion'


class GlassCeramicWorkChain(ProtocolMixin, WorkChain):
    """Crystal -> reference data -> trained potential -> melt-quenched glass -> NPT anneal in chunks -> relaxed
    snapshots -> g(r), XRD crystallinity, entropy fingerprint, crystalline domains and anion units of each -> Li
    diffusion (D, Arrhenius barrier, conductivity with their uncertainties, displacement maps, Li displacement near
    ordered vs disordered P) and VDOS of the crystal, the glass and the chosen snapshots -> XRD crystallinity of the
    last frame of each diffusion run, as it ran and relaxed as the snapshots are (thermal motion removed).

    Each stage runs with the inputs its own ``get_builder_from_protocol`` makes, exposed in a namespace of the same
    name. Each stage can start from an existing node: give ``training_set`` to skip the reference data,
    ``potential`` to skip the training as well, ``glass`` to skip the melt-quench.
    """

    _protocol_file = 'glassceramic.yaml'
    _protocol_model = GlassCeramicProtocol

    @classmethod
    def define(cls, spec):
        super().define(spec)
        spec.input('crystal', valid_type=orm.StructureData, help='Crystal unit cell (e.g. the bundled beta model).')
        spec.expose_inputs(
            ReferenceDataWorkChain,
            namespace='reference',
            namespace_options={'required': False, 'populate_defaults': False, 'help': 'Reference data stage.'},
        )
        spec.input('training_set', valid_type=TrainingSetData, required=False, help='Skip the reference data.')
        spec.expose_inputs(
            TrainPotentialWorkChain,
            namespace='train',
            exclude=('train.training_sets',),
            namespace_options={'required': False, 'populate_defaults': False, 'help': 'Training stage.'},
        )
        spec.input('potential', valid_type=NNPotentialData, required=False, help='Skip reference data and training.')
        spec.input('glass', valid_type=orm.StructureData, required=False, help='Skip the melt-quench.')
        for name, process in MD_STAGES.items():
            required = name != 'melt_quench'
            spec.expose_inputs(
                process,
                namespace=name,
                exclude=MD_EXCLUDED,
                namespace_options={'required': required, 'populate_defaults': required, 'help': f'The {name} stage.'},
            )
        spec.input('supercell', valid_type=orm.List, help='Repeats of the crystal for the MD cell, e.g. [6, 6, 5].')
        spec.input('analysis', valid_type=orm.Dict, help='Settings of the structure analyses.')
        spec.input(
            'dynamics_snapshots',
            valid_type=orm.Str,
            default=lambda: orm.Str('last'),
            help="Snapshots that get diffusion and VDOS runs besides crystal and glass: 'all' or 'last'.",
        )
        spec.inputs.validator = cls.validate_inputs
        spec.outline(
            cls.setup,
            if_(cls.needs_reference)(cls.run_reference, cls.inspect_reference),
            if_(cls.needs_training)(cls.run_training, cls.inspect_training),
            cls.build_md_cell,
            if_(cls.needs_glass)(cls.run_melt_quench, cls.inspect_melt_quench),
            cls.run_anneal,
            cls.inspect_anneal,
            cls.run_relax,
            cls.inspect_relax,
            cls.analyse_structures,
            cls.run_dynamics,
            cls.inspect_dynamics,
            cls.run_relax_after_dynamics,
            cls.inspect_relax_after_dynamics,
            cls.results,
        )
        spec.output('training_set', valid_type=TrainingSetData, required=False, help='Labelled reference data.')
        spec.output('potential', valid_type=NNPotentialData, help='The potential every MD run used.')
        spec.output('crystal_supercell', valid_type=orm.StructureData, help='The MD cell of the crystal.')
        spec.output('glass', valid_type=orm.StructureData, help='The melt-quenched glass.')
        spec.output('melt_quench_thermo', valid_type=orm.ArrayData, required=False)
        spec.output('anneal_thermo', valid_type=orm.ArrayData, help='Thermo series of the whole anneal.')
        spec.output_namespace('snapshots', valid_type=orm.StructureData, dynamic=True, help='Relaxed snapshots.')
        for name in ('pair_distribution', 'xrd_pattern', 'fingerprint', 'vdos'):
            spec.output_namespace(name, valid_type=orm.ArrayData, dynamic=True, help='Per analysed structure.')
        for name in ('msd', 'displacement_map'):
            spec.output_namespace(name, valid_type=orm.ArrayData, dynamic=True, help='Per structure and temperature.')
        for name in ('crystallinity', 'speciation', 'domains', 'diffusion', 'band_centres'):
            spec.output_namespace(name, valid_type=orm.Dict, dynamic=True, help='Per analysed structure.')
        spec.output_namespace(
            'li_order', valid_type=orm.Dict, dynamic=True, help='Li displacement near ordered vs disordered P per run.'
        )
        spec.output_namespace(
            'crystallinity_after',
            valid_type=orm.Dict,
            dynamic=True,
            help='XRD crystallinity of the last frame of each diffusion run, relaxed as the snapshots are.',
        )
        spec.output_namespace(
            'crystallinity_last_frame',
            valid_type=orm.Dict,
            dynamic=True,
            help='XRD crystallinity of the last frame of each diffusion run as it ran (thermal motion included).',
        )
        spec.output('summary', valid_type=orm.Dict, help='The headline numbers of every stage, with units.')
        spec.exit_code(401, 'ERROR_REFERENCE_DATA', message='the reference data stage failed')
        spec.exit_code(402, 'ERROR_TRAINING', message='the training stage failed')
        spec.exit_code(403, 'ERROR_MELT_QUENCH', message='the melt-quench failed')
        spec.exit_code(404, 'ERROR_ANNEAL', message='the anneal failed')
        spec.exit_code(405, 'ERROR_RELAX', message='the relaxation of the snapshots failed')
        spec.exit_code(406, 'ERROR_DYNAMICS', message='a diffusion or VDOS run failed')
        spec.exit_code(407, 'ERROR_RELAX_AFTER_DYNAMICS', message='relaxing the last frames of the dynamics failed')

    @classmethod
    def validate_inputs(cls, inputs, _=None) -> str | None:
        """The whole study, before anything runs: see :func:`check_study`."""
        try:
            check_study(inputs)
        except InputValidationError as error:
            return str(error)
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        codes: Mapping[str, orm.AbstractCode | str | int],
        structure: orm.StructureData,
        protocol: str | None = None,
        overrides: Mapping | None = None,
        *,
        training_set: TrainingSetData | None = None,
        potential: NNPotentialData | None = None,
        glass: orm.StructureData | None = None,
        reference_structures: Mapping[str, orm.StructureData] | None = None,
        options: Mapping[str, Mapping] | None = None,
    ):
        """A builder for the whole study on the crystal ``structure``; every input is checked before it returns.

        :param codes: ``reference`` (glassceramic-tblite, glassceramic-chgnet, glassceramic-sevennet or VASP), ``train``
            (glassceramic-train) and ``lammps`` (glassceramic-lmp), as code nodes, labels or PKs; only those of the
            stages that run are needed.
        :param protocol: ``paper``, ``fast`` or ``demo``; each stage takes the protocol named in glassceramic.yaml.
        :param overrides: merged over the settings of glassceramic.yaml; its keys ``reference_data``, ``train`` and
            ``md`` are the overrides of those stages' own protocols (e.g. ``{'md': {'anneal': {'temperature': 700}}}``).
        :param reference_structures: crystals of the reference data by name (default: the reference protocol's).
        :param options: metadata options by stage (``reference``, ``train``, ``lammps``), merged over the protocols'.
        :raises InputValidationError: naming the input and the fix; nothing is stored.
        """
        overrides = dict(overrides or {})
        for key in set(overrides) - set(GlassCeramicProtocol.model_fields):
            if section := difflib.get_close_matches(key, MD_SECTIONS, n=1, cutoff=0.7):
                message = f'`{key}`: unknown key; the MD settings go under `md`, e.g. `md.{section[0]}`'
                raise InputValidationError(message)
        settings = cls.get_protocol_inputs(protocol, overrides)
        stages, options = settings['stages'], dict(options or {})
        unknown = sorted(set(options) - {'reference', 'train', 'lammps'})
        if unknown:
            raise InputValidationError(
                f'`options.{unknown[0]}`: unknown stage; give options of reference, train, lammps'
            )
        needed = ['lammps'] + (['train'] if potential is None else [])
        needed += ['reference'] if potential is None and training_set is None else []
        for key in needed:
            if key not in codes:
                raise InputValidationError(f'`codes`: give the `{key}` code, or the node its stage would make')
        plugins = {**CODE_PLUGINS, 'reference': ENGINE_PLUGINS[settings['reference_engine']]}
        codes = {key: resolve_code(codes[key], f'codes.{key}', plugins[key]) for key in needed}
        builder = cls.get_builder()
        builder.crystal = structure
        builder.supercell = orm.List(settings['supercell'])
        builder.analysis = orm.Dict(settings['analysis'])
        builder.dynamics_snapshots = orm.Str(settings['dynamics_snapshots'])
        for name, node in (('training_set', training_set), ('potential', potential), ('glass', glass)):
            if node is not None:
                builder[name] = node
        for name, process in MD_STAGES.items():
            if name == 'melt_quench' and glass is not None:
                continue
            stage = _stage_inputs(
                'md',
                process.get_builder_from_protocol,
                codes['lammps'],
                structure,
                protocol=stages['md'],
                overrides=settings.get('md'),
                options=options.get('lammps'),
            )
            builder[name] = {key: value for key, value in stage.items() if key not in MD_EXCLUDED}
        if potential is None and training_set is None:
            builder.reference = _stage_inputs(
                'reference_data',
                ReferenceDataWorkChain.get_builder_from_protocol,
                codes['reference'],
                reference_structures,
                protocol=stages['reference_data'],
                overrides=settings.get('reference_data'),
                engine=settings['reference_engine'],
                options=options.get('reference'),
            )
        if potential is None:
            builder.train = _stage_inputs(
                'train',
                TrainPotentialWorkChain.get_builder_from_protocol,
                codes['train'],
                None,
                protocol=stages['train'],
                overrides=settings.get('train'),
                options=options.get('train'),
            )
        check_study(builder._inputs(prune=True))
        return builder

    # -- stages ------------------------------------------------------------------------------------------------

    def setup(self):
        self.ctx.training_set = self.inputs.get('training_set')
        self.ctx.potential = self.inputs.get('potential')
        self.ctx.glass = self.inputs.get('glass')

    def needs_reference(self) -> bool:
        return self.ctx.potential is None and self.ctx.training_set is None

    def run_reference(self):
        inputs = self.exposed_inputs(ReferenceDataWorkChain, 'reference')
        return ToContext(reference=self.submit(ReferenceDataWorkChain, **inputs))

    def inspect_reference(self):
        if not self.ctx.reference.is_finished_ok:
            return self.exit_codes.ERROR_REFERENCE_DATA
        self.ctx.training_set = self.ctx.reference.outputs.training_set
        self.out('training_set', self.ctx.training_set)
        return None

    def needs_training(self) -> bool:
        return self.ctx.potential is None

    def run_training(self):
        inputs = self.exposed_inputs(TrainPotentialWorkChain, 'train')
        inputs['train']['training_sets'] = {'reference': self.ctx.training_set}
        return ToContext(training=self.submit(TrainPotentialWorkChain, **inputs))

    def inspect_training(self):
        if not self.ctx.training.is_finished_ok:
            return self.exit_codes.ERROR_TRAINING
        self.ctx.potential = self.ctx.training.outputs.potential
        return None

    def build_md_cell(self):
        self.ctx.crystal_supercell = build_supercell(self.inputs.crystal, self.inputs.supercell)
        self.out('potential', self.ctx.potential)
        self.out('crystal_supercell', self.ctx.crystal_supercell)

    def needs_glass(self) -> bool:
        return self.ctx.glass is None

    def run_melt_quench(self):
        inputs = self._md_builder(MeltQuenchWorkChain, 'melt_quench', structure=self.ctx.crystal_supercell)
        return ToContext(melt_quench=self.submit(MeltQuenchWorkChain, **inputs))

    def inspect_melt_quench(self):
        if not self.ctx.melt_quench.is_finished_ok:
            return self.exit_codes.ERROR_MELT_QUENCH
        self.ctx.glass = self.ctx.melt_quench.outputs.structure
        self.out('melt_quench_thermo', self.ctx.melt_quench.outputs.thermo)
        return None

    def run_anneal(self):
        self.out('glass', self.ctx.glass)
        inputs = self._md_builder(AnnealWorkChain, 'anneal', structure=self.ctx.glass)
        return ToContext(anneal=self.submit(AnnealWorkChain, **inputs))

    def inspect_anneal(self):
        if not self.ctx.anneal.is_finished_ok:
            return self.exit_codes.ERROR_ANNEAL
        self.out('anneal_thermo', self.ctx.anneal.outputs.thermo)
        return None

    def run_relax(self):
        snapshots = dict(self.ctx.anneal.outputs.snapshots)
        inputs = self._md_builder(RelaxWorkChain, 'relax', structures=snapshots)
        return ToContext(relax=self.submit(RelaxWorkChain, **inputs))

    def inspect_relax(self):
        if not self.ctx.relax.is_finished_ok:
            return self.exit_codes.ERROR_RELAX
        relaxed = self.ctx.relax.outputs.structures.items()
        self.ctx.snapshots = dict(sorted(relaxed, key=lambda item: snapshot_time_fs(item[0])))
        for key, structure in self.ctx.snapshots.items():
            self.out(f'snapshots.{key}', structure)
        return None

    def analyse_structures(self):
        """g(r), XRD crystallinity, entropy fingerprint, crystalline domains and anion units of crystal, glass and
        every snapshot."""
        settings = self.inputs.analysis.get_dict()
        structures = {'crystal': self.ctx.crystal_supercell, 'glass': self.ctx.glass, **self.ctx.snapshots}
        self.ctx.fingerprints = {}
        for key, structure in structures.items():
            pair_distribution = compute_pair_distribution(structure, orm.Dict(settings['pair_distribution']))
            self.out(f'pair_distribution.{key}', pair_distribution)
            xrd = compute_xrd(structure, orm.Dict(settings['xrd']))
            self.out(f'xrd_pattern.{key}', xrd['pattern'])
            self.out(f'crystallinity.{key}', xrd['crystallinity'])
            fingerprint = compute_entropy_fingerprint(structure, orm.Dict(settings['fingerprint']))
            self.out(f'fingerprint.{key}', fingerprint['fingerprint'])
            self.ctx.fingerprints[key] = fingerprint['fingerprint']
            self.out(f'speciation.{key}', compute_speciation(structure, orm.Dict(settings['speciation'])))
        references = {
            'crystal_fingerprint': self.ctx.fingerprints['crystal'],
            'glass_fingerprint': self.ctx.fingerprints['glass'],
        }
        for key, structure in structures.items():
            domains = compute_domains(
                structure, self.ctx.fingerprints[key], orm.Dict(settings.get('domains', {})), **references
            )
            self.out(f'domains.{key}', domains)

    def run_dynamics(self):
        chosen = self.ctx.snapshots if self.inputs.dynamics_snapshots.value == 'all' else _last(self.ctx.snapshots)
        structures = {'crystal': self.ctx.crystal_supercell, 'glass': self.ctx.glass, **chosen}
        diffusion = self._md_builder(DiffusionWorkChain, 'diffusion', structures=structures)
        vdos = self._md_builder(VdosWorkChain, 'vdos', structures=structures)
        return ToContext(
            diffusion=self.submit(DiffusionWorkChain, **diffusion), vdos=self.submit(VdosWorkChain, **vdos)
        )

    def inspect_dynamics(self):
        if not (self.ctx.diffusion.is_finished_ok and self.ctx.vdos.is_finished_ok):
            return self.exit_codes.ERROR_DYNAMICS
        for key, node in self.ctx.diffusion.outputs.summary.items():
            self.out(f'diffusion.{key}', node)
        for name in ('msd', 'displacement_map'):
            for key, node in self.ctx.diffusion.outputs[name].items():
                self.out(f'{name}.{key}', node)
        for name in ('vdos', 'band_centres'):
            for key, node in self.ctx.vdos.outputs[name].items():
                self.out(f'{name}.{key}', node)
        xrd = orm.Dict(self.inputs.analysis['xrd'])
        for label, structure in self.ctx.diffusion.outputs.structure.items():
            self.out(f'crystallinity_last_frame.{label}', compute_xrd(structure, xrd)['crystallinity'])
        self.analyse_li_order()
        return None

    def run_relax_after_dynamics(self):
        last_frames = dict(self.ctx.diffusion.outputs.structure)
        inputs = self._md_builder(RelaxWorkChain, 'relax', structures=last_frames)
        inputs['metadata'] = {'label': RELAX_AFTER_DYNAMICS_LABEL}
        return ToContext(relax_after_dynamics=self.submit(RelaxWorkChain, **inputs))

    def inspect_relax_after_dynamics(self):
        if not self.ctx.relax_after_dynamics.is_finished_ok:
            return self.exit_codes.ERROR_RELAX_AFTER_DYNAMICS
        xrd = orm.Dict(self.inputs.analysis['xrd'])
        for label, structure in self.ctx.relax_after_dynamics.outputs.structures.items():
            self.out(f'crystallinity_after.{label}', compute_xrd(structure, xrd)['crystallinity'])
        return None

    def analyse_li_order(self):
        """Li displacement near ordered vs disordered P for every diffusion run, windows as the displacement map."""
        diffusion = self.inputs.diffusion.parameters
        parameters = orm.Dict(
            {
                'window_frames': round(diffusion['displacement_window_ps'] / diffusion['dump_interval_ps']),
                'species': diffusion['species'][0],
            }
        )
        structures = {'crystal': self.ctx.crystal_supercell, 'glass': self.ctx.glass, **self.ctx.snapshots}
        for label, trajectory in self.ctx.diffusion.outputs.trajectory.items():
            key = label.rsplit('_', 1)[0]
            fingerprint, domains = self.ctx.fingerprints[key], self.outputs['domains'][key]
            self.out(
                f'li_order.{label}', compute_li_order(trajectory, structures[key], fingerprint, domains, parameters)
            )

    def results(self):
        nodes, index = {}, {}
        for kind in (
            'crystallinity',
            'speciation',
            'domains',
            'diffusion',
            'band_centres',
            'pair_distribution',
            'li_order',
        ):
            for key, node in self.outputs[kind].items():
                name = f'node_{len(nodes)}'
                nodes[name], index[name] = node, [kind, key]
        if 'training' in self.ctx:
            nodes['metrics'] = self.ctx.training.outputs.metrics
        self.out('summary', summarise(index=orm.Dict(index), **nodes))

    def _md_builder(self, process, stage: str, **structures) -> dict:
        """The inputs of an MD stage: those given in its namespace, the potential and the structures."""
        return {**self.exposed_inputs(process, stage), 'potential': self.ctx.potential, **structures}


def _stage_inputs(namespace: str, get_builder, *args, **kwargs) -> dict:
    """The inputs a stage's own ``get_builder_from_protocol`` makes; its errors name the field inside ``namespace``."""
    try:
        return get_builder(*args, **kwargs)._inputs(prune=True)
    except InputValidationError as error:
        raise error.within(namespace) from None


def check_study(inputs: Mapping) -> None:
    """Raise :class:`InputValidationError` for a study that cannot work: structures that are not periodic or have
    overlapping atoms, elements that the reference crystals, the training set or the potential do not cover, a stage
    with neither its inputs nor the node it would make, and wrong settings of any stage or analysis."""
    structures = [(name, inputs[name]) for name in ('crystal', 'glass') if name in inputs]
    for name, structure in structures:
        if message := structure_problem(structure, name):
            raise InputValidationError(message)
    check_composition(inputs, structures)
    validate_field(GlassCeramicProtocol, 'supercell', inputs['supercell'].get_list())
    validate_field(GlassCeramicProtocol, 'dynamics_snapshots', inputs['dynamics_snapshots'].value)
    validate(Analysis, inputs['analysis'].get_dict(), 'analysis')
    if 'potential' not in inputs:
        if 'training_set' not in inputs and 'code' not in inputs.get('reference', {}):
            raise InputValidationError(
                '`reference`: give the reference stage inputs, or a `training_set`, or a `potential`'
            )
        if 'code' not in inputs.get('train', {}).get('train', {}):
            raise InputValidationError('`train`: give the training stage inputs, or a `potential`')
    for name, process in MD_STAGES.items():
        if 'parameters' in inputs.get(name, {}):
            try:
                process.check_parameters(inputs[name]['parameters'].get_dict())
            except InputValidationError as error:
                raise error.within(name) from None
        elif name != 'melt_quench' or 'glass' not in inputs:
            raise InputValidationError(
                f'`{name}`: give the inputs of the {name} stage (its `get_builder_from_protocol`)'
            )


def check_composition(inputs: Mapping, structures: list[tuple[str, orm.StructureData]]) -> None:
    """Every element of the MD structures is known to the potential, or to the data it will be trained on."""
    if 'potential' in inputs:
        source, elements = 'the potential', set(inputs['potential'].elements)
    elif 'training_set' in inputs:
        source, elements = 'the training set', set(inputs['training_set'].species)
    else:
        crystals = inputs.get('reference', {}).get('structures', {})
        source, elements = (
            'the reference crystals',
            {symbol for node in crystals.values() for symbol in node.get_symbols_set()},
        )
    for name, structure in structures:
        missing = sorted(set(structure.get_symbols_set()) - elements)
        if elements and missing:
            raise InputValidationError(
                f'`{name}` holds {missing}, which {source} (elements {sorted(elements)}) do not cover; '
                'give a structure of those elements, or reference data, a training set or a potential that cover it'
            )


def _last(snapshots: dict) -> dict:
    return dict(list(snapshots.items())[-1:])


@calcfunction
def summarise(index: orm.Dict, **nodes: orm.Data) -> orm.Dict:
    """The headline numbers: potential RMSE, crystallinity, anion units, crystalline domains, long-range order of
    g(r), D, Ea, sigma, Li displacement near ordered vs disordered P (per run temperature) and VDOS band centres per
    structure; ``index`` maps each node's name to its [kind, structure or run]."""
    summary: dict = {'structures': {}}
    if 'metrics' in nodes:
        summary['potential'] = nodes['metrics'].get_dict()
    for name, (kind, key) in index.get_dict().items():
        if kind == 'li_order':
            structure, temperature = key.rsplit('_', 1)
            runs = summary['structures'].setdefault(structure, {}).setdefault('li_order', {})
            runs[temperature] = nodes[name].get_dict()
            continue
        node, entry = nodes[name], summary['structures'].setdefault(key, {})
        if kind == 'pair_distribution':
            entry['g_r_max_deviation_beyond_5A'] = _order_beyond(node, 5.0)
        elif kind == 'crystallinity':
            entry['crystallinity'] = node['crystallinity']
        else:
            entry[kind] = node.get_dict()
    return orm.Dict(summary)


def _order_beyond(pair_distribution: orm.ArrayData, radius: float) -> float:
    """Largest |g(r) - 1| of the total g(r) beyond ``radius``: small for a glass, large for a crystal."""
    import numpy as np

    r, g = pair_distribution.get_array('r_A'), pair_distribution.get_array('g_total')
    beyond = r > radius
    return float(np.abs(g[beyond] - 1.0).max()) if beyond.any() else float('nan')
