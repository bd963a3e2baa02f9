"""Anion units counted on hand-built clusters of known composition."""

import ase
import numpy as np
import pytest

from aiida_glassceramic.analysis import AnalysisError, anion_speciation

TETRAHEDRON = np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3.0)


def ps4(centre):
    return [('P', centre)] + [('S', np.asarray(centre) + 2.05 * v) for v in TETRAHEDRON]


def p2s6(centre):
    """Two PS3 halves joined by a 2.2 A P-P bond along x."""
    atoms = []
    for sign in (-1, 1):
        p = np.asarray(centre) + np.array([sign * 1.1, 0.0, 0.0])
        atoms.append(('P', p))
        for angle in (0.0, 2.0944, 4.1888):
            atoms.append(('S', p + 2.05 * np.array([sign * 0.34, 0.94 * np.cos(angle), 0.94 * np.sin(angle)])))
    return atoms


def p2s7(centre):
    """Two PS4 sharing one bridging S (P-S-P angle ~ 120 deg)."""
    bridge = np.asarray(centre, dtype=float)
    atoms = [('S', bridge)]
    for sign in (-1, 1):
        p = bridge + 2.08 * np.array([sign * 0.866, -0.5, 0.0])
        atoms.append(('P', p))
        for direction in ([sign * 0.6, 0.5, 0.6], [sign * 0.6, 0.5, -0.6], [sign * 0.2, -0.98, 0.0]):
            atoms.append(('S', p + 2.05 * np.asarray(direction) / np.linalg.norm(direction)))
    return atoms


def build(*groups, box=40.0):
    items = [item for group in groups for item in group]
    return ase.Atoms([s for s, _ in items], positions=[p for _, p in items], cell=[box] * 3, pbc=True)


def test_clusters_of_every_kind():
    atoms = build(
        ps4([5, 5, 5]),
        ps4([38.5, 5, 5]),  # across the periodic boundary
        p2s6([15, 15, 15]),
        p2s7([25, 25, 25]),
        [('S', [5, 30, 30]), ('S', [10, 30, 30]), ('Li', [20, 30, 30])],
        [('S', [30, 10, 5]), ('S', [32.05, 10, 5])],  # an S2 dimer
    )
    counts = anion_speciation(atoms)
    assert counts['PS4'] == 2
    assert counts['P2S6'] == 1
    assert counts['P2S7'] == 1
    assert counts['isolated_S'] == 2
    assert counts['S_S_bonds'] == 1
    assert counts['P_P_bonds'] == 1
    assert counts['bridging_S'] == 1
    assert counts['other'] == 1  # the S2 dimer


def test_beta_crystal_is_all_ps4():
    from aiida_glassceramic.structures import read_crystal

    counts = anion_speciation(read_crystal('beta').repeat((2, 2, 2)))
    assert counts['PS4'] == 32
    assert counts['other'] == counts['S_S_bonds'] == counts['isolated_S'] == 0


@pytest.mark.parametrize('cutoff', [1.9, 2.5])
def test_cutoff_changes_the_bond_graph(cutoff):
    counts = anion_speciation(build(ps4([5, 5, 5])), cutoffs={('P', 'S'): cutoff})
    assert counts['PS4'] == (1 if cutoff > 2.05 else 0)


@pytest.mark.parametrize(
    ('cutoffs', 'message'),
    [
        ({('P', 'S'): -1.0}, r"cutoffs \('P', 'S'\) `-1.0`: must be a number between 1.5 and 3.0"),
        ({('S', 'P'): 0.5}, r"cutoffs \('S', 'P'\) `0.5`"),
        ({('Li', 'S'): 2.5}, r"cutoffs `\('Li', 'S'\)`: not a bond of the speciation"),
        ({('S', 'S'): 3.4}, 'between 1.5 and 3.0'),
    ],
)
def test_meaningless_cutoffs_are_refused(cutoffs, message):
    with pytest.raises(AnalysisError, match=message):
        anion_speciation(build(ps4([5, 5, 5])), cutoffs=cutoffs)


def test_cutoff_given_in_either_order_is_used():
    atoms = build(ps4([5, 5, 5]))
    assert anion_speciation(atoms, cutoffs={('S', 'P'): 1.9}) == anion_speciation(atoms, cutoffs={('P', 'S'): 1.9})
    assert anion_speciation(atoms, cutoffs={('S', 'P'): 1.9})['PS4'] == 0
