"""S around each P and the shortest pair per element pair, against brute-force minimum-image distances."""

from __future__ import annotations

import numpy as np

from aiida_glassceramic.analysis import shortest_pairs, sulfur_per_phosphorus
from aiida_glassceramic.structures import read_crystal


def test_beta_has_four_sulfur_per_phosphorus_and_its_shortest_pairs():
    atoms = read_crystal('beta').repeat((1, 2, 3))
    assert sulfur_per_phosphorus(atoms).tolist() == [4] * 24
    distances = atoms.get_all_distances(mic=True)
    symbols = np.array(atoms.get_chemical_symbols())
    found = shortest_pairs(atoms, 4.0)
    for key, value in found.items():
        a, b = key.split('-')
        pairs = distances[np.ix_(symbols == a, symbols == b)]
        assert abs(value - pairs[pairs > 0].min()) < 1e-9
    assert abs(found['P-S'] - 2.042) < 0.01


def test_a_displaced_sulfur_breaks_one_unit_and_makes_a_short_contact():
    atoms = read_crystal('beta')
    symbols = np.array(atoms.get_chemical_symbols())
    sulfur, phosphorus = np.flatnonzero(symbols == 'S')[0], np.flatnonzero(symbols == 'P')
    bonds = atoms.get_distances(sulfur, phosphorus, mic=True, vector=True)
    nearest = np.argmin(np.linalg.norm(bonds, axis=1))
    bond = np.linalg.norm(bonds[nearest])
    atoms.positions[sulfur] += 0.3 * bonds[nearest]  # 0.7 of the bond
    assert sulfur_per_phosphorus(atoms).tolist() == [4] * 4, 'still four S, one of them too close'
    assert abs(shortest_pairs(atoms)['P-S'] - 0.7 * bond) < 1e-9
    atoms.positions[sulfur] -= 0.8 * bonds[nearest]  # 1.5 bonds away
    assert sorted(sulfur_per_phosphorus(atoms).tolist()) == [3, 4, 4, 4]
