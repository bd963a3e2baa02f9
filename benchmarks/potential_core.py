"""Throughput of the potential core on one core: energy + forces + virial of the paper-size model (165 inputs,
7 A) on the 5760-atom beta-Li3PS4 supercell, neighbour list included, in float64 and float32; and training
throughput (structures/s) on 32-atom cells. Prints a table; run with ``python benchmarks/potential_core.py``."""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np
import torch
from ase.calculators.lj import LennardJones

from aiida_glassceramic.descriptors import default_parameters
from aiida_glassceramic.potentials.dataset import TrainingSet
from aiida_glassceramic.potentials.model import NNPotential, keep_freed_memory
from aiida_glassceramic.potentials.training import train
from aiida_glassceramic.structures.builders import reference_cell, supercell


def md_throughput(dtype: torch.dtype, repeats: tuple[int, int, int], steps: int, skin: float) -> tuple[float, float]:
    """Atom-steps per second of compute() with thermal-like displacements between calls; and the list share."""
    atoms = supercell(reference_cell('beta', 32), repeats)
    model = NNPotential(default_parameters(['Li', 'P', 'S'], 7.0), dtype=dtype, skin=skin)
    rng = np.random.default_rng(0)
    positions = atoms.positions + rng.normal(0, 0.05, atoms.positions.shape)
    model.compute(atoms.numbers, positions, atoms.cell.array)  # warm-up
    started = time.perf_counter()
    for _ in range(steps):
        positions = positions + rng.normal(0, 0.01, positions.shape)  # ~1 fs of motion at 600 K
        model.compute(atoms.numbers, positions, atoms.cell.array)
    elapsed = time.perf_counter() - started
    started = time.perf_counter()
    model.neighbour_list(model.types(atoms.numbers), positions, atoms.cell.array)
    return len(atoms) * steps / elapsed, time.perf_counter() - started


def training_throughput(structures: int = 16, epochs: int = 2) -> float:
    images = []
    rng = np.random.default_rng(0)
    for _ in range(structures):
        atoms = reference_cell('beta', 32)
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        atoms.calc = LennardJones(sigma=2.0, epsilon=0.01, rc=7.0)
        images.append(atoms)
    data = TrainingSet.from_atoms(images)
    started = time.perf_counter()
    train(data, {'epochs': epochs, 'batch_size': 4, 'patience': epochs})
    return structures * 0.8 * epochs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--repeats', type=int, nargs=3, default=(6, 6, 5), help='supercell of the 32-atom beta cell')
    parser.add_argument('--steps', type=int, default=3)
    parser.add_argument('--skin', type=float, default=0.0)
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    natoms = 32 * int(np.prod(arguments.repeats))
    print(f'| quantity ({natoms} atoms, 165 inputs, 7 A, skin {arguments.skin} A, 1 thread) | value |')
    print('| --- | --- |')
    for name, dtype in (('float64', torch.float64), ('float32', torch.float32)):
        rate, build = md_throughput(dtype, tuple(arguments.repeats), arguments.steps, arguments.skin)
        print(f'| atom-steps/s {name} (neighbour list included) | {rate:.0f} |')
    print(f'| neighbour list + triplets build (s) | {build:.2f} |')
    print(f'| training throughput (32-atom structures/s, float64) | {training_throughput():.1f} |')
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f'| peak memory (GB) | {peak:.2f} |')


if __name__ == '__main__':
    main()
