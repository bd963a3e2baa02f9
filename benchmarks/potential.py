"""Throughput of the neural network potential inside LAMMPS: the native pair style against the fix external driver.

One run on the 5760-atom beta-Li3PS4 6x6x5 supercell with the study's model size (165 inputs, 7 A cut-off,
165-10-10-1 networks, random weights, float64), NVE at 600 K with LAMMPS' neighbour lists (skin 1 A):

- ``pair_style glassceramic`` (the plugin) on 1 and on 2 MPI ranks;
- ``glassceramic-lmp`` (``fix external`` with the torch model) on 1 rank;
- LAMMPS' own ``pair_style snap`` (2J = 8, the same 7 A cut-off, random coefficients) as the native anchor;
- the driver with its own neighbour list reused between steps (``nnp_skin``), and on CUDA where a GPU is present;

with atom-steps/s from LAMMPS' loop time (wall) and per CPU-second of all ranks (LAMMPS' "% CPU use"; robust where
other jobs share the cores), peak memory per rank, the ratios of the same run, and the study's MD workload
(:data:`PAPER_ATOM_STEPS`) in core-hours and wall time on 64 and 256 cores from these figures.

    OMP_NUM_THREADS=1 python benchmarks/potential.py [--steps 20] [--repeats 2]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ELEMENTS = ('Li', 'P', 'S')
BIN = Path(sys.executable).parent
# anneal 5760 atoms x 1e8 steps; diffusion 33 structures x 5 temperatures x 1 ns; VDOS
PAPER_ATOM_STEPS = {'anneal': 5.76e11, 'diffusion': 9.5e11, 'vdos': 1.9e11}
GOALS = {'pair style / driver, 1 rank': 3.0, '2 ranks / 1 rank': 1.8}
MEMORY_GOAL_GB = 1.0
SNAP_PARAMETERS = 'rcutfac 1.0\ntwojmax 8\nrfac0 0.99363\nrmin0 0.0\nbzeroflag 0\nquadraticflag 0\n'
SNAP_COEFFICIENTS = 56  # bispectrum components of 2J = 8, plus the constant


def build_inputs(folder: Path) -> int:
    """The paper-size model (torch file and pair-style file), SNAP files and the 6x6x5 supercell as a data file."""
    import ase.io
    import torch

    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential
    from aiida_glassceramic.potentials.pair_style_file import write_pair_style_file
    from aiida_glassceramic.structures import read_crystal, supercell

    torch.manual_seed(0)
    model = NNPotential(default_parameters(ELEMENTS, cutoff=7.0), hidden=(10, 10))
    assert model.descriptor.n_features == 165
    save_potential(model, folder / 'potential.pt')
    write_pair_style_file(model, folder / 'potential.glassceramic')
    rng = np.random.default_rng(0)
    lines = [f'{len(ELEMENTS)} {SNAP_COEFFICIENTS}']
    for element in ELEMENTS:
        lines.append(f'{element} 3.5 1.0')  # radius: cut-off 1.0 x (3.5 + 3.5) = 7 A
        lines += [f'{value:.6f}' for value in rng.normal(0.0, 1e-3, SNAP_COEFFICIENTS)]
    (folder / 'snap.snapcoeff').write_text('\n'.join(lines) + '\n')
    (folder / 'snap.snapparam').write_text(SNAP_PARAMETERS)
    atoms = supercell(read_crystal('beta'), (6, 6, 5))
    data = folder / 'beta.data'
    ase.io.write(data, atoms, format='lammps-data', specorder=list(ELEMENTS), masses=True, units='metal')
    return len(atoms)


def md_script(potential_lines: str, steps: int) -> str:
    return (
        'units metal\natom_style atomic\nboundary p p p\nread_data beta.data\n'
        f'{potential_lines}\n'
        'neighbor 1.0 bin\nvelocity all create 600 4928459 loop geom\ntimestep 0.001\nfix md all nve\n'
        f'thermo {steps}\nrun {steps}\n'
    )


DRIVER = (
    'pair_style zero 7.0\npair_coeff * *\nvariable nnp_potential string potential.pt\n'
    'variable nnp_elements string "Li P S"\nfix nnp all external pf/callback 1 1\n'
    'fix_modify nnp energy yes virial yes'
)
REUSE = 'variable nnp_skin string 1.0\n'  # the model's neighbour list reused between steps
POTENTIALS = {
    'pair': 'pair_style glassceramic\npair_coeff * * potential.glassceramic Li P S',
    'snap': 'pair_style snap\npair_coeff * * snap.snapcoeff snap.snapparam Li P S',
    'driver': DRIVER,
    'driver_reuse': REUSE + DRIVER,
    'driver_cuda': 'variable nnp_device string cuda\n' + REUSE + DRIVER,
}


def worker(kind: str, folder: Path, ranks: int, steps: int) -> dict:
    """Run one LAMMPS job in this (fresh) process's child; the children's peak RSS is its memory."""
    from aiida_glassceramic.potentials.lammps_plugin import plugin_environment

    (folder / f'{kind}.in').write_text(md_script(POTENTIALS[kind], steps))
    executable = 'glassceramic-lmp' if kind.startswith('driver') else 'lmp'
    command = [str(BIN / executable), '-in', f'{kind}.in', '-log', 'none']
    if ranks > 1:
        command = [str(BIN / 'mpiexec'), '-n', str(ranks), *command]
    environment = dict(os.environ, **plugin_environment(), OMP_NUM_THREADS='1')
    environment['LD_LIBRARY_PATH'] = f'{BIN.parent / "lib"}:{environment.get("LD_LIBRARY_PATH", "")}'
    started = time.perf_counter()
    done = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, check=True)
    wall = time.perf_counter() - started
    loop = re.search(r'Loop time of (\S+) on (\d+) procs for (\d+) steps with (\d+) atoms', done.stdout)
    seconds, procs, steps_run, atoms = float(loop[1]), int(loop[2]), int(loop[3]), int(loop[4])
    cpu_use = float(re.search(r'(\S+)% CPU use with', done.stdout)[1]) / 100.0
    return {
        'atom_steps_per_s': atoms * steps_run / seconds,
        # CPU time of all ranks (MPI waits spin, so this is an upper bound of the work): robust on a shared machine
        'atom_steps_per_cpu_s': atoms * steps_run / (seconds * cpu_use * procs),
        'ranks': procs,
        'wall_s': wall,
        'peak_rss_gb': resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2,
    }


def measure(kind: str, folder: Path, ranks: int, steps: int, repeats: int = 1) -> dict:
    """The fastest of ``repeats`` runs, each in a fresh process (on a shared machine: the least disturbed)."""
    command = [sys.executable, __file__, '--worker', kind, '--folder', str(folder), '--ranks', str(ranks)]
    results = []
    for _ in range(repeats):
        done = subprocess.run([*command, '--steps', str(steps)], capture_output=True, text=True, check=True)
        results.append(json.loads(done.stdout.strip().splitlines()[-1]))
    return max(results, key=lambda result: result['atom_steps_per_s'])


def cuda_available() -> bool:
    import torch

    return torch.cuda.is_available()


def workload(rate_per_core: float, cores: int) -> tuple[float, float]:
    """Core-hours and wall hours of the study's MD on ``cores`` cores at ``rate_per_core`` atom-steps/s/core."""
    core_hours = sum(PAPER_ATOM_STEPS.values()) / rate_per_core / 3600
    return core_hours, core_hours / cores


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--steps', type=int, default=100, help='MD steps of the pair styles (the driver runs a fifth)')
    parser.add_argument('--repeats', type=int, default=2, help='runs of the pair style per rank count (best counts)')
    parser.add_argument('--worker', choices=sorted(POTENTIALS), help=argparse.SUPPRESS)
    parser.add_argument('--folder', type=Path, help=argparse.SUPPRESS)
    parser.add_argument('--ranks', type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.folder, args.ranks, args.steps)))
        return

    from aiida_glassceramic.potentials.lammps_plugin import ensure_plugin

    ensure_plugin()
    with tempfile.TemporaryDirectory(prefix='glassceramic-bench-') as name:
        folder = Path(name)
        natoms = build_inputs(folder)
        runs = {
            'pair style glassceramic, 1 rank': measure('pair', folder, 1, args.steps, args.repeats),
            'pair style glassceramic, 2 ranks': measure('pair', folder, 2, args.steps, args.repeats),
            'fix external driver (torch), 1 rank': measure('driver', folder, 1, max(2, args.steps // 5)),
            'pair style snap 2J=8 (native anchor), 1 rank': measure('snap', folder, 1, max(2, args.steps // 4)),
            'driver, list reused (skin 1 A), 1 rank': measure('driver_reuse', folder, 1, max(2, args.steps // 5)),
        }
        if cuda_available():
            runs['driver on CUDA, list reused'] = measure('driver_cuda', folder, 1, args.steps)
    print(f'beta-Li3PS4 6x6x5: {natoms} atoms, 165 inputs, 7 A cut-off, 165-10-10-1, float64, NVE 600 K')
    print(f'| {"run":46s} | {"atom-steps/s":>12s} | {"per CPU-s":>10s} | {"peak GB/rank":>12s} |')
    print(f'|{"-" * 48}|{"-" * 14}|{"-" * 12}|{"-" * 14}|')
    for label, result in runs.items():
        rates = f'{result["atom_steps_per_s"]:12.0f} | {result["atom_steps_per_cpu_s"]:10.0f}'
        print(f'| {label:46s} | {rates} | {result["peak_rss_gb"]:12.2f} |')
    one, two = runs['pair style glassceramic, 1 rank'], runs['pair style glassceramic, 2 ranks']
    driver = runs['fix external driver (torch), 1 rank']
    snap = runs['pair style snap 2J=8 (native anchor), 1 rank']
    ratios = {
        'pair style / driver, 1 rank': one['atom_steps_per_s'] / driver['atom_steps_per_s'],
        '2 ranks / 1 rank': two['atom_steps_per_s'] / one['atom_steps_per_s'],
        'pair style / snap, 1 rank': one['atom_steps_per_s'] / snap['atom_steps_per_s'],
    }
    for label, ratio in ratios.items():
        goal = f' (goal >= {GOALS[label]})' if label in GOALS else ''
        print(f'{label}: {ratio:.2f}{goal}')
    work = one['atom_steps_per_cpu_s'] / two['atom_steps_per_cpu_s']
    print(f'CPU time of 2 ranks / 1 rank: {work:.2f} (2 ranks on 2 free cores: up to {2 / work:.2f}x)')
    print(f'peak memory per rank: {one["peak_rss_gb"]:.2f} GB (goal < {MEMORY_GOAL_GB} GB)')
    per_core = two['atom_steps_per_cpu_s']  # CPU time counts: independent of other jobs on a shared machine
    total = sum(PAPER_ATOM_STEPS.values())
    print(f'study MD workload {total:.2e} atom-steps at {per_core:.0f} atom-steps per CPU-second (2-rank run):')
    for cores in (64, 256):
        core_hours, wall = workload(per_core, cores)
        print(f'  {cores} cores: {core_hours:,.0f} core-hours, {wall:,.0f} h ({wall / 24:.1f} days) wall time')


if __name__ == '__main__':
    main()
