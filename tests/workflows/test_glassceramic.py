"""The whole study at a tiny scale, submitted to the daemon: tblite labels -> training -> LAMMPS through the
potential -> analysis. Every number checked here comes out of those real runs."""

from __future__ import annotations

import math
import re

import pytest
from aiida import orm
from aiida.engine import run_get_node
from aiida.manage.caching import enable_caching

from aiida_glassceramic.calculations.tblite import TbliteCalculation
from aiida_glassceramic.cli import stage_timings
from aiida_glassceramic.data import TrainingSetData
from aiida_glassceramic.potentials.calculator import NNPCalculator
from aiida_glassceramic.provenance import potential_behind, results_table, training_origin
from aiida_glassceramic.report import write_report
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.glassceramic import MD_STAGES, RELAX_AFTER_DYNAMICS_LABEL, GlassCeramicWorkChain
from aiida_glassceramic.workflows.lammps_base import InputValidationError
from aiida_glassceramic.workflows.reference_data import ReferenceDataWorkChain
from aiida_glassceramic.workflows.relax import RelaxWorkChain
from aiida_glassceramic.workflows.train import TrainPotentialWorkChain
from tests.calculations.lj_training_set import lj_training_set

TINY = {
    'stages': {'reference_data': 'demo', 'train': 'demo', 'md': 'demo'},  # the stages' seconds-scale settings
    'reference_engine': 'tblite',
    'supercell': [1, 2, 2],
    'reference_data': {
        'conditions': {'defects': ['pristine'], 'temperatures': [800, 1600]},
        'md': {'steps': 16, 'snapshot_fraction': 0.5},
    },
    'train': {'train': {'parameters': {'epochs': 40}}},
    'md': {
        'melt_quench': {
            'heating_rate_k_per_ps': 6000.0,
            'melt_hold_ps': 0.4,
            'cooling_rate_k_per_ps': 6000.0,
            'final_hold_ps': 0.05,
        },
        'anneal': {'total_ps': 0.1, 'chunk_ps': 0.05, 'snapshot_interval_ps': 0.05, 'snapshot_start_ps': 0.05},
        'diffusion': {
            'temperatures': [600.0, 900.0],
            'time_ps': 0.2,
            'equilibration_ps': 0.02,
            'dump_interval_ps': 0.01,
            'fit_start_ps': 0.05,
            'fit_stop_ps': 0.2,
            'displacement_window_ps': 0.05,
        },
        'vdos': {'time_ps': 0.1, 'equilibration_ps': 0.02, 'dump_interval_fs': 5.0, 'segment_frames': 8},
    },
}

TBLITE_STUDY = {'reference_engine': 'tblite', 'stages': {'reference_data': 'demo', 'train': 'demo', 'md': 'demo'}}


@pytest.fixture
def codes(tblite_code, train_code, nnp_code):
    return {'reference': tblite_code, 'train': train_code, 'lammps': nnp_code}


def assert_crystallinity_after_diffusion_is_of_relaxed_last_frames(node: orm.WorkflowNode) -> None:
    """Each diffusion run's last frame is relaxed before its crystallinity is taken: the relaxed frame holds the
    same atoms at a lower energy of the potential (its ASE calculator, not LAMMPS)."""
    calculator = NNPCalculator(node.outputs.potential.load())
    last_frames = node.outputs.crystallinity_last_frame
    assert set(node.outputs.crystallinity_after) == set(last_frames) == set(node.outputs.msd)
    (diffusion,) = [child for child in node.called if child.process_class is DiffusionWorkChain]
    relaxations = [child for child in node.called if child.process_class is RelaxWorkChain]
    (relax,) = [child for child in relaxations if set(child.inputs.structures) == set(last_frames)]
    assert relax.label == RELAX_AFTER_DYNAMICS_LABEL
    for label, after in node.outputs.crystallinity_after.items():
        relaxed = after.creator.inputs.structure
        last_frame = last_frames[label].creator.inputs.structure
        assert last_frame.uuid == diffusion.outputs.structure[label].uuid
        assert relax.inputs.structures[label].uuid == last_frame.uuid
        assert relax.outputs.structures[label].uuid == relaxed.uuid
        before, after_atoms = last_frame.get_ase(), relaxed.get_ase()
        assert after_atoms.get_chemical_symbols() == before.get_chemical_symbols()
        energies = []
        for atoms in (before, after_atoms):
            atoms.calc = calculator
            energies.append(atoms.get_potential_energy())
        assert energies[1] < energies[0], f'{label}: relaxing lowers the energy'
        assert 0.0 <= after['crystallinity'] <= 1.0 and 0.0 <= last_frames[label]['crystallinity'] <= 1.0


