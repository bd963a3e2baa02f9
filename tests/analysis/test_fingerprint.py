"""The entropy fingerprint equals LAMMPS compute entropy/atom and separates crystal from disorder."""

import numpy as np
import pytest

from aiida_glassceramic.analysis import AnalysisError, crystalline_fraction, entropy_fingerprint
from tests.analysis.builders import beta, random_gas, sheared
from tests.analysis.lammps_reference import lammps_entropy


def test_all_atoms_equal_lammps():
    atoms = beta((1, 2, 2))
    atoms.rattle(0.05, seed=2)
    reference = lammps_entropy(atoms, 0.1, 10.0, 9.0, ['Li', 'P', 'S'])
    ours = entropy_fingerprint(atoms, species=None, sublattice=False)
    np.testing.assert_allclose(ours.averaged, reference, rtol=1e-10)


def test_phosphorus_sublattice_equals_lammps_on_the_p_atoms():
    atoms = beta((2, 2, 2))
    atoms.rattle(0.05, seed=4)
    phosphorus = atoms[[symbol == 'P' for symbol in atoms.get_chemical_symbols()]]
    reference = lammps_entropy(phosphorus, 0.1, 10.0, 9.0, ['P'])
    ours = entropy_fingerprint(atoms, 'P')
    assert np.all(np.asarray(atoms.get_chemical_symbols())[ours.indices] == 'P')
    np.testing.assert_allclose(ours.averaged, reference, rtol=1e-10)


def test_crystal_is_separated_from_disorder():
    crystal = entropy_fingerprint(beta((2, 2, 2))).averaged
    disorder = entropy_fingerprint(random_gas((2, 2, 2))).averaged
    assert crystal.max() < disorder.min() - 1.0
    threshold = 0.5 * (crystal.mean() + disorder.mean())
    assert crystalline_fraction(crystal, threshold) == 1.0
    assert crystalline_fraction(disorder, threshold) == 0.0


def test_absent_species_is_named():
    with pytest.raises(AnalysisError, match='species `Na`'):
        entropy_fingerprint(beta(), 'Na')


def test_perfect_sheared_crystal_equals_lammps():
    """Unrattled, sheared, atoms on special positions (fractional -1e-17): the entropy fingerprint once moved by
    29.7 when every atom moved by 1e-12 A."""
    atoms = sheared(beta((1, 2, 2)))
    reference = lammps_entropy(atoms, 0.1, 10.0, 9.0, ['Li', 'P', 'S'])
    for nudge in (0.0, 1e-12):
        moved = atoms.copy()
        moved.positions += nudge
        ours = entropy_fingerprint(moved, species=None, sublattice=False)
        np.testing.assert_allclose(ours.averaged, reference, rtol=1e-9)


@pytest.mark.parametrize(
    ('settings', 'field'),
    [
        ({'average_cutoff': -9.0}, 'average_cutoff'),
        ({'average_cutoff': 0.0}, 'average_cutoff'),
        ({'cutoff': 0.2}, 'cutoff'),
        ({'sigma': 0.0}, 'sigma'),
        ({'cutoff': 5.0, 'sigma': 1.0}, 'sigma'),
        ({'cutoff': '10'}, 'cutoff'),
    ],
)
def test_meaningless_parameters_are_refused(settings, field):
    with pytest.raises(AnalysisError, match=f'^{field} .*must be'):
        entropy_fingerprint(beta(), 'P', **settings)
