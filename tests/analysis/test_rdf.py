"""g(r) equals LAMMPS compute rdf and ase.geometry.rdf, and tends to 1 for an ideal gas."""

import numpy as np
import pytest
from ase.geometry.rdf import get_rdf

from aiida_glassceramic.analysis import AnalysisError, pair_distribution
from tests.analysis.builders import beta, random_gas, sheared
from tests.analysis.lammps_reference import lammps_rdf

ELEMENTS = ['Li', 'P', 'S']


def test_equals_lammps_compute_rdf():
    atoms = beta((1, 2, 2))
    atoms.rattle(0.05, seed=2)
    table = lammps_rdf(atoms, 8.0, 80, ELEMENTS)
    ours = pair_distribution(atoms, rmax=8.0, nbins=80)
    np.testing.assert_allclose(ours.r, table[:, 0], atol=1e-12)
    np.testing.assert_allclose(ours.total, table[:, 1], atol=1e-10)
    column = 3
    for a in range(3):
        for b in range(a, 3):
            np.testing.assert_allclose(ours.partials[(ELEMENTS[a], ELEMENTS[b])], table[:, column], atol=1e-10)
            column += 2


def test_equals_ase_rdf_in_a_triclinic_cell():
    """ASE normalises by N_b instead of LAMMPS' N_b - 1 for equal elements: rescale by that factor."""
    atoms = sheared(beta((2, 3, 3)))
    atoms.rattle(0.05, seed=1)
    ours = pair_distribution(atoms, rmax=6.0, nbins=60)
    natoms = len(atoms)
    total, _ = get_rdf(atoms, 6.0, 60)
    np.testing.assert_allclose(ours.total * (natoms - 1) / natoms, total, atol=1e-10)
    count_s = atoms.get_chemical_symbols().count('S')
    partial = get_rdf(atoms, 6.0, 60, elements=['S', 'S'], no_dists=True)
    np.testing.assert_allclose(ours.partials[('S', 'S')] * (count_s - 1) / count_s, partial, atol=1e-10)
    np.testing.assert_allclose(ours.partials[('P', 'S')], get_rdf(atoms, 6.0, 60, elements=['P', 'S'], no_dists=True))


def test_ideal_gas_tends_to_one_and_frames_average():
    frames = [random_gas((2, 2, 2), seed=seed) for seed in range(4)]
    result = pair_distribution(iter(frames), rmax=6.0, nbins=30)
    assert result.nframes == 4
    assert np.mean(result.total[10:]) == pytest.approx(1.0, abs=0.02)
    assert np.mean(result.partials[('Li', 'S')][10:]) == pytest.approx(1.0, abs=0.05)


def test_crystal_has_no_pairs_below_the_p_s_bond():
    result = pair_distribution(beta((2, 2, 2)), rmax=6.0, nbins=60)
    p_s = result.partials[('P', 'S')]
    first = result.r[np.argmax(p_s > 0)]
    assert 1.95 < first < 2.15


def test_empty_trajectory_is_refused():
    with pytest.raises(AnalysisError, match='empty'):
        pair_distribution(iter([]), rmax=5.0)


@pytest.mark.parametrize('nudge', [0.0, 1e-12])
def test_perfect_sheared_crystal_equals_lammps(nudge):
    """An unrattled sheared 576-atom beta cell puts atoms at fractional coordinates of -1e-17: the case that once
    shifted their pairs by a lattice vector (Li-Li g(r) off by 1.9, pairs beyond the cut-off in the last bin, and a
    change of 0.89 when every atom moved by 1e-12 A)."""
    atoms = sheared(beta((3, 3, 2)))
    atoms.positions += nudge
    table = lammps_rdf(atoms, 8.0, 80, ELEMENTS)
    ours = pair_distribution(atoms, rmax=8.0, nbins=80)
    np.testing.assert_allclose(ours.total, table[:, 1], atol=1e-10)
    np.testing.assert_allclose(ours.partials[('Li', 'Li')], table[:, 3], atol=1e-10)
