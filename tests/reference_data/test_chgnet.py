"""The CHGNet reference engine, run for real on Li3PS4 cells.

References: CHGNet's own ASE calculator called here, energy conservation, the NVE path of ASE's velocity Verlet.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version

import ase
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.chgnet import ChgnetCalculation
from aiida_glassceramic.runners.chgnet import main
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.reference_data import ReferenceDataInputError, ReferenceDataWorkChain
from tests.reference_data.engine_checks import (
    assert_killed_md_continues,
    assert_nve_conserves_energy,
    run_single_points,
)

# CHGNet computes in single precision: moving atoms by 1e-8 A (the digits of a trajectory file) changes its forces by
# up to ~1e-4 eV/A and its energy by ~1e-5 eV, so labels equal its ASE calculator within these (eV, eV/A)
SINGLE = {'energy': 1e-4, 'forces': 1e-3}


@pytest.fixture(scope='module')
def chgnet():
    """CHGNet 0.3.0 loaded here, independently of the runner."""
    from chgnet.model import CHGNet

    return CHGNet.load(model_name='0.3.0', use_device='cpu', verbose=False)


def calculator(model):
    """CHGNet's own ASE calculator."""
    from chgnet.model.dynamics import CHGNetCalculator

    return CHGNetCalculator(model=model, use_device='cpu')


def reference(atoms: ase.Atoms, model) -> ase.Atoms:
    atoms = atoms.copy()
    atoms.calc = calculator(model)
    return atoms


def rattled(name: str, seed: int, amplitude: float = 0.05) -> ase.Atoms:
    atoms = read_crystal(name)
    atoms.rattle(amplitude, seed=seed)
    return atoms


def test_single_points_match_chgnet_and_record_the_model(chgnet_code, chgnet):
    images = [rattled('gamma', 1), rattled('beta', 2)]
    results, node = run_single_points(ChgnetCalculation, chgnet_code, images, {'model': '0.3.0'})
    assert node.is_finished_ok, node.exit_message
    labels = results['labels'].get_training_set()
    assert labels.natoms.tolist() == [16, 32]
    for index, atoms in enumerate(images):
        expected = reference(atoms, chgnet)
        forces = labels.structure(index).get_forces()
        np.testing.assert_allclose(forces.sum(axis=0), 0.0, atol=1e-4)  # a periodic cell: forces sum to zero
        np.testing.assert_allclose(labels.energies[index], expected.get_potential_energy(), atol=SINGLE['energy'])
        np.testing.assert_allclose(forces, expected.get_forces(), atol=SINGLE['forces'])
        np.testing.assert_allclose(labels.stresses[index], expected.get_stress(), rtol=1e-4, atol=1e-6)
    digest = hashlib.sha256()
    for key, tensor in sorted(chgnet.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().numpy().tobytes())
    assert results['misc']['engine'] == {
        'name': 'CHGNet',
        'model': '0.3.0',
        'package_version': version('chgnet'),
        'weights_sha256': digest.hexdigest(),
    }


def test_nve_conserves_energy(tmp_path):
    assert_nve_conserves_energy(main, tmp_path, timestep=1.0, steps=20)


def test_calcjob_refuses_an_unknown_model(aiida_profile, chgnet_code):
    parameters = orm.Dict({'task': 'single_point', 'calculator': {'model': '9.9.9'}})
    structure = orm.StructureData(ase=read_crystal('gamma'))
    with pytest.raises(ValueError, match=r'calculator\.model `9\.9\.9`: use one of .*0\.3\.0'):
        run_get_node(ChgnetCalculation, code=chgnet_code, structure=structure, parameters=parameters)


def test_killed_md_continues_from_positions_and_velocities(chgnet_code, chgnet):
    """A run killed by a CPU-time limit continues from its restart data along the same NVE path."""
    first = assert_killed_md_continues(ChgnetCalculation, chgnet_code, calculator(chgnet))
    assert first['misc']['engine']['model'] == '0.3.0', 'a killed run records its model too'


