"""Throughput of the potential core on one core: energy + forces + virial of the paper-size model (165 inputs,
7 A) on the 5760-atom beta-Li3PS4 supercell, neighbour list included, in float64 and float32, for the default
(separable wide G9, moment path) set and, as the baseline, the narrow G3 set summed over triplets; the
neighbour-list build time, the peak memory and the training throughput (structures/s) on 32-atom cells.
Prints a markdown table; run with ``OMP_NUM_THREADS=1 python benchmarks/potential_core.py``."""

from __future__ import annotations

import argparse
import resource
import time
from pathlib import Path

import numpy as np
import torch
from ase.calculators.lj import LennardJones

from aiida_glassceramic.descriptors import default_parameters
from aiida_glassceramic.potentials.model import NNPotential, keep_freed_memory
from aiida_glassceramic.potentials.training import train
from aiida_glassceramic.structures.builders import reference_cell, supercell
from aiida_glassceramic.training_set import TrainingSet


def md_throughput(
    kind: str, dtype: torch.dtype, repeats: tuple[int, int, int], steps: int, skin: float
) -> tuple[float, float]:
    """Best atom-steps per second of compute() over ``steps`` calls with thermal-like displacements between
    calls; and the best neighbour-list build time (s)."""
    atoms = supercell(reference_cell('beta', 32), repeats)
    model = NNPotential(default_parameters(['Li', 'P', 'S'], 7.0, angular_kind=kind), dtype=dtype, skin=skin)
    rng = np.random.default_rng(0)
    positions = atoms.positions + rng.normal(0, 0.05, atoms.positions.shape)
    model.compute(atoms.numbers, positions, atoms.cell.array)  # warm-up
    best = np.inf
    for _ in range(steps):
        positions = positions + rng.normal(0, 0.01, positions.shape)  # ~1 fs of motion at 600 K
        started = time.perf_counter()
        model.compute(atoms.numbers, positions, atoms.cell.array)
        best = min(best, time.perf_counter() - started)
    build = np.inf
    types = model.types(atoms.numbers)
    for _ in range(steps):
        started = time.perf_counter()
        nl = model.neighbour_list(types, positions, atoms.cell.array)
        nl.triplet_first  # noqa: B018 - triplets are built on first use (only where the descriptor needs them)
        build = min(build, time.perf_counter() - started)
    return len(atoms) / best, build


def training_throughput(structures: int = 16, epochs: int = 2) -> float:
    """Structures per second fitted (forward, forces, double backward) with the default descriptor, float64."""
    images = []
    rng = np.random.default_rng(0)
    for _ in range(structures):
        atoms = reference_cell('beta', 32)
        atoms.positions += rng.normal(0, 0.1, atoms.positions.shape)
        atoms.calc = LennardJones(sigma=2.0, epsilon=0.01, rc=7.0)
        images.append(atoms)
    data = TrainingSet.from_atoms(images)
    started = time.perf_counter()
    _, metrics = train(data, {'epochs': epochs, 'batch_size': 4, 'patience': epochs})
    return metrics['n_train'] * epochs / (time.perf_counter() - started)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--repeats', type=int, nargs=3, default=(6, 6, 5), help='supercell of the 32-atom beta cell')
    parser.add_argument('--steps', type=int, default=3, help='timed calls per case; the best is reported')
    parser.add_argument('--skin', type=float, default=0.0)
    parser.add_argument('--no-baseline', action='store_true', help='skip the (slow) triplet-path baseline')
    arguments = parser.parse_args()
    torch.set_num_threads(1)
    keep_freed_memory()
    natoms = 32 * int(np.prod(arguments.repeats))
    print(f'load average before: {Path("/proc/loadavg").read_text().split()[:3]}')
    print(f'| quantity ({natoms} atoms, 165 inputs, 7 A, skin {arguments.skin} A, 1 thread) | value |')
    print('| --- | --- |')
    kinds = ('wide',) if arguments.no_baseline else ('wide', 'narrow')
    for kind in kinds:
        path = 'moments, wide G9 (default)' if kind == 'wide' else 'triplets, narrow G3 (baseline)'
        for name, dtype in (('float64', torch.float64), ('float32', torch.float32)):
            rate, build = md_throughput(kind, dtype, tuple(arguments.repeats), arguments.steps, arguments.skin)
            print(f'| atom-steps/s {name}, {path}, neighbour list included | {rate:.0f} |', flush=True)
        print(f'| neighbour list build (s), {path} | {build:.3f} |', flush=True)
    print(f'| training throughput (32-atom structures/s, float64) | {training_throughput():.1f} |')
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    print(f'| peak memory of the process (GB) | {peak:.2f} |')
    print(f'load average after: {Path("/proc/loadavg").read_text().split()[:3]}')


if __name__ == '__main__':
    main()
