"""Energy, forces, virial and per-atom energies of the potential do not depend on how a crystal is described: a
rotation of the whole cell, another cell of the same lattice, atoms moved by lattice vectors, a supercell.

Perfect, unrattled crystals are the point: their atoms sit on special positions whose fractional coordinates come
out as 0, 1 or -1e-17, where a wrong wrapping rule once changed the energy of a rotated 432-atom gamma cell by 6.4 eV.
"""

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from aiida_glassceramic.descriptors import default_parameters, pair_vectors
from aiida_glassceramic.potentials.model import NNPotential
from tests.geometry import UNIMODULAR, crystal, equivalent_cell, periodic_atoms, rotated, rotation

TOLERANCE = 1e-10


@pytest.fixture(scope='module')
def model() -> NNPotential:
    torch.manual_seed(1)
    model = NNPotential(default_parameters(['Li', 'P', 'S'], cutoff=4.5), hidden=(8, 8))
    with torch.no_grad():
        model.feature_scale.fill_(2.0)  # features of order one: the networks are not saturated
    return model


def per_atom_energies(model: NNPotential, atoms) -> np.ndarray:
    types = model.types(atoms.numbers)
    nl = model.neighbour_list(types, atoms.positions, atoms.cell.array)
    vectors = pair_vectors(torch.as_tensor(atoms.positions), torch.as_tensor(atoms.cell.array), nl)
    types_t = torch.as_tensor(types)
    features = model.symmetry_functions()(vectors, nl, types_t, len(types))
    return model.atomic_energies(features, types_t).detach().numpy()


def evaluate(model, atoms):
    energy, forces, virial = model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
    tensor = np.empty((3, 3))
    tensor[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]] = virial
    tensor[[1, 2, 2], [0, 0, 1]] = virial[[3, 4, 5]]
    return energy, forces, tensor


def assert_same(one, two, rotation_matrix: np.ndarray | None = None):
    """Energies, forces (rotated) and virial tensors (rotated) agree to ``TOLERANCE`` relative."""
    rotation_matrix = np.eye(3) if rotation_matrix is None else rotation_matrix
    (e1, f1, w1), (e2, f2, w2) = one, two
    assert e2 == pytest.approx(e1, rel=TOLERANCE, abs=TOLERANCE)
    scale = max(1.0, np.abs(f1).max())
    np.testing.assert_allclose(f2, f1 @ rotation_matrix.T, rtol=0, atol=TOLERANCE * scale)
    np.testing.assert_allclose(w2, rotation_matrix @ w1 @ rotation_matrix.T, rtol=0, atol=TOLERANCE * np.abs(w1).max())


@pytest.mark.parametrize('name', ['beta', 'gamma'])
@pytest.mark.parametrize('seed', [0, 1])
def test_rotation_of_a_perfect_crystal(model, name, seed):
    atoms = crystal(name, (1, 2, 2))
    matrix = rotation(seed)
    assert_same(evaluate(model, atoms), evaluate(model, rotated(atoms, seed)), matrix)


def test_thirty_degree_rotation_of_the_gamma_cell(model):
    """The case that once changed the energy of a 432-atom gamma cell by 6.4 eV (here 3x3x3 = 432 atoms)."""
    atoms = crystal('gamma', (3, 3, 3))
    angle = np.radians(30.0)
    matrix = np.array([[np.cos(angle), -np.sin(angle), 0.0], [np.sin(angle), np.cos(angle), 0.0], [0.0, 0.0, 1.0]])
    turned = atoms.copy()
    turned.set_cell(atoms.cell.array @ matrix.T)
    turned.positions = atoms.positions @ matrix.T
    assert_same(evaluate(model, atoms), evaluate(model, turned), matrix)


@pytest.mark.parametrize('index', range(len(UNIMODULAR)))
def test_equivalent_cell_of_the_same_lattice(model, index):
    atoms = crystal('beta')
    assert_same(evaluate(model, atoms), evaluate(model, equivalent_cell(atoms, UNIMODULAR[index])))


def test_atoms_moved_by_lattice_vectors(model):
    atoms = crystal('gamma', (2, 1, 1))
    moved = atoms.copy()
    moved.positions += np.random.default_rng(3).integers(-2, 3, (len(atoms), 3)) @ atoms.cell.array
    assert_same(evaluate(model, atoms), evaluate(model, moved))


@pytest.mark.parametrize('name', ['beta', 'gamma'])
def test_supercell_has_the_per_atom_energies_of_its_crystal(model, name):
    unit, bigger = crystal(name), crystal(name, (2, 2, 1))
    per_unit = per_atom_energies(model, unit)
    np.testing.assert_allclose(per_atom_energies(model, bigger), np.tile(per_unit, 4), rtol=TOLERANCE, atol=TOLERANCE)
    energy, forces, _ = evaluate(model, bigger)
    assert energy == pytest.approx(4 * per_unit.sum(), rel=TOLERANCE)
    np.testing.assert_allclose(forces, np.tile(evaluate(model, unit)[1], (4, 1)), atol=TOLERANCE)


@given(periodic_atoms(max_atoms=8, min_height=3.0), st.integers(0, 2**32 - 1), st.integers(0, len(UNIMODULAR) - 1))
def test_generated_structures_rotated_recut_and_shifted(model, atoms, seed, which):
    reference = evaluate(model, atoms)
    assert_same(reference, evaluate(model, rotated(atoms, seed)), rotation(seed))
    assert_same(reference, evaluate(model, equivalent_cell(atoms, UNIMODULAR[which])))
    moved = atoms.copy()
    moved.positions += np.random.default_rng(seed).integers(-1, 2, (len(atoms), 3)) @ atoms.cell.array
    assert_same(reference, evaluate(model, moved))
