"""Forces and virial of the potential against finite differences; the ASE calculator against ASE's own
numerical stress; guards for unknown elements and close contacts."""

import warnings

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.calculators.fd import calculate_numerical_stress

from aiida_glassceramic.descriptors import (
    AngularFunction,
    RadialFunction,
    SymmetryFunctionParameters,
    build_neighbour_list,
    default_parameters,
    pair_vectors,
)
from aiida_glassceramic.potentials.calculator import NNPCalculator
from aiida_glassceramic.potentials.io import load_potential, read_potential_metadata, save_potential
from aiida_glassceramic.potentials.model import CloseContactWarning, NNPotential, UnknownElementError

# separable wide functions with nonzero rs and both lambdas (moment path) next to a narrow one (triplet path)
SHIFTED = SymmetryFunctionParameters(
    ('Li', 'P', 'S'),
    4.5,
    (RadialFunction(0.5, 1.0), RadialFunction(0.2)),
    (
        AngularFunction(0.3, 1.0, -1.0, 2.0, 'wide'),
        AngularFunction(0.1, 4.0, 1.0, 1.5, 'wide'),
        AngularFunction(0.2, 3.0, -1.0, 0.5, 'wide'),
        AngularFunction(0.05, 2.0, 1.0, 1.0, 'narrow'),
    ),
)
DESCRIPTORS = {
    'default': default_parameters(['Li', 'P', 'S'], cutoff=4.5),
    'poly2': default_parameters(['Li', 'P', 'S'], cutoff=4.5, cutoff_function='poly2'),
    'shifted': SHIFTED,
}


def _model(skin: float = 0.0, descriptor: str = 'default') -> NNPotential:
    torch.manual_seed(0)
    model = NNPotential(DESCRIPTORS[descriptor], hidden=(8, 8), skin=skin)
    with torch.no_grad():  # scale the features to order one so that the networks are not saturated
        model.feature_scale.fill_(2.0)
    return model


def _cell() -> Atoms:
    rng = np.random.default_rng(4)
    cell = np.array([[7.0, 0.0, 0.0], [0.8, 6.6, 0.0], [-0.6, 0.9, 6.8]])
    symbols = ['Li'] * 6 + ['P'] * 2 + ['S'] * 8
    atoms = Atoms(symbols, scaled_positions=rng.uniform(size=(16, 3)), cell=cell, pbc=True)
    return atoms


@pytest.mark.parametrize('descriptor', sorted(DESCRIPTORS))
def test_forces_and_virial_equal_finite_differences(descriptor):
    """compute() (hand-written moment backward) and the double-differentiable training path against finite
    differences of the energy, on a triclinic cell with all six element pairs."""
    model, atoms = _model(descriptor=descriptor), _cell()
    energy, forces, virial = model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
    step = 1e-5
    numerical = np.zeros_like(forces)
    for index in range(len(atoms)):
        for axis in range(3):
            shifted = []
            for sign in (1, -1):
                positions = atoms.positions.copy()
                positions[index, axis] += sign * step
                shifted.append(model.compute(atoms.numbers, positions, atoms.cell.array)[0])
            numerical[index, axis] = -(shifted[0] - shifted[1]) / (2 * step)
    assert np.abs(forces).max() > 0.01
    np.testing.assert_allclose(forces, numerical, rtol=1e-6, atol=1e-6 * np.abs(forces).max())
    types = model.types(atoms.numbers)
    nl = build_neighbour_list(atoms.positions, atoms.cell.array, model.cutoff, types, triplet_cutoff=model.cutoff)
    positions = torch.tensor(atoms.positions, requires_grad=True)
    vectors = pair_vectors(positions, torch.tensor(atoms.cell.array), nl)
    types_t = torch.as_tensor(types)
    features = model.symmetry_functions()(vectors, nl, types_t, len(types))
    training_energy = model.atomic_energies(features, types_t).sum()
    (gradient,) = torch.autograd.grad(training_energy, positions, create_graph=True)
    assert gradient.requires_grad  # forces stay differentiable in the weights
    np.testing.assert_allclose(-gradient.detach().numpy(), numerical, rtol=1e-6, atol=1e-6 * np.abs(forces).max())
    # W_ab = -dE/d(eps_ab) for the homogeneous deformation r -> r (1 + eps)
    strain_virial = np.zeros((3, 3))
    for a in range(3):
        for b in range(3):
            shifted = []
            for sign in (1, -1):
                deformation = np.eye(3)
                deformation[a, b] += sign * step
                shifted.append(
                    model.compute(atoms.numbers, atoms.positions @ deformation, atoms.cell.array @ deformation)[0]
                )
            strain_virial[a, b] = -(shifted[0] - shifted[1]) / (2 * step)
    expected = strain_virial[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    np.testing.assert_allclose(virial, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    np.testing.assert_allclose(strain_virial, strain_virial.T, atol=1e-8)
    assert np.isfinite(energy)


def test_calculator_stress_equals_ase_numerical_stress(tmp_path):
    path = save_potential(_model(), tmp_path / 'potential.pt')
    atoms = _cell()
    atoms.calc = NNPCalculator(path)
    stress = atoms.get_stress()
    numerical = calculate_numerical_stress(atoms, eps=1e-5)
    np.testing.assert_allclose(stress, numerical, rtol=1e-6, atol=1e-9)
    assert read_potential_metadata(path)['descriptor']['cutoff'] == 4.5


def test_float32_agrees_with_float64(tmp_path):
    path = save_potential(_model(), tmp_path / 'potential.pt')
    atoms = _cell()
    e64, f64, _ = load_potential(path).compute(atoms.numbers, atoms.positions, atoms.cell.array)
    e32, f32, _ = load_potential(path, dtype='float32').compute(atoms.numbers, atoms.positions, atoms.cell.array)
    assert abs(e32 - e64) < 1e-3 * max(1.0, abs(e64))
    np.testing.assert_allclose(f32, f64, atol=1e-4)


def test_skin_reuse_gives_the_same_forces_as_a_fresh_list():
    reused, fresh = _model(skin=0.6), _model()
    atoms = _cell()
    rng = np.random.default_rng(0)
    for _ in range(3):
        atoms.positions += rng.normal(0, 0.05, atoms.positions.shape)
        one = reused.compute(atoms.numbers, atoms.positions, atoms.cell.array)
        two = fresh.compute(atoms.numbers, atoms.positions, atoms.cell.array)
        np.testing.assert_allclose(one[1], two[1], atol=1e-10)
        np.testing.assert_allclose(one[2], two[2], atol=1e-10)


def test_unknown_element_and_close_contact():
    model = _model()
    grid = np.array([[x, y, z] for x in range(2) for y in range(2) for z in range(4)], dtype=float) * 3.0
    atoms = Atoms(['Li'] * 6 + ['P'] * 2 + ['S'] * 8, positions=grid, cell=[6.0, 6.0, 12.0], pbc=True)
    with pytest.raises(UnknownElementError, match='Na'):
        model.compute(np.where(atoms.numbers == 3, 11, atoms.numbers), atoms.positions, atoms.cell.array)
    with torch.no_grad():
        model.min_distance.fill_(1.5)
    atoms.positions[0] += [0.0, 0.0, 1.9]
    with pytest.warns(CloseContactWarning, match='closer than'):
        model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
    atoms.positions[0] -= [0.0, 0.0, 1.3]
    with warnings.catch_warnings():
        warnings.simplefilter('error', CloseContactWarning)
        model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
