"""The whole study in one work chain: reference data -> potential -> glass -> anneal -> analysis -> dynamics."""

from __future__ import annotations

from collections.abc import Mapping

from aiida import orm
from aiida.engine import ToContext, WorkChain, calcfunction, if_

from ..data import NNPotentialData, TrainingSetData
from ..protocols import load_protocol, recursive_merge
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
from .input_checks import InputValidationError, overlapping_atoms, resolve_code
from .lammps_base import section
from .melt_quench import MeltQuenchWorkChain
from .reference_data import ENGINE_PLUGINS, ReferenceDataWorkChain
from .relax import RelaxWorkChain
from .structure_functions import build_supercell
from .train import TrainPotentialWorkChain
from .vdos import VdosWorkChain

PROTOCOL_FILE = 'glassceramic.yaml'
CODE_PLUGINS = {
    'reference': tuple(plugin for plugins in ENGINE_PLUGINS.values() for plugin in plugins),
    'train': ('glassceramic.train',),
    'lammps': ('lammps.raw',),
}
MD_STAGES = ('melt_quench', 'anneal', 'relax', 'diffusion', 'vdos')


class GlassCeramicWorkChain(WorkChain):
    """Crystal -> reference data -> trained potential -> melt-quenched glass -> NPT anneal in chunks -> relaxed
    snapshots -> g(r), XRD crystallinity, entropy fingerprint, crystalline domains and anion units of each -> Li
    diffusion (D, Arrhenius barrier, conductivity with their uncertainties, displacement maps, Li displacement near
    ordered vs disordered P) and VDOS of the crystal, the glass and the chosen snapshots.

    Each stage can start from an existing node: give ``training_set`` to skip the reference data, ``potential`` to
    skip the training as well, ``glass`` to skip the melt-quench.
    """

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
        spec.input('lammps_code', valid_type=orm.AbstractCode, help='The `glassceramic-lmp` LAMMPS driver.')
        spec.input('md', valid_type=orm.Dict, help='MD settings: a protocol of md.yaml, every stage.')
        spec.input('md_options', valid_type=orm.Dict, help='Metadata options of the LAMMPS calculations.')
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
            'crystallinity_after', valid_type=orm.Dict, dynamic=True, help='XRD crystallinity after each diffusion run.'
        )
        spec.output('summary', valid_type=orm.Dict, help='The headline numbers of every stage, with units.')
        spec.exit_code(401, 'ERROR_REFERENCE_DATA', message='the reference data stage failed')
        spec.exit_code(402, 'ERROR_TRAINING', message='the training stage failed')
        spec.exit_code(403, 'ERROR_MELT_QUENCH', message='the melt-quench failed')
        spec.exit_code(404, 'ERROR_ANNEAL', message='the anneal failed')
        spec.exit_code(405, 'ERROR_RELAX', message='the relaxation of the snapshots failed')
        spec.exit_code(406, 'ERROR_DYNAMICS', message='a diffusion or VDOS run failed')

    @classmethod
    def validate_inputs(cls, inputs, _=None) -> str | None:
        """Every stage needs either its inputs or the node it would produce; no structure has overlapping atoms."""
        for name in ('crystal', 'glass'):
            if name in inputs and (message := overlapping_atoms(inputs[name], name)):
                return message
        if 'potential' not in inputs:
            if 'training_set' not in inputs and 'code' not in inputs.get('reference', {}):
                return '`reference`: give the reference stage inputs, or a `training_set`, or a `potential`'
            if 'code' not in inputs.get('train', {}).get('train', {}):
                return '`train`: give the training stage inputs, or a `potential`'
        if 'md' in inputs:
            missing = [name for name in MD_STAGES if name not in inputs['md'].get_dict()]
            if missing:
                return f'`md`: missing the settings of {missing}; use a protocol of md.yaml'
        if 'dynamics_snapshots' in inputs and inputs['dynamics_snapshots'].value not in ('all', 'last'):
            return "`dynamics_snapshots`: must be 'all' or 'last'"
        return None

    @classmethod
    def get_builder_from_protocol(
        cls,
        codes: Mapping[str, orm.AbstractCode | str | int],
        crystal: orm.StructureData,
        *,
        protocol: str | None = None,
        overrides: Mapping | None = None,
        training_set: TrainingSetData | None = None,
        potential: NNPotentialData | None = None,
        glass: orm.StructureData | None = None,
        reference_structures: Mapping[str, orm.StructureData] | None = None,
        reference_engine: Mapping | None = None,
        options: Mapping | None = None,
    ):
        """A builder for the whole study.

        :param codes: ``reference`` (glassceramic-tblite or VASP), ``train`` (glassceramic-train) and ``lammps``
            (glassceramic-lmp), as code nodes, labels or PKs; only those of the stages that run are needed.
        :param protocol: ``paper``, ``fast`` or ``demo``; each stage takes the protocol named in glassceramic.yaml.
        :param overrides: merged over the settings: top-level keys of glassceramic.yaml, plus ``reference_data``,
            ``train`` and ``md`` for the stage protocols (as their own ``overrides``).
        :param reference_structures: crystals of the reference data by name (default: the reference protocol's,
            the bundled Li3PS4 polymorphs).
        :param reference_engine: keyword arguments of ``ReferenceDataWorkChain.get_builder_from_protocol`` such as
            ``engine`` (default: the protocol's, ``vasp`` for paper and fast, ``tblite`` for demo),
            ``potential_family``, ``max_concurrent`` and ``options``.
        :param options: metadata options of the LAMMPS calculations, merged over the protocol's.
        """
        overrides = dict(overrides or {})
        stage_overrides = {name: overrides.pop(name, {}) for name in ('reference_data', 'train', 'md')}
        settings = load_protocol(PROTOCOL_FILE, protocol, overrides)
        stages = settings['stages']
        if 'lammps' not in codes:
            raise InputValidationError('`codes`: give the `lammps` code (glassceramic-lmp)')
        codes = {key: resolve_code(code, f'codes.{key}', CODE_PLUGINS.get(key, ())) for key, code in codes.items()}
        for name, structure in (('crystal', crystal), ('glass', glass)):
            if structure is not None and (message := overlapping_atoms(structure, name)):
                raise InputValidationError(message)
        builder = cls.get_builder()
        builder.crystal = crystal
        builder.lammps_code = codes['lammps']
        md = load_protocol('md.yaml', stages['md'], stage_overrides['md'])
        builder.md = orm.Dict({name: section(md, name) for name in MD_STAGES})
        builder.md_options = orm.Dict(recursive_merge(md.get('common', {}).get('options', {}), options or {}))
        builder.supercell = orm.List(settings['supercell'])
        builder.analysis = orm.Dict(settings['analysis'])
        builder.dynamics_snapshots = orm.Str(settings['dynamics_snapshots'])
        for name, node in (('training_set', training_set), ('potential', potential), ('glass', glass)):
            if node is not None:
                builder[name] = node
        if potential is None and training_set is None:
            if 'reference' not in codes:
                raise InputValidationError('`codes`: give the `reference` code, or a training set or a potential')
            reference = ReferenceDataWorkChain.get_builder_from_protocol(
                codes['reference'],
                structures=reference_structures,
                protocol=stages['reference_data'],
                overrides=stage_overrides['reference_data'],
                **{'engine': settings['reference_engine'], **(reference_engine or {})},
            )
            builder.reference = reference._inputs(prune=True)
        if potential is None:
            if 'train' not in codes:
                raise InputValidationError('`codes`: give the `train` code, or a potential')
            train = load_protocol('train.yaml', stages['train'], stage_overrides['train'])
            builder.train = {
                'max_iterations': orm.Int(train['max_iterations']),
                'clean_workdir': orm.Bool(train['clean_workdir']),
                'train': {
                    'code': codes['train'],
                    'parameters': orm.Dict(train['train']['parameters']),
                    'metadata': train['train']['metadata'],
                },
            }
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
        builder = self._md_builder(MeltQuenchWorkChain, 'melt_quench', structure=self.ctx.crystal_supercell)
        return ToContext(melt_quench=self.submit(builder))

    def inspect_melt_quench(self):
        if not self.ctx.melt_quench.is_finished_ok:
            return self.exit_codes.ERROR_MELT_QUENCH
        self.ctx.glass = self.ctx.melt_quench.outputs.structure
        self.out('melt_quench_thermo', self.ctx.melt_quench.outputs.thermo)
        return None

    def run_anneal(self):
        self.out('glass', self.ctx.glass)
        return ToContext(anneal=self.submit(self._md_builder(AnnealWorkChain, 'anneal', structure=self.ctx.glass)))

    def inspect_anneal(self):
        if not self.ctx.anneal.is_finished_ok:
            return self.exit_codes.ERROR_ANNEAL
        self.out('anneal_thermo', self.ctx.anneal.outputs.thermo)
        return None

    def run_relax(self):
        snapshots = dict(self.ctx.anneal.outputs.snapshots)
        return ToContext(relax=self.submit(self._md_builder(RelaxWorkChain, 'relax', structures=snapshots)))

    def inspect_relax(self):
        if not self.ctx.relax.is_finished_ok:
            return self.exit_codes.ERROR_RELAX
        self.ctx.snapshots = dict(sorted(self.ctx.relax.outputs.structures.items(), key=lambda item: _step(item[0])))
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
        return ToContext(diffusion=self.submit(diffusion), vdos=self.submit(vdos))

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
            self.out(f'crystallinity_after.{label}', compute_xrd(structure, xrd)['crystallinity'])
        self.analyse_li_order()
        return None

    def analyse_li_order(self):
        """Li displacement near ordered vs disordered P for every diffusion run, windows as the displacement map."""
        diffusion = self.inputs.md['diffusion']
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

    def _md_builder(self, process, stage: str, **structures):
        builder = process.get_builder()
        builder.code = self.inputs.lammps_code
        builder.potential = self.ctx.potential
        builder.parameters = orm.Dict(self.inputs.md[stage])
        builder.options = self.inputs.md_options
        for name, value in structures.items():
            builder[name] = value
        return builder


def _step(key: str) -> int:
    digits = ''.join(character for character in key if character.isdigit())
    return int(digits) if digits else 0


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