@pytest.mark.slow
def test_tiny_study_through_the_daemon_then_from_the_cache(codes, submit_and_await, tmp_path):
    crystal = orm.StructureData(ase=read_crystal('beta'))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(codes, crystal, protocol='demo', overrides=TINY)
    node = submit_and_await(builder, timeout=1200)
    assert node.is_finished_ok, node.exit_message
    for stage, process in MD_STAGES.items():  # each stage ran with the inputs of its namespace, settings intact
        children = [child for child in node.called if child.process_class is process]
        assert len(children) == (2 if stage == 'relax' else 1), 'relax: the snapshots, then the diffusion runs\' ends'
        for child in children:
            assert child.inputs.parameters.get_dict() == node.inputs[stage].parameters.get_dict()
            assert child.inputs.options.get_dict() == node.inputs[stage].options.get_dict()
            assert child.inputs.max_iterations.value == node.inputs[stage].max_iterations.value
    (reference,) = [child for child in node.called if child.process_class is ReferenceDataWorkChain]
    assert reference.inputs.parameters.get_dict() == node.inputs.reference.parameters.get_dict()
    (training,) = [child for child in node.called if child.process_class is TrainPotentialWorkChain]
    assert training.inputs.max_iterations.value == node.inputs.train.max_iterations.value
    assert training.inputs.train.parameters.get_dict() == node.inputs.train.train.parameters.get_dict()

    summary = node.outputs.summary.get_dict()
    rmse = summary['potential']['rmse_energy_test_meV_per_atom']
    assert math.isfinite(rmse) and rmse > 0
    crystal_row, glass_row = summary['structures']['crystal'], summary['structures']['glass']
    assert crystal_row['crystallinity'] > 0.8
    assert glass_row['crystallinity'] < 0.5 * crystal_row['crystallinity']
    assert glass_row['g_r_max_deviation_beyond_5A'] < crystal_row['g_r_max_deviation_beyond_5A']
    assert crystal_row['speciation']['PS4'] == 4 * 4, 'every P of the 128-atom crystal is a PS4 unit'
    for row in (crystal_row, glass_row):
        diffusion = row['diffusion']
        assert diffusion['temperature_K'] == [600.0, 900.0]
        assert all(value > 0 for value in diffusion['D_A2_per_ps'])
        assert math.isfinite(diffusion['Ea_eV'])
        assert diffusion['sigma_S_per_cm'] > 0
        assert row['band_centres']['Li']['THz'] > 0

    # every P of the perfect crystal sits on one Wyckoff site, so all or none is below the midpoint threshold; which,
    # depends on whether the tiny potential's glass has the higher mean fingerprint (it need not at this scale)
    crystal_fingerprint = node.outputs.fingerprint['crystal'].get_array('averaged_kB')
    glass_fingerprint = node.outputs.fingerprint['glass'].get_array('averaged_kB')
    assert crystal_fingerprint.max() - crystal_fingerprint.min() < 1e-6, 'symmetry-equivalent P, equal fingerprints'
    ordered = crystal_fingerprint.mean() < glass_fingerprint.mean()
    assert crystal_row['domains']['ordered_fraction'] == float(ordered)
    assert crystal_row['domains']['spanning_axes'] == (['a', 'b', 'c'] if ordered else [])
    for row in (crystal_row, glass_row):
        assert set(row['li_order']) == {'T600', 'T900'}
        assert all(run['samples_near_ordered'] + run['samples_near_disordered'] > 0 for run in row['li_order'].values())
        low, high = row['diffusion']['Ea_ci95_eV']
        assert low < row['diffusion']['Ea_eV'] < high
        assert row['diffusion']['sigma_stderr_S_per_cm'] > 0

    report = write_report(node, tmp_path / 'report')
    text = report.read_text()
    assert 'Potential [PK' in text and '<td>glass</td>' in text
    assert text.index('<h2>Sanity</h2>') < text.index('<h2>Numbers</h2>')
    assert_crystallinity_after_diffusion_is_of_relaxed_last_frames(node)
    assert {'xrd.png', 'arrhenius.png', 'vdos.png', 'domains.png', 'displacement_and_order.png'} <= {
        p.name for p in report.parent.iterdir()
    }

    timings = dict(stage_timings(node))
    stages = [ReferenceDataWorkChain, TrainPotentialWorkChain, *MD_STAGES.values()]
    last_frames = f'RelaxWorkChain ({RELAX_AFTER_DYNAMICS_LABEL})'
    assert list(timings) == [process.__name__ for process in stages] + [last_frames, 'analysis']
    assert all(0 < seconds <= (node.mtime - node.ctime).total_seconds() for seconds in timings.values())

    table = results_table(node)
    assert table['glass']['Ea_eV'] == pytest.approx(glass_row['diffusion']['Ea_eV'])
    assert table['glass']['Ea_stderr_eV'] == pytest.approx(glass_row['diffusion']['Ea_stderr_eV'])
    potential = potential_behind(node.outputs.diffusion['glass'])
    assert potential.pk == node.outputs.potential.pk
    origin = training_origin(potential)
    assert origin['training_sets'][0].pk == node.outputs.training_set.pk
    labels = [calc for calc in origin['reference_calculations'] if calc.process_type.endswith('glassceramic.tblite')]
    assert labels, 'the tblite calculations behind the training data are found'
    assert all(calc.process_class is TbliteCalculation for calc in labels)

    # the same study again from a new structure node, with caching on: every calculation comes from the first run
    with enable_caching():
        fresh = orm.StructureData(ase=read_crystal('beta'))
        builder = GlassCeramicWorkChain.get_builder_from_protocol(codes, fresh, protocol='demo', overrides=TINY)
        rerun = run_get_node(builder).node
    assert rerun.is_finished_ok, rerun.exit_message
    first = {calc.uuid for calc in node.called_descendants if isinstance(calc, orm.CalcJobNode)}
    again = [calc for calc in rerun.called_descendants if isinstance(calc, orm.CalcJobNode)]
    assert again and len(again) == len(first)
    assert all(calc.base.caching.is_created_from_cache for calc in again)
    assert {calc.base.caching.get_cache_source() for calc in again} == first
    assert rerun.outputs.summary.get_dict() == summary


