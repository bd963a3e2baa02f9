"""The cell-list neighbour search finds exactly the pairs of ASE's neighbour list, in any cell shape."""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from aiida_glassceramic.analysis import AnalysisError, neighbour_list
from tests.analysis.builders import beta, sheared


@pytest.mark.parametrize('cutoff', [3.0, 10.0, 14.0])
@pytest.mark.parametrize('shape', ['orthorhombic', 'triclinic'])
def test_same_pairs_as_ase(cutoff, shape):
    atoms = beta((1, 2, 2))
    atoms.rattle(0.1, seed=3)
    if shape == 'triclinic':
        atoms = sheared(atoms)
    pairs = neighbour_list(atoms.positions, atoms.cell.array, cutoff)
    i, j, d, shifts = neighbor_list('ijdS', atoms, cutoff)
    vectors = atoms.positions[j] + shifts @ atoms.cell.array - atoms.positions[i]
    ours = np.lexsort((*np.round(pairs.vectors, 6).T, pairs.j, pairs.i))
    theirs = np.lexsort((*np.round(vectors, 6).T, j, i))
    assert len(pairs.i) == len(i)
    np.testing.assert_array_equal(pairs.i[ours], i[theirs])
    np.testing.assert_array_equal(pairs.j[ours], j[theirs])
    np.testing.assert_allclose(pairs.distances[ours], d[theirs], atol=1e-9)
    np.testing.assert_allclose(pairs.vectors[ours], vectors[theirs], atol=1e-9)


def test_half_list_holds_each_pair_once():
    atoms = sheared(beta())
    full = neighbour_list(atoms.positions, atoms.cell.array, 9.0)
    half = neighbour_list(atoms.positions, atoms.cell.array, 9.0, full=False)
    assert 2 * len(half.i) == len(full.i)
    np.testing.assert_allclose(np.sort(np.repeat(half.distances, 2)), np.sort(full.distances))


def test_zero_volume_is_refused():
    with pytest.raises(AnalysisError, match='zero volume'):
        neighbour_list(np.zeros((2, 3)), np.diag([5.0, 5.0, 0.0]), 3.0)
