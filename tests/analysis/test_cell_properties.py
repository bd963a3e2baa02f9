"""Every analysis that takes a cell against a brute-force image sum written here, on generated cells, perfect
crystals and atoms on special positions (see :mod:`tests.geometry`)."""

import ase
import numpy as np
from hypothesis import assume, given
from hypothesis import strategies as st

from aiida_glassceramic.analysis import (
    anion_speciation,
    entropy_fingerprint,
    neighbour_list,
    pair_distribution,
    unwrapped_positions,
)
from aiida_glassceramic.analysis.speciation import BOND_CUTOFFS
from tests.geometry import assert_pairs_match, brute_force_pairs, cells, periodic_atoms


@given(periodic_atoms(), st.floats(1.0, 6.0), st.booleans())
def test_analysis_pairs_equal_brute_force(atoms, cutoff, full):
    pairs = neighbour_list(atoms.positions, atoms.cell.array, cutoff, full=full)
    found = {
        (int(i), int(j), *map(int, np.round(np.linalg.solve(atoms.cell.array.T, v - d).T))): float(r)
        for i, j, v, d, r in zip(
            pairs.i,
            pairs.j,
            pairs.vectors,
            atoms.positions[pairs.j] - atoms.positions[pairs.i],
            pairs.distances,
            strict=True,
        )
    }
    if full:
        assert_pairs_match(found, atoms.positions, atoms.cell.array, cutoff)
    else:  # each pair once: with its reverse, the full set
        reverse = {(j, i, *(-np.array(s))): d for (i, j, *s), d in found.items()}
        assert not set(found) & set(reverse)
        assert_pairs_match({**found, **reverse}, atoms.positions, atoms.cell.array, cutoff)


@given(periodic_atoms(min_height=2.5), st.floats(3.0, 7.0), st.integers(5, 40))
def test_rdf_equals_brute_force_histogram(atoms, rmax, nbins):
    assume(len(atoms) > 1)
    pairs = brute_force_pairs(atoms.positions, atoms.cell.array, rmax)
    distances = np.array(list(pairs.values()))
    edges = np.linspace(0.0, rmax, nbins + 1)
    counts = np.histogram(distances, edges)[0]  # directed pairs: every pair twice
    shells = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    natoms, volume = len(atoms), atoms.get_volume()
    expected = volume * counts / (natoms * (natoms - 1) * shells)
    np.testing.assert_allclose(pair_distribution(atoms, rmax, nbins).total, expected, rtol=1e-10, atol=1e-12)


def brute_force_entropy(atoms, cutoff, sigma, average_cutoff):
    """Pair entropy of every atom (all atoms build g) by the formula of LAMMPS ``compute entropy/atom``."""
    natoms = len(atoms)
    pairs = brute_force_pairs(atoms.positions, atoms.cell.array, max(cutoff, average_cutoff))
    density = natoms / atoms.get_volume()
    radii = np.arange(int(cutoff / sigma) + 1) * sigma
    entropy = np.zeros(natoms)
    for centre in range(natoms):
        gofr = np.zeros(len(radii))
        for (i, *_), distance in pairs.items():
            if i != centre or distance >= cutoff:
                continue
            for k in range(1, len(radii)):
                if abs(k - int(np.floor(distance / sigma))) <= 3:
                    gaussian = np.exp(-((distance - radii[k]) ** 2) / (2 * sigma**2))
                    gofr[k] += gaussian / (4 * np.pi * density * np.sqrt(2 * np.pi) * sigma * radii[k] ** 2)
        integrand = np.array(
            [(g * np.log(g) - g + 1.0 if g >= 1e-10 else 1.0) * r**2 for g, r in zip(gofr, radii, strict=True)]
        )
        entropy[centre] = -2 * np.pi * density * np.trapezoid(integrand, dx=sigma)
    neighbours = [
        [j for (i, j, *_), d in pairs.items() if i == centre and d < average_cutoff] for centre in range(natoms)
    ]
    averaged = np.array([(entropy[c] + entropy[n].sum()) / (1 + len(n)) for c, n in enumerate(neighbours)])
    return entropy, averaged


