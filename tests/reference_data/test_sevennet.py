"""The SevenNet reference engine, run for real on Li3PS4 cells.

References: SevenNet's own ASE calculator loaded by its model name here, energy conservation, the NVE path of ASE's
velocity Verlet.
"""

from __future__ import annotations

import hashlib
from importlib.metadata import version

import ase
import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.sevennet import SevennetCalculation
from aiida_glassceramic.runners.sevennet import main
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.reference_data import ReferenceDataInputError, ReferenceDataWorkChain
from tests.reference_data.engine_checks import (
    assert_killed_md_continues,
    assert_nve_conserves_energy,
    run_single_points,
)

# SevenNet computes in single precision: labels equal its ASE calculator within these (eV, eV/A)
SINGLE = {'energy': 1e-4, 'forces': 1e-3}


@pytest.fixture(scope='module')
def sevennet():
    """SevenNet's own calculator of the pretrained SevenNet-0, loaded by name, independently of the runner."""
    from sevenn.calculator import SevenNetCalculator

    return SevenNetCalculator('7net-0', device='cpu')


def reference(atoms: ase.Atoms, calculator) -> ase.Atoms:
    atoms = atoms.copy()
    atoms.calc = calculator
    return atoms


def assert_labels_equal_sevennet(labels, calculator) -> None:
    for index, atoms in enumerate(labels.to_atoms()):
        expected = reference(atoms, calculator)
        np.testing.assert_allclose(labels.energies[index], expected.get_potential_energy(), atol=SINGLE['energy'])
        np.testing.assert_allclose(atoms.get_forces(), expected.get_forces(), atol=SINGLE['forces'])
        np.testing.assert_allclose(atoms.get_stress(), expected.get_stress(), rtol=1e-4, atol=1e-6)


def test_single_points_match_sevennet_and_record_the_model(sevennet_code, sevennet):
    images = [read_crystal('gamma'), read_crystal('beta')]
    for seed, atoms in enumerate(images):
        atoms.rattle(0.05, seed=seed)
    results, node = run_single_points(SevennetCalculation, sevennet_code, images, {'model': '7net-0'})
    assert node.is_finished_ok, node.exit_message
    labels = results['labels'].get_training_set()
    assert labels.natoms.tolist() == [16, 32]
    np.testing.assert_allclose(labels.forces[:16].sum(axis=0), 0.0, atol=1e-4)  # a periodic cell: forces sum to 0
    assert_labels_equal_sevennet(labels, sevennet)
    digest = hashlib.sha256()
    for key, tensor in sorted(sevennet.model.state_dict().items()):
        digest.update(key.encode())
        digest.update(tensor.detach().numpy().tobytes())
    assert results['misc']['engine'] == {
        'name': 'SevenNet',
        'model': '7net-0',
        'package_version': version('sevenn'),
        'weights_sha256': digest.hexdigest(),
    }


def test_nve_conserves_energy(tmp_path):
    assert_nve_conserves_energy(main, tmp_path, timestep=1.0, steps=20)


def test_calcjob_refuses_an_unknown_model(aiida_profile, sevennet_code):
    parameters = orm.Dict({'task': 'single_point', 'calculator': {'model': '7net-9'}})
    structure = orm.StructureData(ase=read_crystal('gamma'))
    with pytest.raises(ValueError, match=r'calculator\.model `7net-9`: use one of .*7net-0'):
        run_get_node(SevennetCalculation, code=sevennet_code, structure=structure, parameters=parameters)


def test_killed_md_continues_from_positions_and_velocities(sevennet_code, sevennet):
    """A run killed by a CPU-time limit continues from its restart data along the same NVE path."""
    first = assert_killed_md_continues(SevennetCalculation, sevennet_code, sevennet)
    assert first['misc']['engine']['model'] == '7net-0', 'a killed run records its model too'


def test_reference_data_labels_are_sevennet_frames_without_a_static_stage(sevennet_code, sevennet):
    overrides = {
        'conditions': {'defects': ['pristine'], 'temperatures': [900]},
        'md': {'steps': 40, 'snapshot_fraction': 0.05},
    }
    builder = ReferenceDataWorkChain.get_builder_from_protocol(
        sevennet_code, protocol='demo', engine='sevennet', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    report = results['report'].get_dict()
    assert report['md_runs'] == 1 and report['static_jobs'] == 0
    labels = results['training_set'].get_training_set()
    assert len(labels) == report['labelled'] == 2  # steps 20 and 40
    assert_labels_equal_sevennet(labels, sevennet)


def test_unknown_model_refused_before_submission(sevennet_code):
    with pytest.raises(ReferenceDataInputError, match=r'parameters\.sevennet\.calculator\.model `x`'):
        ReferenceDataWorkChain.get_builder_from_protocol(
            sevennet_code, protocol='demo', engine='sevennet', overrides={'sevennet': {'calculator': {'model': 'x'}}}
        )


@pytest.mark.parametrize('protocol', ['paper', 'fast', 'demo'])
def test_selectable_as_reference_engine_of_every_protocol(protocol, sevennet_code, train_code, nnp_code):
    from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain

    codes = {'reference': sevennet_code, 'train': train_code, 'lammps': nnp_code}
    crystal = orm.StructureData(ase=read_crystal('beta'))
    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes, crystal, protocol=protocol, overrides={'reference_engine': 'sevennet'}
    )
    assert builder.reference.engine.value == 'sevennet'
    assert builder.reference.code.uuid == sevennet_code.uuid
    assert builder.reference.parameters['sevennet']['calculator'] == {'model': '7net-0'}
