"""Symmetry functions against a direct evaluation of the n2p2 formulas, and their invariances."""

import itertools

import numpy as np
import pytest
import torch
from ase import Atoms
from ase.neighborlist import neighbor_list

from aiida_glassceramic.descriptors import (
    AngularFunction,
    DescriptorParameterError,
    RadialFunction,
    SymmetryFunctionParameters,
    SymmetryFunctions,
    build_neighbour_list,
    default_parameters,
    pair_vectors,
)

CUTOFF = 4.5
PARAMETERS = SymmetryFunctionParameters(
    ('Li', 'P', 'S'),
    CUTOFF,
    (RadialFunction(0.5), RadialFunction(1.0, 2.5)),
    (
        AngularFunction(0.1, 1.0, 1.0),
        AngularFunction(0.05, 4.0, -1.0, 1.0),
        AngularFunction(0.1, 2.0, -1.0, 0.0, 'wide'),  # separable: summed from moments
        AngularFunction(0.02, 3.5, 1.0, 0.5, 'wide'),  # non-integer zeta: summed over triplets
        AngularFunction(0.05, 4.0, 1.0, 1.0, 'wide'),
        AngularFunction(0.08, 1.0, 1.0, 0.5, 'wide'),
        AngularFunction(0.03, 3.0, -1.0, 1.5, 'wide'),
    ),
)
SUBSETS = {'narrow': [0, 1], 'separable': [2, 4, 5, 6], 'mixed': list(range(7))}


def _structure(seed: int = 0) -> Atoms:
    rng = np.random.default_rng(seed)
    cell = np.array([[6.5, 0.0, 0.0], [1.0, 6.0, 0.0], [0.7, -0.8, 6.2]])
    symbols = ['Li'] * 6 + ['P'] * 2 + ['S'] * 6
    return Atoms(symbols, scaled_positions=rng.uniform(size=(14, 3)), cell=cell, pbc=True)


def _features(atoms: Atoms, parameters=PARAMETERS) -> np.ndarray:
    types = np.array([parameters.elements.index(s) for s in atoms.get_chemical_symbols()])
    nl = build_neighbour_list(
        atoms.positions,
        atoms.cell.array,
        parameters.cutoff,
        types,
        triplet_cutoff=parameters.triplet_cutoff,
        angular=parameters.needs_triplets,  # the separable functions need no triplets
    )
    vectors = pair_vectors(torch.tensor(atoms.positions), torch.tensor(atoms.cell.array), nl)
    return SymmetryFunctions(parameters)(vectors, nl, torch.as_tensor(types), len(atoms)).numpy()


def _direct(atoms: Atoms, parameters: SymmetryFunctionParameters) -> np.ndarray:
    """The n2p2 definitions evaluated term by term from ASE's neighbour list."""
    i, j, d = neighbor_list('ijD', atoms, parameters.cutoff)
    elements = parameters.elements
    kind = np.array([elements.index(s) for s in atoms.get_chemical_symbols()])
    pairs = parameters.element_pairs
    rc = parameters.cutoff

    def fc(r):
        if parameters.cutoff_function == 'poly2':  # n2p2's poly2: one minus the smootherstep 6x^5 - 15x^4 + 10x^3
            x = min(r / rc, 1.0)
            return 1.0 - (6.0 * x**5 - 15.0 * x**4 + 10.0 * x**3)
        return 0.5 * (np.cos(np.pi * r / rc) + 1.0) * (r < rc)

    out = np.zeros((len(atoms), parameters.n_features))
    nrad, nang = len(parameters.radial), len(parameters.angular)
    for centre in range(len(atoms)):
        mine = np.flatnonzero(i == centre)
        for m in mine:
            r = np.linalg.norm(d[m])
            for q, f in enumerate(parameters.radial):
                out[centre, kind[j[m]] * nrad + q] += np.exp(-f.eta * (r - f.rs) ** 2) * fc(r)
        for m, n in itertools.combinations(mine, 2):
            rij, rik, rjk = np.linalg.norm(d[m]), np.linalg.norm(d[n]), np.linalg.norm(d[n] - d[m])
            cosine = d[m] @ d[n] / (rij * rik)
            row = len(elements) * nrad + pairs.index(tuple(sorted((kind[j[m]], kind[j[n]])))) * nang
            for q, f in enumerate(parameters.angular):
                radial = (rij - f.rs) ** 2 + (rik - f.rs) ** 2
                cut = fc(rij) * fc(rik)
                if f.kind == 'narrow':
                    radial += (rjk - f.rs) ** 2
                    cut *= fc(rjk)
                value = 2 ** (1 - f.zeta) * (1 + f.lambda_ * cosine) ** f.zeta * np.exp(-f.eta * radial) * cut
                out[centre, row + q] += value
    return out


