"""A pairwise Lennard-Jones potential with the ``compute()`` signature of the neural network potential.

Neighbours come from ASE's periodic neighbour list, the sums from numpy: an implementation independent of LAMMPS,
to compare ``fix external`` against LAMMPS' own ``pair_style lj/cut``.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms
from ase.data import atomic_numbers
from ase.neighborlist import neighbor_list


class LennardJones:
    """``E = sum over pairs r < cutoff of 4 eps ((s/r)^12 - (s/r)^6)``, unshifted like LAMMPS' lj/cut."""

    def __init__(self, parameters: dict[tuple[str, str], tuple[float, float]], cutoff: float):
        self.elements = sorted({symbol for pair in parameters for symbol in pair})
        self.cutoff = cutoff
        size = max(atomic_numbers[symbol] for symbol in self.elements) + 1
        self.epsilon = np.zeros((size, size))
        self.sigma = np.zeros((size, size))
        for (first, second), (epsilon, sigma) in parameters.items():
            for i, j in ((first, second), (second, first)):
                self.epsilon[atomic_numbers[i], atomic_numbers[j]] = epsilon
                self.sigma[atomic_numbers[i], atomic_numbers[j]] = sigma
        self.calls = 0

    def compute(self, numbers: np.ndarray, positions: np.ndarray, cell: np.ndarray):
        self.calls += 1
        atoms = Atoms(numbers=numbers, positions=positions, cell=cell, pbc=True)
        i, j, d = neighbor_list('ijD', atoms, self.cutoff)
        r2 = np.einsum('pa,pa->p', d, d)
        epsilon = self.epsilon[numbers[i], numbers[j]]
        s6 = (self.sigma[numbers[i], numbers[j]] ** 2 / r2) ** 3
        energy = 0.5 * np.sum(4.0 * epsilon * (s6 * s6 - s6))
        # dE/dr / r for each ordered pair; d points from i to j
        de_dr_over_r = 4.0 * epsilon * (-12.0 * s6 * s6 + 6.0 * s6) / r2
        pair_forces = de_dr_over_r[:, None] * d
        forces = np.zeros((len(numbers), 3))
        np.add.at(forces, i, pair_forces)
        outer = -0.5 * de_dr_over_r[:, None, None] * d[:, :, None] * d[:, None, :]
        w = outer.sum(axis=0)
        virial = np.array([w[0, 0], w[1, 1], w[2, 2], w[0, 1], w[0, 2], w[1, 2]])
        return float(energy), forces, virial
