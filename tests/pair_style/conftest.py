"""Shared pieces of the pair-style tests: the plugin, small test potentials and the torch reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

from aiida_glassceramic.descriptors import SymmetryFunctionParameters, pair_vectors
from aiida_glassceramic.descriptors.parameters import AngularFunction, RadialFunction
from aiida_glassceramic.potentials.lammps_plugin import ensure_plugin
from aiida_glassceramic.potentials.model import NNPotential
from aiida_glassceramic.potentials.pair_style_file import write_pair_style_file
from aiida_glassceramic.structures import read_crystal

ELEMENTS = ('Li', 'P', 'S')


@pytest.fixture(scope='session', autouse=True)
def plugin() -> Path:
    return ensure_plugin()


def test_descriptor(
    cutoff_function: str = 'cos', cutoff: float = 5.0, triplet_zeta: float = 9.0
) -> SymmetryFunctionParameters:
    """Every kind of function: radial, wide by moments (rs = 0 and not), narrow and wide (``triplet_zeta``, not
    separable) by triplets."""
    return SymmetryFunctionParameters(
        elements=ELEMENTS,
        cutoff=cutoff,
        radial=(RadialFunction(0.5), RadialFunction(1.0, 2.5), RadialFunction(0.05)),
        angular=(
            AngularFunction(0.05, 1.0, -1.0, kind='wide'),
            AngularFunction(0.1, 2.0, 1.0, kind='wide'),
            AngularFunction(0.02, 4.0, 1.0, kind='wide'),
            AngularFunction(0.05, 2.0, -1.0, 0.5, 'wide'),
            AngularFunction(0.03, 1.0, 1.0, kind='narrow'),
            AngularFunction(0.05, 4.0, -1.0, 0.3, 'narrow'),
            AngularFunction(0.02, triplet_zeta, 1.0, kind='wide'),
        ),
        cutoff_function=cutoff_function,
    )


test_descriptor.__test__ = False


def scaled_model(descriptor: SymmetryFunctionParameters, activation: str = 'tanh', seed: int = 0) -> NNPotential:
    """Random weights; feature scaling from the rattled beta cell so the networks work in their non-linear range."""
    torch.manual_seed(seed)
    model = NNPotential(descriptor, hidden=(8, 6), activation=activation)
    atoms = read_crystal('beta')
    atoms.rattle(0.1, seed=seed)
    features, types = reference_features(model, atoms.numbers, atoms.positions, atoms.cell.array)
    with torch.no_grad():
        for index in range(len(ELEMENTS)):
            chosen = features[types == index]
            model.feature_shift[index] = chosen.mean(0)
            model.feature_scale[index] = chosen.std(0) + 0.1
        model.reference_energy.copy_(torch.tensor([-1.9, -5.4, -4.1], dtype=torch.float64))
    return model


def reference_features(model: NNPotential, numbers, positions, cell) -> tuple[torch.Tensor, torch.Tensor]:
    types = model.types(numbers)
    nl = model.neighbour_list(types, np.asarray(positions, dtype=float), np.asarray(cell, dtype=float))
    vectors = pair_vectors(torch.as_tensor(positions, dtype=model.dtype), torch.as_tensor(cell, dtype=model.dtype), nl)
    types_t = torch.as_tensor(types)
    return model.symmetry_functions()(vectors, nl, types_t, len(types)).detach(), types_t


def reference(model: NNPotential, numbers, positions, cell) -> dict:
    """``NNPotential.compute`` (the definition) plus its per-atom energies."""
    energy, forces, virial = model.compute(numbers, positions, cell)
    features, types = reference_features(model, numbers, positions, cell)
    with torch.no_grad():
        atom_energies = model.atomic_energies(features, types).numpy()
    return {'energy': energy, 'forces': forces, 'virial': virial, 'atom_energies': atom_energies}


def assert_matches(result, expected: dict, tolerance: float = 1e-10) -> None:
    """LAMMPS' numbers equal the reference to ``tolerance``, relative to the largest value of each kind; the
    per-atom virials (``compute stress/atom``) sum to the virial."""
    assert abs(result.energy - expected['energy']) <= tolerance * abs(expected['energy'])
    for name in ('forces', 'virial', 'atom_energies', 'atom_virial_sum'):
        value, target = getattr(result, name), expected['virial' if name == 'atom_virial_sum' else name]
        scale = np.abs(target).max()
        assert np.abs(value - target).max() <= tolerance * scale, f'{name}: {np.abs(value - target).max()} vs {scale}'


@pytest.fixture(scope='session')
def potential_files(tmp_path_factory) -> dict:
    """One test model per cut-off function, with its pair-style file."""
    folder = tmp_path_factory.mktemp('potentials')
    files = {}
    for function in ('cos', 'poly2'):
        model = scaled_model(test_descriptor(function))
        files[function] = (model, write_pair_style_file(model, folder / f'{function}.glassceramic'))
    return files
