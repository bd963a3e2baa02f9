"""Run the wheel's ``lmp`` (under the mpich wheel's ``mpiexec``) with ``pair_style glassceramic`` and read back
energy, per-atom energies, forces and virial at full precision."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import ase
import ase.data
import ase.io
import numpy as np

from aiida_glassceramic.potentials.lammps_plugin import plugin_environment

BIN = Path(sys.executable).parent
BOX = ('lx', 'ly', 'lz', 'xy', 'xz', 'yz')
NKTV2P_METAL = 1.6021765e6  # LAMMPS' pressure conversion in units metal (bar per eV/A^3)
VIRIAL = ' '.join(f'c_virial[{k}]' for k in range(1, 7))
STRESS_SUM = ' '.join(f'c_stress_sum[{k}]' for k in range(1, 7))


@dataclass
class Result:
    energy: float
    atom_energies: np.ndarray
    forces: np.ndarray
    virial: np.ndarray  # eV, xx yy zz xy xz yz
    atom_virial_sum: np.ndarray  # eV: the sum of the per-atom virials (compute stress/atom)
    positions: np.ndarray
    cell: np.ndarray  # LAMMPS' frame, lattice vectors as rows
    numbers: np.ndarray
    output: str


def write_data(atoms: ase.Atoms, path: Path, elements: tuple[str, ...]) -> Path:
    ase.io.write(path, atoms, format='lammps-data', specorder=list(elements), masses=True, units='metal')
    return path


def script(data: str, potential: str, pair_coeff_elements: str, body: str = 'run 0', setup: str = '') -> str:
    return (
        f'units metal\natom_style atomic\nboundary p p p\n{setup}read_data {data}\n'
        f'pair_style glassceramic\npair_coeff * * {potential} {pair_coeff_elements}\n'
        'compute pe_atom all pe/atom\ncompute virial all pressure NULL virial\n'
        'compute stress all stress/atom NULL virial\n'
        'compute stress_sum all reduce sum ' + ' '.join(f'c_stress[{k}]' for k in range(1, 7)) + '\n'
        f'thermo_style custom step pe vol {VIRIAL} {STRESS_SUM}\nthermo_modify format float %.17g\n'
        f'{body}\n'
        'write_dump all custom final.dump id type x y z fx fy fz c_pe_atom modify sort id format float %.17g\n'
        'print "$(pe:%.17g) $(vol:%.17g) '
        + ' '.join(f'$({name}:%.17g)' for name in BOX)
        + ' '
        + ' '.join(f'$(c_virial[{k}]:%.17g)' for k in range(1, 7))
        + ' '
        + ' '.join(f'$(c_stress_sum[{k}]:%.17g)' for k in range(1, 7))
        + '" file results.txt screen no\n'
    )


def run_lmp(folder: Path, text: str, ranks: int = 1, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run ``text`` as ``in.lmp`` in ``folder``; the plugin is found through LAMMPS_PLUGIN_PATH."""
    (folder / 'in.lmp').write_text(text)
    env = dict(os.environ, **plugin_environment(), OMP_NUM_THREADS='1')
    env['LD_LIBRARY_PATH'] = f'{BIN.parent / "lib"}:{env.get("LD_LIBRARY_PATH", "")}'
    command = [str(BIN / 'lmp'), '-in', 'in.lmp', '-log', 'log.lammps']
    if ranks > 1:
        command = [str(BIN / 'mpiexec'), '-n', str(ranks), *command]
    return subprocess.run(command, cwd=folder, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def read_result(folder: Path, numbers_of_types: dict[int, int], output: str) -> Result:
    values = [float(x) for x in (folder / 'results.txt').read_text().split()]
    energy, volume = values[:2]
    lx, ly, lz, xy, xz, yz = values[2:8]
    cell = np.array([[lx, 0.0, 0.0], [xy, ly, 0.0], [xz, yz, lz]])
    table = np.loadtxt(folder / 'final.dump', skiprows=9, ndmin=2)
    return Result(
        energy=energy,
        atom_energies=table[:, 8],
        forces=table[:, 5:8],
        virial=np.array(values[8:14]) * volume / NKTV2P_METAL,
        atom_virial_sum=-np.array(values[14:20]) / NKTV2P_METAL,  # stress/atom is minus the virial (bar A^3)
        positions=table[:, 2:5],
        cell=cell,
        numbers=np.array([numbers_of_types[int(t)] for t in table[:, 1]]),
        output=output,
    )


def evaluate(
    folder: Path,
    atoms: ase.Atoms,
    potential: Path,
    elements: tuple[str, ...],
    *,
    ranks: int = 1,
    body: str = 'run 0',
    pair_coeff_elements: str | None = None,
    setup: str = '',
) -> Result:
    """Energy, forces, per-atom energies and virial of ``atoms`` from LAMMPS (``elements``: the atom types)."""
    folder.mkdir(parents=True, exist_ok=True)
    write_data(atoms, folder / 'structure.data', elements)
    text = script('structure.data', str(potential), pair_coeff_elements or ' '.join(elements), body, setup)
    completed = run_lmp(folder, text, ranks)
    if completed.returncode != 0:
        raise RuntimeError(f'lmp failed ({completed.returncode}):\n{completed.stdout[-3000:]}\n{completed.stderr}')
    numbers = {index + 1: ase.data.atomic_numbers[symbol] for index, symbol in enumerate(elements)}
    return read_result(folder, numbers, completed.stdout)
