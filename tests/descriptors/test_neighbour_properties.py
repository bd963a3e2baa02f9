"""The neighbour search against a brute-force image sum on generated cells, perfect crystals and special positions."""

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from aiida_glassceramic.descriptors import build_neighbour_list, neighbour_pairs
from aiida_glassceramic.descriptors.periodic import wrap_fractional, wrap_positions
from tests.geometry import SPECIAL_FRACTIONS, assert_pairs_match, crystal, periodic_structures


def _found(positions, cell, cutoff, types=None) -> dict[tuple, float]:
    centres, neighbours, shifts = neighbour_pairs(positions, cell, cutoff, types)
    vectors = positions[neighbours] - positions[centres] + shifts @ cell
    found = {
        (int(i), int(j), *map(int, s)): float(d)
        for i, j, s, d in zip(centres, neighbours, shifts, np.linalg.norm(vectors, axis=1), strict=True)
    }
    assert len(found) == len(centres), 'a pair was returned twice'
    return found


@given(periodic_structures(), st.floats(1.0, 7.0))
def test_pairs_equal_brute_force(structure, cutoff):
    """Every pair within the cut-off exactly once, with the right lattice shift; never a pair beyond it.
    Cells as thin as 2 A against cut-offs up to 7 A reach several images along one axis."""
    positions, cell = structure
    assert_pairs_match(_found(positions, cell, cutoff), positions, cell, cutoff)


@given(periodic_structures(max_atoms=8), st.floats(1.5, 6.0), st.integers(0, 2**32 - 1))
def test_typed_pairs_are_sorted_and_complete(structure, cutoff, seed):
    """With element types the pairs are the same set, sorted by centre and then by the neighbour's type."""
    positions, cell = structure
    types = np.random.default_rng(seed).integers(0, 3, len(positions))
    centres, neighbours, _ = neighbour_pairs(positions, cell, cutoff, types)
    key = centres * 3 + types[neighbours]
    assert np.all(np.diff(key) >= 0)
    assert_pairs_match(_found(positions, cell, cutoff, types), positions, cell, cutoff)


@given(periodic_structures(max_atoms=6), st.floats(2.0, 5.0))
def test_triplets_equal_brute_force(structure, cutoff):
    positions, cell = structure
    types = np.arange(len(positions)) % 2
    nl = build_neighbour_list(positions, cell, cutoff, types, triplet_cutoff=cutoff)
    vectors = nl.vectors(positions, cell)
    expected = {
        (p, q)
        for p in range(nl.n_pairs)
        for q in range(p + 1, nl.n_pairs)
        if nl.centres[p] == nl.centres[q] and np.linalg.norm(vectors[q] - vectors[p]) < cutoff
    }
    assert set(zip(nl.triplet_first.tolist(), nl.triplet_second.tolist(), strict=True)) == expected


@given(st.lists(st.sampled_from(SPECIAL_FRACTIONS) | st.floats(-3.0, 3.0), min_size=3, max_size=30))
def test_wrapping_keeps_fraction_and_image_consistent(values):
    fractional = np.array(values)
    wrapped, image = wrap_fractional(fractional)
    assert np.all((wrapped >= 0.0) & (wrapped < 1.0))
    np.testing.assert_allclose(wrapped + image, fractional, rtol=0, atol=1e-15)


def test_atom_at_minus_1e_16_pairs_at_its_true_distance():
    """The smallest case of the bug: a coordinate of -1e-16 wrapped to 0 of the wrong image shifted every pair."""
    positions = np.array([[-1e-16, 0.0, 0.0], [2.5, 0.0, 0.0]])
    found = _found(positions, 5.0 * np.eye(3), 3.0)
    assert sorted(found.values()) == [2.5] * 4


def test_perfect_supercell_has_the_neighbours_of_its_crystal():
    """Each atom of a 2x2x2 beta supercell has the same neighbour distances as in the 32-atom cell."""
    unit, cell_of_eight = crystal('beta'), crystal('beta', (2, 2, 2))

    def distances(atoms):
        centres, neighbours, shifts = neighbour_pairs(atoms.positions, atoms.cell.array, 5.0)
        vectors = atoms.positions[neighbours] - atoms.positions[centres] + shifts @ atoms.cell.array
        lengths = np.round(np.linalg.norm(vectors, axis=1), 8)
        return [sorted(lengths[centres == i]) for i in range(len(atoms))]

    per_atom = distances(unit)
    assert all(d == per_atom[i % len(unit)] for i, d in enumerate(distances(cell_of_eight)))


def test_wrap_positions_lands_inside_and_returns_the_image():
    cell = np.array([[5.0, 0.0, 0.0], [2.0, 4.0, 0.0], [-1.0, 1.0, 6.0]])
    positions = np.array([[-1e-17, 0.0, 0.0], [5.0, 0.0, 0.0], [-0.3, -4.2, 13.0]])
    wrapped, image = wrap_positions(positions, cell)
    np.testing.assert_allclose(wrapped + image @ cell, positions, atol=1e-12)
    fractional = np.linalg.solve(cell.T, wrapped.T).T
    assert np.all((fractional > -1e-12) & (fractional < 1.0))