def test_every_stage_needs_its_inputs(codes, aiida_profile):
    crystal = orm.StructureData(ase=read_crystal('beta'))
    with pytest.raises(InputValidationError, match='`lammps` code'):
        GlassCeramicWorkChain.get_builder_from_protocol({'train': codes['train']}, crystal, protocol='demo')
    with pytest.raises(InputValidationError, match='`reference` code'):
        GlassCeramicWorkChain.get_builder_from_protocol(
            {'train': codes['train'], 'lammps': codes['lammps']}, crystal, protocol='demo'
        )
    with pytest.raises(InputValidationError, match=r'`codes\.reference`: .* runs `glassceramic\.tblite` .*vasp\.vasp'):
        GlassCeramicWorkChain.get_builder_from_protocol(codes, crystal, protocol='paper')  # paper: VASP

    training_set = TrainingSetData(lj_training_set(4, seed=0))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes, crystal, protocol='paper', training_set=training_set
    )
    assert 'code' not in builder.reference, 'the training set replaces the reference stage'
    assert builder.train.train.parameters['hidden'] == [10, 10]
    assert builder.train.train.parameters['cutoff'] == 7.0
    assert builder.supercell.get_list() == [6, 6, 5]
    assert builder.anneal.parameters['total_ps'] == 100000.0
    assert builder.melt_quench.parameters['t_melt'] == 1500.0
    assert builder.analysis['fingerprint'] == {
        'species': 'P',
        'cutoff_A': 10.0,
        'sigma_A': 0.1,
        'average_cutoff_A': 9.0,
        'sublattice': True,
    }
    assert builder.analysis['xrd']['wavelength_A'] == pytest.approx(1.54184)


