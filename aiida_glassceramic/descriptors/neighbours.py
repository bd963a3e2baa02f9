"""Periodic neighbour pairs and triplets from a cell list: any cell shape, linear in the number of atoms.

Pairs are directed (``i -> j`` and ``j -> i`` both present), sorted by centre, and carry the integer cell
shift ``S`` such that the neighbour vector is ``positions[j] - positions[i] + S @ cell``. Triplets are pairs
of pairs ``(p, q)`` with the same centre and ``p < q``; with ``triplet_cutoff`` only those with
``r_jk < triplet_cutoff`` are kept (the narrow angular functions vanish beyond the cut-off).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np


class NeighbourListError(ValueError):
    """Positions or cell that cannot be searched for neighbours."""


@dataclass(frozen=True)
class NeighbourList:
    """Pairs (``centres``, ``neighbours``, ``shifts``) and triplets (``triplet_first``, ``triplet_second``)."""

    centres: np.ndarray
    neighbours: np.ndarray
    shifts: np.ndarray
    triplet_first: np.ndarray
    triplet_second: np.ndarray
    cutoff: float

    @property
    def n_pairs(self) -> int:
        return len(self.centres)

    @property
    def n_triplets(self) -> int:
        return len(self.triplet_first)

    def vectors(self, positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
        """Neighbour vectors ``r_j - r_i`` (A) for the pairs."""
        return positions[self.neighbours] - positions[self.centres] + self.shifts @ cell


def check_geometry(positions: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validate and convert positions (N, 3) and a non-singular cell (3, 3, rows are lattice vectors)."""
    positions = np.asarray(positions, dtype=np.float64)
    cell = np.asarray(cell, dtype=np.float64)
    if positions.ndim != 2 or positions.shape[1] != 3:
        raise NeighbourListError(f'positions: shape {positions.shape}, expected (N, 3)')
    if cell.shape != (3, 3):
        raise NeighbourListError(f'cell: shape {cell.shape}, expected (3, 3) with lattice vectors as rows')
    if not (np.all(np.isfinite(positions)) and np.all(np.isfinite(cell))):
        raise NeighbourListError('positions or cell: contain NaN or infinite values')
    if abs(np.linalg.det(cell)) < 1e-9:
        raise NeighbourListError('cell: singular (zero volume); give three linearly independent lattice vectors')
    return positions, cell


