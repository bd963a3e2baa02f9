"""pair_style glassceramic equals NNPotential.compute: energy, forces, per-atom energies and virial to 1e-10."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from aiida_glassceramic.descriptors.parameters import default_parameters
from aiida_glassceramic.potentials.pair_style_file import write_pair_style_file
from aiida_glassceramic.structures import read_crystal

from .conftest import ELEMENTS, assert_matches, reference, scaled_model, test_descriptor
from .lammps_run import evaluate


def sheared_beta(seed: int = 1):
    """The 32-atom beta cell with all three tilts, rattled."""
    atoms = read_crystal('beta')
    shear = np.array([[1.0, 0.0, 0.0], [0.12, 1.0, 0.0], [-0.08, 0.15, 1.0]])
    atoms.set_cell(atoms.cell.array @ shear, scale_atoms=True)
    atoms.rattle(0.08, seed=seed)
    return atoms


@pytest.mark.parametrize('function', ['cos', 'poly2'])
def test_triclinic_rattled(function, potential_files, tmp_path):
    model, path = potential_files[function]
    result = evaluate(tmp_path, sheared_beta(), path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


@pytest.mark.parametrize('function', ['cos', 'poly2'])
def test_perfect_crystal(function, potential_files, tmp_path):
    """Atoms on special positions and on the cell faces (fractional coordinates 0)."""
    model, path = potential_files[function]
    result = evaluate(tmp_path, read_crystal('beta'), path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


def test_rotated_cell(potential_files, tmp_path):
    """A rotated input gives the energy of the unrotated cell and its forces, rotated into LAMMPS' frame."""
    model, path = potential_files['cos']
    atoms = sheared_beta()
    rotated = atoms.copy()
    rotated.rotate(37.0, (1.0, 2.0, -0.5), rotate_cell=True)
    result = evaluate(tmp_path, rotated, path, ELEMENTS)
    # LAMMPS' cell = original cell @ rotation (rows are lattice vectors)
    rotation = np.linalg.solve(atoms.cell.array, result.cell)
    expected = reference(model, atoms.numbers, atoms.positions, atoms.cell.array)
    w = expected['virial']
    tensor = np.array([[w[0], w[3], w[4]], [w[3], w[1], w[5]], [w[4], w[5], w[2]]])
    tensor = rotation.T @ tensor @ rotation
    expected['virial'] = tensor[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
    expected['forces'] = expected['forces'] @ rotation
    assert_matches(result, expected, tolerance=1e-9)


@pytest.mark.parametrize('order', list(itertools.permutations(ELEMENTS)))
def test_every_element_order(order, potential_files, tmp_path):
    """Atom types in any order, named in that order in pair_coeff."""
    model, path = potential_files['poly2']
    result = evaluate(tmp_path, sheared_beta(seed=2), path, order)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


def test_perfect_crystal_with_a_real_zeta(tmp_path):
    """Collinear triplets of a perfect crystal round ``1 + lambda cos`` to just below 0: a real power of it must stay
    finite (it once gave NaN in both implementations)."""
    model = scaled_model(test_descriptor('cos', triplet_zeta=2.5), seed=5)
    atoms = read_crystal('beta')
    expected = reference(model, atoms.numbers, atoms.positions, atoms.cell.array)
    assert np.isfinite(expected['energy']) and np.all(np.isfinite(expected['forces']))
    path = write_pair_style_file(model, tmp_path / 'potential.glassceramic')
    result = evaluate(tmp_path, atoms, path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


@pytest.mark.parametrize('activation', ['softplus', 'silu'])
def test_activations_and_real_zeta(activation, tmp_path):
    model = scaled_model(test_descriptor('cos', triplet_zeta=2.5), activation=activation, seed=3)
    path = write_pair_style_file(model, tmp_path / 'potential.glassceramic')
    result = evaluate(tmp_path, sheared_beta(seed=3), path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


@pytest.mark.parametrize('kind', ['wide', 'narrow'])
def test_study_descriptor(kind, tmp_path):
    """The study's 165-input set at 7 A: wide functions by moments, narrow ones over triplets."""
    model = scaled_model(default_parameters(ELEMENTS, cutoff=7.0, angular_kind=kind), seed=4)
    path = write_pair_style_file(model, tmp_path / 'potential.glassceramic')
    atoms = read_crystal('beta').repeat((1, 2, 1))
    atoms.rattle(0.05, seed=4)
    result = evaluate(tmp_path, atoms, path, ELEMENTS)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))
