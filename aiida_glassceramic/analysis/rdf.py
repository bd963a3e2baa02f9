"""Total and partial pair distribution functions g(r), averaged over frames.

Normalisation as LAMMPS ``compute rdf``: ``g_ab(r) = V n_ab(r) / (N_a (N_b - delta_ab) 4/3 pi (r_hi^3 - r_lo^3))``
with ``n_ab`` the number of (a, b) pairs in the shell, so g -> 1 at large r for an ideal gas of any size.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import ase
import numpy as np

from ._common import as_frames, check_count, check_range, periodic_cell
from .errors import AnalysisError
from .neighbours import neighbour_list


@dataclass(frozen=True)
class PairDistribution:
    """g(r) on bins ``edges`` (A); ``partials[(a, b)]`` for every element pair with ``a <= b``."""

    edges: np.ndarray
    total: np.ndarray
    partials: dict[tuple[str, str], np.ndarray] = field(default_factory=dict)
    nframes: int = 1

    @property
    def r(self) -> np.ndarray:
        """Bin centres (A)."""
        return 0.5 * (self.edges[1:] + self.edges[:-1])


def pair_distribution(
    frames: ase.Atoms | Iterable[ase.Atoms], rmax: float = 10.0, nbins: int = 200
) -> PairDistribution:
    """Total and partial g(r) of one structure or the mean over frames (streamed, one frame at a time)."""
    nbins = check_count('nbins', nbins)
    rmax = check_range('rmax', rmax, 1e-3)
    edges = np.linspace(0.0, rmax, nbins + 1)
    total_sum, partial_sum, count, elements = np.zeros(nbins), None, 0, None
    for atoms in as_frames(frames):
        cell = periodic_cell(atoms)
        symbols = np.asarray(atoms.get_chemical_symbols())
        frame_elements, types = np.unique(symbols, return_inverse=True)
        if elements is None:
            elements = frame_elements
            partial_sum = np.zeros((len(elements), len(elements), nbins))
        elif not np.array_equal(elements, frame_elements):
            raise AnalysisError(f'frame {count}: elements {frame_elements.tolist()} differ from the first frame')
        total, partial = _frame_rdf(atoms.positions, cell, types, len(elements), edges)
        total_sum += total
        partial_sum += partial
        count += 1
    if count == 0:
        raise AnalysisError('frames: the trajectory is empty; give at least one structure')
    partials = {
        (str(a), str(b)): partial_sum[ia, ib] / count
        for ia, a in enumerate(elements)
        for ib, b in enumerate(elements)
        if ia <= ib
    }
    return PairDistribution(edges, total_sum / count, partials, count)


def _frame_rdf(positions, cell, types, ntypes, edges):
    rmax, nbins = edges[-1], len(edges) - 1
    shells = 4.0 / 3.0 * np.pi * (edges[1:] ** 3 - edges[:-1] ** 3)
    volume = abs(np.linalg.det(cell))
    pairs = neighbour_list(positions, cell, rmax, full=False)
    bins = np.minimum((pairs.distances * (nbins / rmax)).astype(int), nbins - 1)
    ti, tj = types[pairs.i], types[pairs.j]
    lo, hi = np.minimum(ti, tj), np.maximum(ti, tj)
    hist = np.bincount((lo * ntypes + hi) * nbins + bins, minlength=ntypes * ntypes * nbins).reshape(ntypes, ntypes, -1)
    natoms = np.bincount(types, minlength=ntypes).astype(float)
    partial = np.zeros((ntypes, ntypes, nbins))
    for a in range(ntypes):
        for b in range(a, ntypes):
            pairs_ab = natoms[a] * (natoms[b] - 1.0) if a == b else natoms[a] * natoms[b]
            counted = 2.0 * hist[a, b] if a == b else hist[a, b]
            partial[a, b] = partial[b, a] = volume * counted / (pairs_ab * shells) if pairs_ab > 0 else 0.0
    ntotal = len(positions)
    total = volume * 2.0 * hist.sum(axis=(0, 1)) / (ntotal * (ntotal - 1.0) * shells)
    return total, partial
