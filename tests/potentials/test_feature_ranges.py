"""The training range of every feature: recorded by the training, kept by the model file, used to count the atoms
that extrapolate; potentials saved without ranges still load and count nothing."""

import numpy as np
import pytest
import torch

from aiida_glassceramic.descriptors import (
    RadialFunction,
    SymmetryFunctionParameters,
    SymmetryFunctions,
    build_neighbour_list,
    pair_vectors,
)
from aiida_glassceramic.descriptors.parameters import AngularFunction
from aiida_glassceramic.potentials.io import load_potential, read_potential_metadata, save_potential
from aiida_glassceramic.potentials.model import CloseContactWarning
from aiida_glassceramic.potentials.training import train
from aiida_glassceramic.training_set import TrainingSet
from tests.potentials.emt_cells import emt_structures

DESCRIPTOR = SymmetryFunctionParameters(
    ('Al', 'Cu'),
    4.5,
    tuple(RadialFunction(eta) for eta in (0.05, 0.5, 2.0)),
    (AngularFunction(0.05, 1.0, -1.0), AngularFunction(0.05, 2.0, 1.0, kind='narrow')),
)
PARAMETERS = {'descriptor': DESCRIPTOR.to_dict(), 'hidden': [6], 'epochs': 2, 'batch_size': 4, 'seed': 3}


def features(atoms) -> tuple[np.ndarray, np.ndarray]:
    """The features of one structure and the element index of each atom, from the descriptor code alone."""
    types = np.array([DESCRIPTOR.elements.index(symbol) for symbol in atoms.get_chemical_symbols()])
    nl = build_neighbour_list(atoms.positions, atoms.cell.array, DESCRIPTOR.cutoff, types, triplet_cutoff=4.5)
    vectors = pair_vectors(torch.tensor(atoms.positions), torch.tensor(atoms.cell.array), nl)
    functions = SymmetryFunctions(DESCRIPTOR, torch.float64, 'cpu')
    return functions(vectors, nl, torch.as_tensor(types), len(atoms)).detach().numpy(), types


@pytest.fixture(scope='module')
def trained():
    training, test = emt_structures(12, seed=0), emt_structures(3, seed=1)
    model, _ = train(TrainingSet.from_atoms(training), PARAMETERS, TrainingSet.from_atoms(test))
    return model, training, test


def test_ranges_are_the_min_and_max_over_the_training_set(trained):
    """Every structure given for training (the fitted ones and those that stop the training), not the test set."""
    model, training, _ = trained
    per_structure = [features(atoms) for atoms in training]
    values = np.concatenate([f for f, _ in per_structure])
    types = np.concatenate([t for _, t in per_structure])
    for index in range(2):
        np.testing.assert_allclose(model.feature_min[index].numpy(), values[types == index].min(0), rtol=1e-12)
        np.testing.assert_allclose(model.feature_max[index].numpy(), values[types == index].max(0), rtol=1e-12)
    assert model.has_feature_ranges


def test_count_of_atoms_outside_the_ranges(trained):
    model, training, _ = trained
    inside = training[5]
    model.compute(inside.numbers, inside.positions, inside.cell.array)
    assert model.extrapolating_atoms == 0
    squeezed = inside.copy()
    squeezed.set_cell(squeezed.cell.array * 0.85 ** (1 / 3), scale_atoms=True)
    values, types = features(squeezed)
    low, high = model.feature_min.numpy()[types], model.feature_max.numpy()[types]
    margin = 1e-6 * (high - low) + 1e-10
    expected = int(((values < low - margin) | (values > high + margin)).any(axis=1).sum())
    with pytest.warns(CloseContactWarning):
        model.compute(squeezed.numbers, squeezed.positions, squeezed.cell.array)
    assert model.extrapolating_atoms == expected > 0


def test_model_file_keeps_the_ranges(trained, tmp_path):
    model, _, _ = trained
    loaded = load_potential(save_potential(model, tmp_path / 'potential.pt'))
    assert torch.equal(loaded.feature_min, model.feature_min) and torch.equal(loaded.feature_max, model.feature_max)
    ranges = read_potential_metadata(tmp_path / 'potential.pt')['feature_ranges']
    assert ranges['Cu']['max'] == model.feature_max[1].tolist()


def test_float32_counts_no_round_off(trained, tmp_path):
    """float32 features are off by up to ~1e-4 of their size: the training structures still give no warnings."""
    model, training, _ = trained
    single = load_potential(save_potential(model, tmp_path / 'potential.pt'), dtype='float32')
    for atoms in training:
        single.compute(atoms.numbers, atoms.positions, atoms.cell.array)
        assert single.extrapolating_atoms == 0


def test_file_without_ranges_loads_and_counts_nothing(trained, tmp_path):
    """A file as written before the ranges were recorded."""
    model, training, _ = trained
    content = torch.load(save_potential(model, tmp_path / 'new.pt'), weights_only=True)
    for name in ('feature_min', 'feature_max'):
        del content['state_dict'][name]
    del content['metadata']['feature_ranges']
    torch.save(content, tmp_path / 'old.pt')
    old = load_potential(tmp_path / 'old.pt')
    assert not old.has_feature_ranges
    atoms = training[0]
    energy = old.compute(atoms.numbers, atoms.positions, atoms.cell.array)[0]
    assert energy == model.compute(atoms.numbers, atoms.positions, atoms.cell.array)[0]
    assert old.extrapolating_atoms is None
    assert old.metadata()['feature_ranges'] is None