@given(periodic_atoms(max_atoms=6, min_height=2.5), st.floats(2.0, 4.0), st.floats(0.1, 0.2), st.floats(1.0, 3.5))
def test_entropy_fingerprint_equals_brute_force(atoms, cutoff, sigma, average_cutoff):
    assume(len(atoms) <= 64)
    result = entropy_fingerprint(
        atoms, species=None, cutoff=cutoff, sigma=sigma, average_cutoff=average_cutoff, sublattice=False
    )
    entropy, averaged = brute_force_entropy(atoms, cutoff, sigma, average_cutoff)
    np.testing.assert_allclose(result.entropy, entropy, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(result.averaged, averaged, rtol=1e-9, atol=1e-9)


def brute_force_speciation(atoms) -> dict[str, int]:
    """PS4 units, S-S and P-P bonds and bridging S from brute-force bonds and a union-find written here."""
    symbols = atoms.get_chemical_symbols()
    limit = {frozenset(pair): value for pair, value in BOND_CUTOFFS.items()}
    pairs = brute_force_pairs(atoms.positions, atoms.cell.array, max(BOND_CUTOFFS.values()))
    bonds = [
        (i, j)
        for (i, j, *_), d in pairs.items()
        if {symbols[i], symbols[j]} <= {'P', 'S'} and d < limit[frozenset((symbols[i], symbols[j]))]
    ]
    parent = list(range(len(atoms)))

    def root(a):
        while parent[a] != a:
            a = parent[a]
        return a

    for i, j in bonds:
        parent[root(i)] = root(j)
    kinds = [(symbols[i], symbols[j]) for i, j in bonds]
    p_partners = [sum(1 for i, j in bonds if i == s and symbols[j] == 'P') for s in range(len(atoms))]  # images count
    components: dict[int, list[int]] = {}
    for atom, symbol in enumerate(symbols):
        if symbol in ('P', 'S'):
            components.setdefault(root(atom), []).append(atom)
    s_s_in = {root(i) for (i, j), k in zip(bonds, kinds, strict=True) if k == ('S', 'S')}
    p_p_in = {root(i) for (i, j), k in zip(bonds, kinds, strict=True) if k == ('P', 'P')}
    ps4 = sum(
        1
        for key, members in components.items()
        if [symbols[m] for m in members].count('P') == 1 and len(members) == 5 and key not in s_s_in | p_p_in
    )
    return {
        'PS4': ps4,
        'S_S_bonds': kinds.count(('S', 'S')) // 2,
        'P_P_bonds': kinds.count(('P', 'P')) // 2,
        'bridging_S': sum(1 for s, count in enumerate(p_partners) if symbols[s] == 'S' and count >= 2),
    }


@given(periodic_atoms(max_atoms=12, min_height=2.0, symbols=('Li', 'P', 'S', 'S')))
def test_speciation_equals_brute_force(atoms):
    counts = anion_speciation(atoms)
    for key, value in brute_force_speciation(atoms).items():
        assert counts[key] == value, key


@given(cells(min_height=3.0), st.integers(1, 6), st.integers(0, 2**32 - 1), st.booleans())
def test_unwrapping_recovers_a_walk_across_faces(cell, natoms, seed, flags):
    """A walk through the cell faces: along a, a third of a cell per frame, every third frame exactly on a face
    (fractional -1e-17, 0 or an integer); along b and c small random steps. Wrapped into the cell, then unwrapped
    by minimum image or by image flags, it must come back as it was."""
    rng = np.random.default_rng(seed)
    moves = rng.integers(-1, 2, size=(10, natoms))
    faces = np.concatenate([np.zeros((1, natoms)), np.cumsum(moves, axis=0)])
    along_a = np.concatenate([faces[:-1, None] + moves[:, None] * np.array([0, 1, 2])[None, :, None] / 3])
    along_a = np.concatenate([along_a.reshape(-1, natoms), faces[-1:]])
    along_a[::3] += rng.choice([-1e-17, 0.0], size=along_a[::3].shape)
    fractional = np.cumsum(rng.normal(scale=0.05, size=(len(along_a), natoms, 3)), axis=0)
    fractional[:, :, 0] = along_a
    walk = fractional @ cell
    frames = []
    for frame in fractional:
        atoms = ase.Atoms('Li' * natoms, positions=(frame % 1.0) @ cell, cell=cell, pbc=True)
        if flags:
            atoms.arrays['images'] = np.floor(frame).astype(int)
            atoms.positions = (frame - np.floor(frame)) @ cell
        frames.append(atoms)
    unwrapped, _ = unwrapped_positions(frames)
    np.testing.assert_allclose(unwrapped - unwrapped[0], walk - walk[0], atol=1e-9)
