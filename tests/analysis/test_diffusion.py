"""MSD against LAMMPS compute msd and brute force; D of a random walk; Arrhenius; Nernst-Einstein by hand."""

import numpy as np
import pytest
from scipy import constants

from aiida_glassceramic.analysis import (
    AnalysisError,
    arrhenius_fit,
    diffusion_coefficient,
    iter_frames,
    mean_square_displacement,
    nernst_einstein,
    unwrapped_positions,
)
from tests.analysis.lammps_reference import lammps_msd_trajectory


@pytest.fixture(scope='module')
def lammps_run(tmp_path_factory):
    folder = tmp_path_factory.mktemp('msd')
    return folder, lammps_msd_trajectory(folder)


@pytest.mark.parametrize('dump', ['images.dump', 'wrapped.lammpstrj'])
@pytest.mark.parametrize('species', ['Li', 'P', 'S'])
def test_msd_equals_lammps(lammps_run, dump, species):
    """Image flags and minimum-image increments (wrapped dump, triclinic box) both reproduce LAMMPS."""
    folder, reference = lammps_run
    unwrapped, _ = unwrapped_positions(iter_frames(folder / dump, ['Li', 'P', 'S']), species)
    assert reference[species][-1] > 20.0  # the atoms crossed the periodic boundaries
    np.testing.assert_allclose(mean_square_displacement(unwrapped, origins='first'), reference[species], atol=2e-4)


def test_all_origins_equal_brute_force():
    positions = np.cumsum(np.random.default_rng(0).normal(size=(50, 7, 3)), axis=0)
    expected = [
        np.mean(np.sum((positions[lag:] - positions[: len(positions) - lag]) ** 2, axis=2)) for lag in range(50)
    ]
    np.testing.assert_allclose(mean_square_displacement(positions), expected, rtol=1e-10, atol=1e-10)


def test_random_walk_diffusion_within_five_percent():
    diffusion, dt = 0.05, 0.01  # A^2/ps, ps
    rng = np.random.default_rng(42)
    steps = rng.normal(scale=np.sqrt(2 * diffusion * dt), size=(2000, 300, 3))
    msd = mean_square_displacement(np.cumsum(steps, axis=0))
    times = dt * np.arange(len(msd))
    fit = diffusion_coefficient(times, msd, window=(1.0, 10.0))
    assert fit.diffusion == pytest.approx(diffusion, rel=0.05)
    assert fit.diffusion_cm2_per_s == pytest.approx(diffusion * 1e-4, rel=0.05)
    assert 0 < fit.stderr < 0.05 * diffusion


def test_fit_window_longer_than_trajectory_is_refused():
    with pytest.raises(AnalysisError, match='fewer frames than the fit window'):
        diffusion_coefficient(np.arange(10.0), np.arange(10.0), window=(1.0, 100.0))


def test_arrhenius_recovers_barrier():
    barrier, prefactor = 0.3, 2.0
    temperatures = np.array([400.0, 500.0, 600.0, 700.0, 800.0])
    kelvin_in_ev = constants.k / constants.e
    noise = np.random.default_rng(1).normal(scale=0.02, size=5)
    diffusion = prefactor * np.exp(-barrier / (kelvin_in_ev * temperatures) + noise)
    fit = arrhenius_fit(temperatures, diffusion)
    assert fit.activation_energy == pytest.approx(barrier, abs=3 * fit.activation_energy_stderr + 1e-3)
    assert 0 < fit.activation_energy_stderr < 0.02
    exact = arrhenius_fit(temperatures[:2], prefactor * np.exp(-barrier / (kelvin_in_ev * temperatures[:2])))
    assert exact.activation_energy == pytest.approx(barrier, rel=1e-10)
    assert np.exp(exact.log_prefactor) == pytest.approx(prefactor, rel=1e-10)


def test_nernst_einstein_by_hand():
    """1920 Li in 115 000 A^3 at 300 K with D = 1e-5 cm^2/s (0.1 A^2/ps), written out in SI units."""
    n_per_m3 = 1920 / 115_000e-30
    by_hand = n_per_m3 * 1.602176634e-19**2 * 1e-9 / (1.380649e-23 * 300.0)  # S/m
    assert nernst_einstein(0.1, 1920, 115_000.0, 300.0) == pytest.approx(by_hand / 100.0, rel=1e-9)
    assert nernst_einstein(0.1, 1920, 115_000.0, 300.0, haven_ratio=0.5) == pytest.approx(by_hand / 50.0, rel=1e-9)
    with pytest.raises(AnalysisError, match='volume'):
        nernst_einstein(0.1, 1920, 0.0, 300.0)


def test_empty_trajectory_is_refused():
    with pytest.raises(AnalysisError, match='empty'):
        unwrapped_positions(iter([]))
