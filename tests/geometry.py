"""Generated periodic cells for property-based tests, and the brute-force image sum they are checked against.

The cells are where wrapping bugs live: orthorhombic, triclinic, rotated and strongly sheared cells, cells thinner
than twice the cut-off along one axis, atoms on faces, edges and corners with fractional coordinates of exactly 0,
1 and -1e-17, atoms several cells away, and perfect crystals with their supercells.
"""

from __future__ import annotations

import itertools

import ase
import numpy as np
from hypothesis import assume
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation

from aiida_glassceramic.structures import read_crystal, supercell

MIN_SEPARATION = 0.5  # A, as every entry point of the package demands
SPECIAL_FRACTIONS = (0.0, 1.0, -1e-17, 1e-17, 1.0 - 1e-16, 0.5, 0.25, -1.0, 2.0, -1e-12)


@st.composite
def cells(draw, min_height: float = 2.0) -> np.ndarray:
    """A cell (rows are lattice vectors, A): orthorhombic, triclinic or strongly sheared, possibly rotated."""
    kind = draw(st.sampled_from(['orthorhombic', 'triclinic', 'sheared']))
    lengths = draw(st.lists(st.floats(3.0, 9.0), min_size=3, max_size=3))
    cell = np.diag(lengths)
    if kind != 'orthorhombic':
        reach = 0.5 if kind == 'triclinic' else 2.0
        tilts = draw(st.lists(st.floats(-reach, reach), min_size=3, max_size=3))
        cell[1, 0] = tilts[0] * lengths[0]
        cell[2, 0] = tilts[1] * lengths[0]
        cell[2, 1] = tilts[2] * lengths[1]
    if draw(st.booleans()):
        cell = cell @ rotation(draw(st.integers(0, 2**32 - 1))).T
    heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    if heights.min() < min_height:
        cell = cell * (min_height / heights.min())
    return cell


@st.composite
def fractional_positions(draw, max_atoms: int = 10) -> np.ndarray:
    """Fractional coordinates: random ones, special values (faces, edges, corners, +-1e-17) and far images."""
    natoms = draw(st.integers(1, max_atoms))
    coordinate = st.one_of(st.sampled_from(SPECIAL_FRACTIONS), st.floats(-0.05, 1.05))
    values = draw(st.lists(coordinate, min_size=3 * natoms, max_size=3 * natoms))
    return np.array(values, dtype=float).reshape(natoms, 3)


@st.composite
def periodic_atoms(draw, max_atoms: int = 10, min_height: float = 2.0, symbols=('Li', 'P', 'S')) -> ase.Atoms:
    """Generated atoms (random ``symbols``) in a generated cell, or a perfect crystal (bundled beta or gamma, as
    it is, as a supercell, rotated, or in an equivalent sheared cell of the same lattice)."""
    if draw(st.integers(0, 3)) == 0:
        atoms = crystal(draw(st.sampled_from(['beta', 'gamma'])), draw(st.sampled_from([(1, 1, 1), (2, 1, 1)])))
        if draw(st.booleans()):
            atoms = equivalent_cell(atoms, draw(st.sampled_from(UNIMODULAR)))
        if draw(st.booleans()):
            atoms = rotated(atoms, draw(st.integers(0, 2**32 - 1)))
        return atoms
    cell = draw(cells(min_height))
    fractional = draw(fractional_positions(max_atoms))
    names = draw(st.lists(st.sampled_from(symbols), min_size=len(fractional), max_size=len(fractional)))
    assume(not brute_force_pairs(fractional @ cell, cell, MIN_SEPARATION))  # no two atoms on top of each other
    return ase.Atoms(names, positions=fractional @ cell, cell=cell, pbc=True)


@st.composite
def periodic_structures(draw, max_atoms: int = 10, min_height: float = 2.0) -> tuple[np.ndarray, np.ndarray]:
    """(positions, cell) of :func:`periodic_atoms`."""
    atoms = draw(periodic_atoms(max_atoms, min_height))
    return atoms.positions, atoms.cell.array


def rotation(seed: int) -> np.ndarray:
    """A random proper rotation matrix."""
    return Rotation.random(random_state=seed).as_matrix()


def crystal(name: str, repeats=(1, 1, 1)) -> ase.Atoms:
    """A bundled crystal (unrattled) as a supercell."""
    return supercell(read_crystal(name), repeats)


def rotated(atoms: ase.Atoms, seed: int) -> ase.Atoms:
    """The same structure with cell and positions rotated as a whole."""
    matrix = rotation(seed)
    copy = atoms.copy()
    copy.set_cell(atoms.cell.array @ matrix.T, scale_atoms=False)
    copy.positions = atoms.positions @ matrix.T
    return copy


UNIMODULAR = (
    np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1]]),
    np.array([[1, 0, 0], [0, 1, 0], [-1, 1, 1]]),
    np.array([[0, 1, 0], [0, 0, 1], [1, 0, 0]]),
    np.array([[1, 1, 0], [0, 1, 1], [0, 0, 1]]),
)


def equivalent_cell(atoms: ase.Atoms, matrix: np.ndarray) -> ase.Atoms:
    """The same crystal (same atoms, same lattice) described by the cell ``matrix @ cell`` (det 1)."""
    copy = atoms.copy()
    copy.set_cell(matrix @ atoms.cell.array, scale_atoms=False)
    return copy


def brute_force_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float) -> dict[tuple, float]:
    """Every directed pair ``(i, j, shift)`` with ``|r_j - r_i + shift @ cell|`` below ``cutoff``: an image sum over
    all lattice shifts that can reach, O(N^2 x shifts)."""
    fractional = np.linalg.solve(cell.T, positions.T).T
    heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    spread = np.ceil(np.ptp(fractional, axis=0)).astype(int) if len(positions) else np.zeros(3, int)
    reach = np.ceil(cutoff / heights).astype(int) + spread + 1
    shifts = np.array(list(itertools.product(*(range(-r, r + 1) for r in reach))))
    offsets = shifts @ cell
    pairs = {}
    for i, j in itertools.product(range(len(positions)), repeat=2):
        vectors = positions[j] - positions[i] + offsets
        distances = np.linalg.norm(vectors, axis=1)
        for k in np.flatnonzero((distances < cutoff) & ((i != j) | np.any(shifts != 0, axis=1))):
            pairs[(i, j, *shifts[k])] = distances[k]
    return pairs


def assert_pairs_match(found: dict[tuple, float], positions: np.ndarray, cell: np.ndarray, cutoff: float) -> None:
    """``found`` (pair -> distance) holds every brute-force pair, and no pair at or beyond the cut-off.

    A pair within 1e-9 A of the cut-off may go either way (rounding); nothing farther may.
    """
    reference = brute_force_pairs(positions, cell, cutoff + 1e-9)
    beyond = {pair: d for pair, d in found.items() if not d < cutoff}
    assert not beyond, f'pairs at or beyond the cut-off {cutoff}: {list(beyond.items())[:5]}'
    unknown = set(found) - set(reference)
    assert not unknown, f'pairs that are no pairs: {sorted(unknown)[:5]}'
    missing = {pair for pair, d in reference.items() if d < cutoff - 1e-9} - set(found)
    assert not missing, f'pairs not found: {sorted(missing)[:5]}'
