"""Entropy-based fingerprint of local order (Piaggi & Parrinello, J. Chem. Phys. 147, 114112 (2017)).

Per atom i, with the smeared local pair distribution
``g_i(r) = sum_j exp(-(r - r_ij)^2 / (2 sigma^2)) / (4 pi rho r^2 sqrt(2 pi) sigma)``,
``s_i = -2 pi rho * integral_0^{r_m} [g ln g - g + 1] r^2 dr`` and the local average over the atoms within
``r_a`` (the atom itself included). Lower (more negative) values mean more order.

The discretisation is that of LAMMPS ``compute entropy/atom sigma r_m avg yes r_a``: g is evaluated on the
grid ``r_k = k sigma`` (k = 0 .. int(r_m / sigma)), each neighbour contributes only to the bins within three
of its own (``floor(r_ij / sigma)``), the integral is a trapezoid sum and ``rho`` is the number density of
the atoms that build g. The values are therefore the same, atom by atom, as that compute.

Which atoms build g: by default (``sublattice=True``) only the atoms of ``species`` - the paper's
fingerprint of the P sublattice, i.e. of how the PS4 units are arranged; this equals LAMMPS on the
structure reduced to those atoms. With ``sublattice=False`` every atom builds g (density of all atoms)
and the average runs over neighbouring atoms of ``species``; for ``species=None`` this equals LAMMPS
on group all. (LAMMPS on a sub-group with ``avg yes`` would average over values it never computed for
the other atoms, so that case has no LAMMPS counterpart.)
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import ase
import numpy as np

from ._common import check_range, periodic_cell, species_mask
from .errors import AnalysisError
from .neighbours import neighbour_list

KERNEL_BINS = 3
MIN_CUTOFF = 2.0  # A: shorter than the P-S bond and the first shells, the integral would see no structure
MIN_GRID_POINTS = 10  # r_m / sigma: g(r) needs a grid that resolves at least a few peaks


@dataclass(frozen=True)
class EntropyFingerprint:
    """Per-atom pair entropy (units of k_B) of the selected atoms, before and after local averaging."""

    indices: np.ndarray
    entropy: np.ndarray
    averaged: np.ndarray


def entropy_fingerprint(
    atoms: ase.Atoms,
    species: str | Sequence[str] | None = 'P',
    *,
    cutoff: float = 10.0,
    sigma: float = 0.1,
    average_cutoff: float | None = 9.0,
    sublattice: bool = True,
) -> EntropyFingerprint:
    """Pair entropy of the atoms of ``species`` (paper: P, r_m = 10 A, sigma = 0.1 A, r_a = 9 A).

    :param cutoff: r_m (A), at least ``MIN_CUTOFF`` and ``MIN_GRID_POINTS`` sigma.
    :param average_cutoff: radius r_a of the local average (A), positive; ``None`` for no averaging.
    :param sublattice: build g(r) from the atoms of ``species`` only (default) or from all atoms.
    """
    cutoff = check_range('cutoff', cutoff, MIN_CUTOFF)
    sigma = check_range('sigma', sigma, 1e-3, cutoff / MIN_GRID_POINTS)
    if average_cutoff is not None:
        average_cutoff = check_range('average_cutoff', average_cutoff, 1e-3, unit='A; None for no averaging')
    cell = periodic_cell(atoms)
    centres = species_mask(atoms.get_chemical_symbols(), species)
    environment = centres if sublattice else np.ones(len(atoms), dtype=bool)
    env_index = np.flatnonzero(environment)
    positions = atoms.positions[env_index]
    is_centre = centres[env_index]
    density = len(env_index) / abs(np.linalg.det(cell))
    reach = max(cutoff, average_cutoff or 0.0)
    pairs = neighbour_list(positions, cell, reach)
    entropy = _pair_entropy(pairs, len(positions), density, cutoff, sigma)
    averaged = entropy.copy()
    if average_cutoff:
        near = (pairs.distances < average_cutoff) & is_centre[pairs.j]
        total = entropy + np.bincount(pairs.i[near], weights=entropy[pairs.j[near]], minlength=len(positions))
        averaged = total / (1.0 + np.bincount(pairs.i[near], minlength=len(positions)))
    return EntropyFingerprint(env_index[is_centre], entropy[is_centre], averaged[is_centre])


def _pair_entropy(pairs, natoms: int, density: float, cutoff: float, sigma: float) -> np.ndarray:
    nbin = int(cutoff / sigma) + 1
    radii = np.arange(nbin) * sigma
    inside = pairs.distances < cutoff
    centre, distance = pairs.i[inside], pairs.distances[inside]
    own = np.floor(distance / sigma).astype(int)
    gofr = np.zeros(natoms * nbin)
    norm = 1.0 / (4.0 * np.pi * density * np.sqrt(2.0 * np.pi) * sigma)
    for shift in range(-KERNEL_BINS, KERNEL_BINS + 1):
        k = own + shift
        valid = (k >= 1) & (k < nbin)
        dr = distance[valid] - radii[k[valid]]
        weight = norm / radii[k[valid]] ** 2 * np.exp(-dr * dr / (2.0 * sigma * sigma))
        gofr += np.bincount(centre[valid] * nbin + k[valid], weights=weight, minlength=natoms * nbin)
    gofr = gofr.reshape(natoms, nbin)
    safe = np.where(gofr < 1e-10, 1.0, gofr)
    integrand = np.where(gofr < 1e-10, 1.0, gofr * np.log(safe) - gofr + 1.0) * radii**2
    integral = sigma * (integrand[:, 1:-1].sum(axis=1) + 0.5 * (integrand[:, 0] + integrand[:, -1]))
    return -2.0 * np.pi * density * integral


def crystalline_fraction(values: np.ndarray, threshold: float) -> float:
    """Fraction of atoms whose (averaged) fingerprint lies below ``threshold`` (ordered, crystal-like)."""
    values = np.asarray(values, dtype=float)
    if values.size == 0:
        raise AnalysisError('values: empty; compute the fingerprint of at least one atom')
    return float(np.mean(values < threshold))