def test_every_stage_setting_reaches_its_stage(codes, aiida_profile):
    """A setting given to the whole study lands in the inputs of the stage it belongs to, exactly as the stage's own
    builder puts it there."""
    overrides = {
        **TBLITE_STUDY,
        'reference_data': {'static': {'max_concurrent': 3}, 'md': {'steps': 24}},
        'train': {'max_iterations': 5, 'train': {'max_test_rmse': {'energy_meV_per_atom': 20.0}}},
        'md': {'common': {'max_iterations': 7, 'seed': 11}, 'anneal': {'temperature': 700.0}},
    }
    options = {'lammps': {'max_wallclock_seconds': 1234}, 'train': {'max_wallclock_seconds': 99}}
    crystal = orm.StructureData(ase=read_crystal('beta'))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes, crystal, protocol='demo', overrides=overrides, options=options
    )
    assert builder.reference.parameters['static']['max_concurrent'] == 3
    assert builder.reference.parameters['md']['steps'] == 24
    assert builder.train.max_iterations.value == 5
    assert builder.train.train.max_test_rmse.get_dict() == {'energy_meV_per_atom': 20.0}
    assert builder.train.train.metadata.options.max_wallclock_seconds == 99
    assert builder.anneal.parameters['temperature'] == 700.0
    for stage in ('melt_quench', 'anneal', 'relax', 'diffusion', 'vdos'):
        alone = MD_STAGES[stage].get_builder_from_protocol(
            codes['lammps'], crystal, 'demo', overrides['md'], options=options['lammps']
        )
        assert builder[stage].max_iterations.value == 7
        assert builder[stage].parameters.get_dict() == alone.parameters.get_dict()
        assert builder[stage].options.get_dict() == alone.options.get_dict()
        assert builder[stage].options['max_wallclock_seconds'] == 1234
        assert builder[stage].parameters['seed'] == 11


@pytest.mark.parametrize(
    ('overrides', 'message'),
    [
        ({'aneal': {'temperature': 700.0}}, '`aneal`: unknown key; the MD settings go under `md`, e.g. `md.anneal`'),
        ({'md': {'anneal': {'temprature': 700.0}}}, '`md.anneal.temprature`: unknown key; did you mean `temperature`?'),
        ({'md': {'anneal': {'chunk_ps': 0}}}, '`md.anneal.chunk_ps` = 0: Input should be greater than 0'),
        ({'md': {'diffusion': {'temperatures': [-300.0]}}}, '`md.diffusion.temperatures.0` = -300.0'),
        ({'md': {'anneal': {'snapshot_start_ps': 5.0}}}, '`md.anneal`: snapshots from 5.0 ps'),
        ({'train': {'train': {'parameters': {'epoch': 3}}}}, '`train.train.parameters.epoch`: unknown key'),
        ({'reference_data': {'conditions': {'temperatures': []}}}, '`reference_data.conditions.temperatures`'),
    ],
)
def test_study_overrides_are_checked_before_anything_is_stored(codes, aiida_profile, overrides, message):
    crystal = orm.StructureData(ase=read_crystal('beta'))
    before = orm.QueryBuilder().append(orm.Node).count()
    with pytest.raises(InputValidationError, match=re.escape(message)):
        GlassCeramicWorkChain.get_builder_from_protocol(codes, crystal, 'demo', {**TBLITE_STUDY, **overrides})
    assert orm.QueryBuilder().append(orm.Node).count() == before
