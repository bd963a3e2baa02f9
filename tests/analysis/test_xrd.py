"""XRD peaks equal pyxtal's and pymatgen's; crystallinity tells crystals from disorder."""

import numpy as np
import pytest
from pymatgen.analysis.diffraction.xrd import XRDCalculator
from pymatgen.io.ase import AseAtomsAdaptor
from pyxtal.XRD import XRD

from aiida_glassceramic.analysis import AnalysisError, crystallinity, reflections, xrd_pattern
from aiida_glassceramic.structures import read_crystal
from tests.analysis.builders import beta, random_gas


def _visible(found, floor=1e-7):
    keep = found.intensity / found.intensity.max() > floor
    return found.two_theta[keep], found.intensity[keep] / found.intensity[keep].max()


@pytest.mark.parametrize('name', ['beta', 'gamma'])
def test_reflections_equal_pyxtal(name):
    atoms = read_crystal(name)
    reference = XRD(atoms, wavelength=1.54184, thetas=[10, 60])
    two_theta, intensity = _visible(reflections(atoms))
    expected = np.asarray(reference.xrd_intensity)
    np.testing.assert_allclose(two_theta, reference.theta2, atol=1e-8)
    np.testing.assert_allclose(intensity, expected / expected.max(), atol=1e-9)


@pytest.mark.parametrize('name', ['beta', 'gamma'])
def test_peak_positions_equal_pymatgen(name):
    atoms = read_crystal(name)
    pattern = XRDCalculator(wavelength=1.54184).get_pattern(
        AseAtomsAdaptor.get_structure(atoms), two_theta_range=(10, 60)
    )
    two_theta, intensity = _visible(reflections(atoms), floor=1e-3)
    strong = pattern.y > 0.1
    nearest = np.abs(two_theta[:, None] - pattern.x[strong][None, :]).min(axis=0)
    assert nearest.max() < 2e-3
    matched = np.array([intensity[np.argmin(np.abs(two_theta - x))] for x in pattern.x[strong]])
    np.testing.assert_allclose(matched * 100, pattern.y[strong], rtol=0.02, atol=0.2)


def test_profile_equals_pyxtal_profile():
    atoms = read_crystal('beta')
    reference = XRD(atoms, wavelength=1.54184, thetas=[10, 60]).get_profile(method='gaussian', res=0.02)
    ours = xrd_pattern(atoms, step=0.02)
    assert np.argmax(ours.intensity) == pytest.approx(np.argmax(reference[1]), abs=1)
    assert ours.two_theta[np.argmax(ours.intensity)] == pytest.approx(reference[0][np.argmax(reference[1])], abs=0.02)


def test_supercell_pattern_equals_unit_cell_pattern():
    small, large = xrd_pattern(beta()), xrd_pattern(beta((2, 2, 2)))
    np.testing.assert_allclose(small.intensity, large.intensity, atol=1e-6)


def _crystallinity(pattern):
    return crystallinity(pattern.two_theta, pattern.intensity, speckle=pattern.speckle).fraction


def test_crystallinity_of_crystal_and_disorder():
    assert _crystallinity(xrd_pattern(beta((2, 2, 2)))) > 0.8
    assert _crystallinity(xrd_pattern(random_gas((4, 4, 3)))) < 0.1


def test_random_cell_scatters_at_the_laue_level():
    """Uncorrelated atoms scatter sum_a f_a^2 on average (the Laue sum rule): the pattern follows ``laue``."""
    pattern = xrd_pattern(random_gas((4, 4, 3), seed=7))
    assert np.mean(pattern.intensity / pattern.laue) == pytest.approx(1.0, abs=0.05)


def test_half_crystalline_cell_is_in_between():
    atoms = beta((4, 4, 3))
    fractional = atoms.get_scaled_positions()
    melted = fractional[:, 0] >= 0.5
    fractional[melted] = np.random.default_rng(1).random((melted.sum(), 3))
    atoms.set_scaled_positions(fractional)
    assert 0.25 < _crystallinity(xrd_pattern(atoms)) < 0.75


def test_bad_range_is_refused():
    with pytest.raises(AnalysisError, match='two_theta_range'):
        xrd_pattern(beta(), two_theta_range=(60, 10))
