"""Throughput of the neural network potential inside LAMMPS, on one core.

The study's model size (165 inputs, 7 A cut-off, 165-10-10-1 networks, random weights) on the 5760-atom beta
supercell: MD steps through ``glassceramic-lmp``'s coupling (LAMMPS neighbour lists, integration and the
potential's own neighbour list rebuilt as needed) against ``NNPotential.compute`` called directly, in float64 and
float32, with the peak memory of each; the cost of the coupling alone (a potential that returns zeros); and the
training throughput. Anchor: n2p2's ``pair_style hdnnp`` runs a ~30-input water model at ~3.3k atom-steps/s/core.

    python benchmarks/potential.py [--steps 5] [--training-epochs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ELEMENTS = ('Li', 'P', 'S')
ANCHOR_ATOM_STEPS = 3.3e3
GOALS = {'float64': 5e3, 'float32': 1e4}


def build_inputs(folder: Path) -> tuple[Path, Path, int]:
    """The paper-size potential with random weights and the 6x6x5 beta supercell as a LAMMPS data file."""
    import ase.io
    import torch

    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential
    from aiida_glassceramic.structures import read_crystal, supercell

    torch.manual_seed(0)
    model = NNPotential(default_parameters(ELEMENTS, cutoff=7.0), hidden=(10, 10))
    assert model.descriptor.n_features == 165
    potential = save_potential(model, folder / 'potential.pt')
    atoms = supercell(read_crystal('beta'), (6, 6, 5))
    data = folder / 'beta.data'
    ase.io.write(data, atoms, format='lammps-data', specorder=list(ELEMENTS), masses=True, units='metal')
    return potential, data, len(atoms)


def md_script(data: Path, potential: Path | None, dtype: str) -> str:
    """NVE MD at 600 K; without a potential the fix external is left out (LAMMPS' own cost)."""
    coupling = (
        f'variable nnp_potential string {potential}\nvariable nnp_elements string "{" ".join(ELEMENTS)}"\n'
        f'variable nnp_dtype string {dtype}\nfix nnp all external pf/callback 1 1\n'
        'fix_modify nnp energy yes virial yes\n'
    )
    return (
        f'units metal\natom_style atomic\nread_data {data}\npair_style zero 7.0\npair_coeff * *\n'
        'neighbor 1.0 bin\nvelocity all create 600 4928459\ntimestep 0.001\n'
        + (coupling if potential is not None else '')
        + 'fix md all nve\nthermo 1000\nrun 1\n'
    )


class ZeroPotential:
    """Returns zeros: measures what the coupling itself costs per step."""

    elements = ELEMENTS

    def compute(self, numbers, positions, cell):
        return 0.0, np.zeros((len(numbers), 3)), np.zeros(6)


def time_lammps(script: str, steps: int, loader=None) -> float:
    """Seconds per MD step (after a 1-step warm-up inside ``script``)."""
    from aiida_glassceramic.potentials.lammps_driver import Driver

    options = {'loader': loader} if loader else {}
    with Driver(['-screen', 'none', '-log', 'none'], **options) as driver:
        driver.run_text(script)
        start = time.perf_counter()
        driver.lmp.command(f'run {steps}')
        return (time.perf_counter() - start) / steps


def time_compute(potential: Path, data: Path, dtype: str, steps: int) -> float:
    """Seconds per direct ``compute()`` call on positions moving by ~0.005 A per call (like an MD step)."""
    import ase.io

    from aiida_glassceramic.potentials.io import load_potential
    from aiida_glassceramic.potentials.model import keep_freed_memory

    keep_freed_memory()  # as glassceramic-lmp does
    model = load_potential(potential, dtype=dtype)
    atoms = ase.io.read(data, format='lammps-data', style='atomic', units='metal')
    numbers = np.array([{1: 3, 2: 15, 3: 16}[t] for t in atoms.get_array('type')])
    positions, cell = atoms.positions.copy(), atoms.cell.array
    rng = np.random.default_rng(0)
    model.compute(numbers, positions, cell)
    start = time.perf_counter()
    for _ in range(steps):
        positions += rng.normal(scale=0.003, size=positions.shape)
        model.compute(numbers, positions, cell)
    return (time.perf_counter() - start) / steps


def training_throughput(epochs: int) -> dict | None:
    """Structures per second of ``train()`` on 32-atom cells labelled by a random potential (None without it)."""
    try:
        from aiida_glassceramic.potentials.training import train
    except ImportError:
        return None
    import torch
    from ase.calculators.singlepoint import SinglePointCalculator

    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.dataset import TrainingSet
    from aiida_glassceramic.potentials.model import NNPotential
    from aiida_glassceramic.structures import read_crystal

    torch.manual_seed(1)
    labeller = NNPotential(default_parameters(ELEMENTS, cutoff=7.0), hidden=(10, 10))
    images = []
    for seed in range(40):
        atoms = read_crystal('beta')
        atoms.rattle(0.05, seed=seed)
        energy, forces, _ = labeller.compute(atoms.numbers, atoms.positions, atoms.cell.array)
        atoms.calc = SinglePointCalculator(atoms, energy=energy, forces=forces)
        images.append(atoms)
    train_set, test_set = TrainingSet.from_atoms(images).split(0.8, seed=0)
    parameters = {'cutoff': 7.0, 'epochs': epochs, 'patience': epochs, 'seed': 0}
    start = time.perf_counter()
    _, metrics = train(train_set, parameters, test_set)
    wall = time.perf_counter() - start
    epochs_run = int(metrics.get('epochs', epochs))
    return {'structures_per_s': len(train_set) * epochs_run / wall, 'epochs': epochs_run, 'wall_s': wall}


def worker(kind: str, folder: Path, dtype: str, steps: int, epochs: int) -> dict:
    """One measurement in a fresh process, so its peak memory is its own."""
    import torch

    torch.set_num_threads(1)
    potential, data = folder / 'potential.pt', folder / 'beta.data'
    if kind == 'lammps':
        result = {'s_per_step': time_lammps(md_script(data, potential, dtype), steps)}
    elif kind == 'compute':
        result = {'s_per_step': time_compute(potential, data, dtype, steps)}
    elif kind == 'coupling':
        plain = time_lammps(md_script(data, None, dtype), steps * 100)
        coupled = time_lammps(md_script(data, potential, dtype), steps * 100, loader=lambda *_: ZeroPotential())
        result = {'s_per_step': coupled - plain, 'lammps_alone_s_per_step': plain}
    else:
        result = training_throughput(epochs) or {}
    result['peak_rss_gb'] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    return result


def measure(kind: str, folder: Path, dtype: str, steps: int, epochs: int) -> dict:
    command = [sys.executable, __file__, '--worker', kind, '--folder', str(folder), '--dtype', dtype]
    command += ['--steps', str(steps), '--training-epochs', str(epochs)]
    environment = dict(os.environ, OMP_NUM_THREADS='1', MKL_NUM_THREADS='1')
    done = subprocess.run(command, capture_output=True, text=True, env=environment, check=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=5, help='MD steps / compute calls timed per configuration')
    parser.add_argument('--training-epochs', type=int, default=3)
    parser.add_argument('--worker', choices=['lammps', 'compute', 'coupling', 'training'], help=argparse.SUPPRESS)
    parser.add_argument('--folder', type=Path, help=argparse.SUPPRESS)
    parser.add_argument('--dtype', default='float64', help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder, args.dtype, args.steps, args.training_epochs)))
        return

    with tempfile.TemporaryDirectory(prefix='glassceramic-bench-') as name:
        folder = Path(name)
        _, _, natoms = build_inputs(folder)
        print(f'beta-Li3PS4 6x6x5: {natoms} atoms, 165 inputs, 7 A cut-off, 165-10-10-1, one core, {args.steps} steps')
        print(f'{"configuration":44s} {"atom-steps/s":>12s} {"s/step":>9s} {"peak GB":>8s} {"goal":>8s}')
        for dtype in ('float64', 'float32'):
            lammps = measure('lammps', folder, dtype, args.steps, args.training_epochs)
            direct = measure('compute', folder, dtype, args.steps, args.training_epochs)
            for label, result in (
                (f'LAMMPS + glassceramic-lmp, {dtype}', lammps),
                (f'compute() alone, {dtype}', direct),
            ):
                rate = natoms / result['s_per_step']
                goal = f'{GOALS[dtype]:.0f}' if 'LAMMPS' in label else ''
                print(f'{label:44s} {rate:12.0f} {result["s_per_step"]:9.3f} {result["peak_rss_gb"]:8.2f} {goal:>8s}')
            overhead = lammps['s_per_step'] - direct['s_per_step']
            print(
                f'{"  coupling + LAMMPS overhead, " + dtype:44s} {"":12s} {overhead:9.3f}'
                f'   ({100 * overhead / direct["s_per_step"]:+.1f} % of compute)'
            )
        coupling = measure('coupling', folder, 'float64', args.steps, args.training_epochs)
        print(
            f'{"coupling alone (zero potential), per step":44s} {"":12s} {coupling["s_per_step"]:9.5f}'
            f'   (LAMMPS NVE alone {coupling["lammps_alone_s_per_step"]:.5f} s/step)'
        )
        print(f'{"anchor: n2p2 hdnnp, ~30-input water model":44s} {ANCHOR_ATOM_STEPS:12.0f}')
        try:
            training = measure('training', folder, 'float64', args.steps, args.training_epochs)
        except subprocess.CalledProcessError as error:
            training = {'error': error.stderr.strip().splitlines()[-1]}
        if 'structures_per_s' in training:
            print(
                f'training, 32-atom cells, paper-size model: {training["structures_per_s"]:.1f} structures/s '
                f'({training["epochs"]} epochs in {training["wall_s"]:.1f} s, peak {training["peak_rss_gb"]:.2f} GB)'
            )
        else:
            print(f'training: not measured ({training.get("error", "train() not available")})')


if __name__ == '__main__':
    main()
