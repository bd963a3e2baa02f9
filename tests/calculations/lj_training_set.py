"""A small labelled data set for training tests: strained and rattled gamma-Li3PS4 cells with Lennard-Jones labels."""

import numpy as np
from ase.calculators.lj import LennardJones

from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.training_set import TrainingSet

# one LJ for every pair, minimum at 2^(1/6) sigma = 2.13 A (between the P-S and Li-S bond lengths), smooth at rc
LJ = {'sigma': 1.9, 'epsilon': 0.1, 'rc': 5.0, 'smooth': True}
# 3 x 4 radial + 6 x 2 angular = 24 inputs per atom: enough for a pair potential, fast on one core
SMALL_DESCRIPTOR = {
    'elements': ['Li', 'P', 'S'],
    'cutoff': 4.5,
    'radial': [{'eta': 0.5}, {'eta': 0.1}, {'eta': 0.03}, {'eta': 2.0, 'rs': 2.1}],
    'angular': [{'eta': 0.05, 'zeta': 1, 'lambda': 1}, {'eta': 0.05, 'zeta': 1, 'lambda': -1}],
}


def lj_training_set(
    count: int, seed: int, rattle: float = 0.05, strain: float = 0.03, repeat: tuple[int, int, int] = (1, 1, 1)
) -> TrainingSet:
    """``count`` 16-atom gamma-Li3PS4 cells (``repeat``-ed), each strained (up to ``strain``) and rattled (``rattle``
    A)."""
    rng = np.random.default_rng(seed)
    images = []
    for _ in range(count):
        atoms = read_crystal('gamma').repeat(repeat)
        deformation = np.eye(3) + rng.uniform(-strain, strain, size=(3, 3))
        atoms.set_cell(atoms.cell.array @ deformation, scale_atoms=True)
        atoms.positions += rng.normal(0.0, rattle, size=atoms.positions.shape)
        atoms.calc = LennardJones(**LJ)
        images.append(atoms)
    return TrainingSet.from_atoms(images)