def neighbour_pairs(positions: np.ndarray, cell: np.ndarray, cutoff: float) -> tuple[np.ndarray, ...]:
    """All directed pairs closer than ``cutoff`` (A) under periodic boundaries: (centres, neighbours, shifts)."""
    positions, cell = check_geometry(positions, cell)
    if not cutoff > 0:
        raise NeighbourListError(f'cutoff: {cutoff}; must be a positive distance in A')
    natoms = len(positions)
    empty = np.zeros(0, dtype=np.int64)
    if natoms == 0:
        return empty, empty, np.zeros((0, 3), dtype=np.int64)
    inverse = np.linalg.inv(cell)
    fractional = positions @ inverse
    image = np.floor(fractional)
    fractional -= image
    fractional[fractional >= 1.0] = 0.0  # rounding of values just below 1
    wrapped = fractional @ cell
    # bins at least cutoff / 2 wide (perpendicular to each pair of lattice vectors)
    heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    nbins = np.maximum(1, np.floor(2.0 * heights / cutoff)).astype(np.int64)
    reach = np.ceil(cutoff * nbins / heights - 1e-12).astype(np.int64)
    bin3 = np.minimum((fractional * nbins).astype(np.int64), nbins - 1)
    bin_flat = np.ravel_multi_index(bin3.T, nbins)
    order = np.argsort(bin_flat, kind='stable')
    counts = np.bincount(bin_flat, minlength=int(np.prod(nbins)))
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    max_count = int(counts.max())
    slot = np.arange(natoms) - starts[bin_flat[order]]
    table = np.full((len(counts), max_count), -1, dtype=np.int64)
    table[bin_flat[order], slot] = order

    offsets = np.array(list(itertools.product(*(range(-r, r + 1) for r in reach))), dtype=np.int64)
    centres, neighbours, shifts = [], [], []
    cutoff2 = cutoff * cutoff
    atom_bins = bin3  # (N, 3)
    for chunk in _chunks(len(offsets), max(1, 4_000_000 // max(1, natoms * max_count))):
        block = offsets[chunk]  # (B, 3)
        target = atom_bins[:, None, :] + block[None, :, :]  # (N, B, 3)
        wrap = np.floor_divide(target, nbins)
        target -= wrap * nbins
        target_flat = np.ravel_multi_index(target.reshape(-1, 3).T, nbins).reshape(natoms, len(block))
        candidates = table[target_flat]  # (N, B, C)
        cell_shift = np.broadcast_to(wrap[:, :, None, :], (*candidates.shape, 3))
        vectors = wrapped[candidates] + (wrap @ cell)[:, :, None, :] - wrapped[:, None, None, :]
        distance2 = np.einsum('nbcx,nbcx->nbc', vectors, vectors)
        centre_index = np.broadcast_to(np.arange(natoms)[:, None, None], candidates.shape)
        keep = (candidates >= 0) & (distance2 < cutoff2)
        keep &= ~((candidates == centre_index) & np.all(cell_shift == 0, axis=-1))
        centres.append(centre_index[keep])
        neighbours.append(candidates[keep])
        shifts.append(cell_shift[keep])
    centres = np.concatenate(centres)
    neighbours = np.concatenate(neighbours)
    shifts = np.concatenate(shifts)
    order = np.argsort(centres, kind='stable')
    centres, neighbours, shifts = centres[order], neighbours[order], shifts[order]
    # shifts refer to the wrapped positions: express them for the positions as given
    shifts = (shifts + image[centres] - image[neighbours]).astype(np.int64)
    return centres, neighbours, shifts


def _chunks(total: int, size: int) -> list[slice]:
    return [slice(start, min(start + size, total)) for start in range(0, total, size)]


def pair_triplets(
    centres: np.ndarray,
    neighbour_types: np.ndarray,
    n_types: int,
    vectors: np.ndarray | None = None,
    triplet_cutoff: float | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of pairs ``(p, q)``, ``p < q``, sharing a centre; with ``triplet_cutoff`` only ``|v_q - v_p| <`` it.

    Pairs must be sorted by centre, then by neighbour type. Triplets come grouped by neighbour-type pair
    ``(a, b)``, ``a <= b``, then by centre, so each (type pair, centre) sum runs over a contiguous block.
    """
    natoms = int(centres[-1]) + 1 if len(centres) else 0
    counts = np.bincount(centres * n_types + neighbour_types, minlength=natoms * n_types).reshape(natoms, n_types)
    starts = (np.cumsum(counts.reshape(-1)) - counts.reshape(-1)).reshape(natoms, n_types)
    threshold = None if triplet_cutoff is None else triplet_cutoff * triplet_cutoff
    first, second = [], []
    for a, b in itertools.combinations_with_replacement(range(n_types), 2):
        if a == b:
            sizes = counts[:, a] * (counts[:, a] - 1) // 2
            max_count = int(counts[:, a].max(initial=0))
            # local (j, k), j < k, ordered by k: a centre with n neighbours uses the first n (n - 1) / 2 entries
            k_local, j_local = np.tril_indices(max_count, -1)
        for block in _centre_blocks(sizes if a == b else counts[:, a] * counts[:, b]):
            block_sizes = (sizes if a == b else counts[:, a] * counts[:, b])[block]
            total = int(block_sizes.sum())
            if not total:
                continue
            owner = np.repeat(np.arange(block.start, block.stop), block_sizes)
            local = np.arange(total) - np.repeat(np.cumsum(block_sizes) - block_sizes, block_sizes)
            if a == b:
                p = starts[owner, a] + j_local[local]
                q = starts[owner, a] + k_local[local]
            else:
                width = counts[owner, b]
                p = starts[owner, a] + local // width
                q = starts[owner, b] + local % width
            if threshold is not None:
                difference = vectors[q] - vectors[p]
                keep = np.einsum('ij,ij->i', difference, difference) < threshold
                p, q = p[keep], q[keep]
            first.append(p)
            second.append(q)
    if not first:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(first), np.concatenate(second)


def _centre_blocks(sizes: np.ndarray, budget: int = 262_144) -> list[slice]:
    """Consecutive centres holding about ``budget`` candidate triplets each (keeps temporaries in cache)."""
    cumulative = np.cumsum(sizes)
    blocks, start = [], 0
    while start < len(sizes):
        base = cumulative[start - 1] if start else 0
        stop = max(int(np.searchsorted(cumulative, base + budget, side='right')), start + 1)
        blocks.append(slice(start, stop))
        start = stop
    return blocks


def build_neighbour_list(
    positions: np.ndarray,
    cell: np.ndarray,
    cutoff: float,
    types: np.ndarray | None = None,
    *,
    triplet_cutoff: float | None = None,
    angular: bool = True,
) -> NeighbourList:
    """Pairs within ``cutoff`` and (if ``angular``) their triplets, restricted to ``r_jk < triplet_cutoff``.

    ``types`` (N,) are small non-negative integers (element indices); pairs are sorted by centre and then by
    the type of the neighbour, and triplets grouped by neighbour-type pair (see :func:`pair_triplets`).
    """
    positions, cell = check_geometry(positions, cell)
    types = np.zeros(len(positions), dtype=np.int64) if types is None else np.asarray(types, dtype=np.int64)
    if types.shape != (len(positions),) or (len(types) and types.min() < 0):
        raise NeighbourListError(f'types: shape {types.shape}, expected ({len(positions)},) non-negative integers')
    n_types = int(types.max(initial=0)) + 1
    centres, neighbours, shifts = neighbour_pairs(positions, cell, cutoff)
    order = np.argsort(centres * n_types + types[neighbours], kind='stable')
    centres, neighbours, shifts = centres[order], neighbours[order], shifts[order]
    if angular and len(centres):
        vectors = positions[neighbours] - positions[centres] + shifts @ cell
        first, second = pair_triplets(centres, types[neighbours], n_types, vectors, triplet_cutoff)
    else:
        first = second = np.zeros(0, dtype=np.int64)
    return NeighbourList(centres, neighbours, shifts, first, second, float(cutoff))
