"""The training-set node stores and returns the arrays of a TrainingSet."""

import numpy as np
from ase.calculators.lj import LennardJones

from aiida_glassceramic.data import TrainingSetData
from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.training_set import TrainingSet


def test_round_trip(aiida_profile, tmp_path):
    images = []
    for seed in range(3):
        atoms = read_crystal('gamma')
        atoms.rattle(0.05, seed=seed)
        atoms.calc = LennardJones(sigma=2.5, rc=6.0)
        images.append(atoms)
    node = TrainingSetData(TrainingSet.from_atoms(images)).store()
    loaded = TrainingSetData.collection.get(pk=node.pk).get_training_set()
    assert loaded.natoms.tolist() == [16, 16, 16]
    assert node.species == ['Li', 'P', 'S']
    np.testing.assert_allclose(loaded.forces[16:32], images[1].get_forces())
    np.testing.assert_allclose(loaded.energies[2], images[2].get_potential_energy())