@pytest.mark.slow
def test_reference_data_labels_are_chgnet_frames_without_a_static_stage(
    interrupted_chgnet_code, chgnet, monkeypatch, tmp_path
):
    """Tiny demo run whose MD is stopped every 40 steps and whose second job dies before writing anything: it goes
    on from the last restart data, the training set equals CHGNet on the same structures, no static job runs."""
    monkeypatch.setenv('INTERRUPTED_CHGNET_STATE', str(tmp_path / 'jobs'))
    monkeypatch.setenv('INTERRUPTED_CHGNET_CHUNK', '40')
    monkeypatch.setenv('INTERRUPTED_CHGNET_SILENT', '2')
    overrides = {
        'conditions': {'defects': ['pristine'], 'temperatures': [900]},
        'md': {'steps': 120, 'snapshot_fraction': 0.025, 'max_restarts': 3},
    }
    builder = ReferenceDataWorkChain.get_builder_from_protocol(
        interrupted_chgnet_code, protocol='demo', engine='chgnet', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    report = results['report'].get_dict()
    assert report['md_runs'] == 1
    assert report['md_jobs'] == 4 and report['md_restarts'] == 3  # 0-40, nothing, 40-80, 80-120
    assert report['snapshots'] == 3  # steps 40, 80 and 120
    assert report['static_jobs'] == report['planned']['static_jobs_at_most'] == 0
    assert not node.base.links.get_outgoing(link_label_filter='static').all()
    labels = results['training_set'].get_training_set()
    assert len(labels) == report['kept_after_screening'] == report['labelled'] == 3
    for index, atoms in enumerate(labels.to_atoms()):
        expected = reference(atoms, chgnet)
        np.testing.assert_allclose(labels.energies[index], expected.get_potential_energy(), atol=SINGLE['energy'])
        np.testing.assert_allclose(atoms.get_forces(), expected.get_forces(), atol=SINGLE['forces'])
        np.testing.assert_allclose(atoms.get_stress(), expected.get_stress(), rtol=1e-4, atol=1e-6)
    (aimd,) = (link.node for link in node.base.links.get_outgoing(link_label_filter='aimd').all())
    jobs = sorted(aimd.called, key=ctime)  # one restart work chain ran the four jobs
    assert len(jobs) == 4 and 'trajectory' not in jobs[1].outputs
    segments = [job.outputs.trajectory for job in jobs if 'trajectory' in job.outputs]
    assert [segment.get_stepids().tolist() for segment in segments] == [[0, 40], [80], [120]]
    frames = np.concatenate([segment.get_positions()[-1:] for segment in segments])
    np.testing.assert_array_equal(labels.positions, frames.reshape(-1, 3))
    assert {job.outputs.misc['engine']['name'] for job in jobs if 'misc' in job.outputs} == {'CHGNet'}


def ctime(node: orm.Node):
    return node.ctime


def test_unknown_model_refused_before_submission(chgnet_code):
    with pytest.raises(ReferenceDataInputError, match=r'parameters\.chgnet\.calculator\.model `x`'):
        ReferenceDataWorkChain.get_builder_from_protocol(
            chgnet_code, protocol='demo', engine='chgnet', overrides={'chgnet': {'calculator': {'model': 'x'}}}
        )


@pytest.mark.parametrize('protocol', ['paper', 'fast', 'demo'])
def test_selectable_as_reference_engine_of_every_protocol(protocol, chgnet_code, train_code, nnp_code):
    from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain

    codes = {'reference': chgnet_code, 'train': train_code, 'lammps': nnp_code}
    crystal = orm.StructureData(ase=read_crystal('beta'))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes, crystal, protocol=protocol, overrides={'reference_engine': 'chgnet'}
    )
    assert builder.reference.engine.value == 'chgnet'
    assert builder.reference.code.uuid == chgnet_code.uuid
    assert builder.reference.parameters['chgnet']['calculator'] == {'model': '0.3.0'}
