"""Neighbour pairs against ASE's neighbour list on skewed cells."""

import numpy as np
import pytest
from ase import Atoms
from ase.neighborlist import neighbor_list

from aiida_glassceramic.descriptors import NeighbourListError, build_neighbour_list, neighbour_pairs


def _skewed(natoms: int, cell: np.ndarray, seed: int) -> Atoms:
    rng = np.random.default_rng(seed)
    positions = rng.uniform(-0.3, 1.3, (natoms, 3)) @ cell  # some atoms outside the cell
    return Atoms('Li' * natoms, positions=positions, cell=cell, pbc=True)


@pytest.mark.parametrize(
    ('cell', 'cutoff'),
    [
        (np.array([[4.0, 0.0, 0.0], [2.5, 3.5, 0.0], [1.2, -1.4, 3.8]]), 5.0),  # cutoff larger than the cell
        (np.array([[9.0, 0.0, 0.0], [4.0, 8.0, 0.0], [-3.0, 2.0, 7.5]]), 3.5),
    ],
)
def test_pairs_equal_ase(cell, cutoff):
    atoms = _skewed(40, cell, seed=1)
    centres, neighbours, shifts = neighbour_pairs(atoms.positions, atoms.cell.array, cutoff)
    i, j, shift = neighbor_list('ijS', atoms, cutoff)
    assert len(centres) == len(i) > 0
    assert set(zip(centres, neighbours, map(tuple, shifts), strict=True)) == set(
        zip(i, j, map(tuple, shift), strict=True)
    )
    assert np.all(np.diff(centres) >= 0)


def test_triplets_equal_brute_force():
    atoms = _skewed(12, np.array([[6.0, 0.0, 0.0], [1.0, 6.0, 0.0], [0.5, 0.5, 6.0]]), seed=2)
    types = np.arange(12) % 2
    nl = build_neighbour_list(atoms.positions, atoms.cell.array, 4.0, types, triplet_cutoff=4.0)
    vectors = nl.vectors(atoms.positions, atoms.cell.array)
    expected = set()
    for p in range(nl.n_pairs):
        for q in range(p + 1, nl.n_pairs):
            if nl.centres[p] == nl.centres[q] and np.linalg.norm(vectors[q] - vectors[p]) < 4.0:
                expected.add((p, q))
    assert set(zip(nl.triplet_first, nl.triplet_second, strict=True)) == expected


def test_bad_geometry_is_refused():
    with pytest.raises(NeighbourListError, match='cell'):
        neighbour_pairs(np.zeros((2, 3)), np.zeros((3, 3)), 3.0)
    with pytest.raises(NeighbourListError, match='positions'):
        neighbour_pairs(np.zeros((2, 2)), np.eye(3), 3.0)