@pytest.mark.parametrize('cutoff_function', ['cos', 'poly2'])
@pytest.mark.parametrize('subset', sorted(SUBSETS))
def test_features_equal_direct_evaluation(subset, cutoff_function):
    angular = tuple(PARAMETERS.angular[index] for index in SUBSETS[subset])
    parameters = SymmetryFunctionParameters(
        PARAMETERS.elements, CUTOFF, PARAMETERS.radial, angular, cutoff_function=cutoff_function
    )
    assert parameters.needs_triplets == (subset != 'separable')
    atoms = _structure()
    expected = _direct(atoms, parameters)
    assert np.abs(expected).max() > 0.1
    np.testing.assert_allclose(_features(atoms, parameters), expected, rtol=1e-10, atol=1e-12)


def test_invariance_rotation_translation_permutation_supercell():
    atoms = _structure(3)
    reference = _features(atoms)
    rotated = atoms.copy()
    rotated.rotate(37.0, (1.0, 2.0, -0.5), rotate_cell=True)
    rotated.translate((0.3, -1.7, 2.2))
    np.testing.assert_allclose(_features(rotated), reference, atol=1e-10)
    order = np.concatenate([np.random.default_rng(0).permutation(6), [7, 6], 8 + np.arange(6)[::-1]])
    np.testing.assert_allclose(_features(atoms[order]), reference[order], atol=1e-10)
    supercell = _features(atoms.repeat((2, 2, 2)))
    np.testing.assert_allclose(supercell, np.tile(reference, (8, 1)), atol=1e-10)


@pytest.mark.parametrize(
    ('cutoff_function', 'second_derivative'), [('cos', np.pi**2 / (2.0 * CUTOFF**2)), ('poly2', 0.0)]
)
def test_cutoff_function_derivatives_at_the_cutoff(cutoff_function, second_derivative):
    """f_c(0) = 1, f_c(r_c / 2) = 1/2, f_c' = 0 at r_c for both; f_c'' just inside r_c is pi^2 / (2 r_c^2) for the
    cosine (a jump to the 0 outside) and 0 for poly2 (continuous)."""
    parameters = SymmetryFunctionParameters(('Li',), CUTOFF, (RadialFunction(0.0),), (), cutoff_function)
    functions = SymmetryFunctions(parameters)
    r = torch.tensor([0.0, CUTOFF / 2, CUTOFF - 1e-6], dtype=torch.float64, requires_grad=True)
    value = functions.cutoff_function(r)
    (first,) = torch.autograd.grad(value.sum(), r, create_graph=True)
    (second,) = torch.autograd.grad(first.sum(), r)
    np.testing.assert_allclose(value.detach()[:2].numpy(), [1.0, 0.5], atol=1e-14)
    assert abs(first[2].item()) < 1e-5
    assert second[2].item() == pytest.approx(second_derivative, abs=1e-5)
    outside = torch.tensor([CUTOFF, CUTOFF + 1.0], dtype=torch.float64)
    assert functions.cutoff_function(outside).abs().max().item() == 0.0


def test_default_set_has_165_inputs_and_round_trips():
    parameters = default_parameters(['Li', 'P', 'S'])
    assert parameters.n_features == 165 == 3 * 7 + 6 * 24
    assert len(parameters.labels()) == 165
    assert SymmetryFunctionParameters.from_dict(parameters.to_dict()) == parameters
    smooth = default_parameters(['Li', 'P', 'S'], cutoff_function='poly2')
    assert SymmetryFunctionParameters.from_dict(smooth.to_dict()) == smooth != parameters
    assert not parameters.needs_triplets
    narrow = default_parameters(['Li', 'P', 'S'], angular_kind='narrow')
    assert narrow.n_features == 165 and narrow.needs_triplets and narrow.triplet_cutoff == narrow.cutoff


def test_default_set_equals_direct_evaluation():
    """The default (separable) set at a short cut-off, on a triclinic cell, term by term."""
    parameters = default_parameters(['Li', 'P', 'S'], cutoff=4.0)
    atoms = _structure(5)
    expected = _direct(atoms, parameters)
    np.testing.assert_allclose(_features(atoms, parameters), expected, rtol=1e-10, atol=1e-12)


def test_bad_parameters_name_the_field():
    with pytest.raises(DescriptorParameterError, match='zeta'):
        SymmetryFunctionParameters(('Li',), 5.0, (), (AngularFunction(0.1, 0.5, 1.0),))
    with pytest.raises(DescriptorParameterError, match='elements'):
        SymmetryFunctionParameters(('Li', 'Xx'), 5.0, (RadialFunction(0.1),), ())
    with pytest.raises(DescriptorParameterError, match='cutoff'):
        SymmetryFunctionParameters(('Li',), -1.0, (RadialFunction(0.1),), ())
    with pytest.raises(DescriptorParameterError, match="`cutoff_function`: 'tanh'; choose one of"):
        SymmetryFunctionParameters(('Li',), 5.0, (RadialFunction(0.1),), (), 'tanh')
