"""MSD against LAMMPS compute msd and brute force; D of random walks and the coverage of its interval; drift removal
by hand; weighted Arrhenius fits against repeated synthetic experiments; Nernst-Einstein by hand."""

import numpy as np
import pytest
from ase import Atoms
from scipy import constants

from aiida_glassceramic.analysis import (
    AnalysisError,
    arrhenius_fit,
    centre_of_mass_positions,
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


@pytest.mark.parametrize('dump', ['images.dump', 'wrapped.lammpstrj', 'unwrapped.dump'])
@pytest.mark.parametrize('species', ['Li', 'P', 'S'])
def test_msd_equals_lammps(lammps_run, dump, species):
    """Image flags, minimum-image increments (wrapped dump, triclinic box) and unwrapped columns that come with
    image flags (``xu yu zu ix iy iz``, once unwrapped twice: MSD 16x too large) all reproduce LAMMPS."""
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


def random_walks(seed: int, diffusion: float, dt: float, nframes: int, natoms: int) -> np.ndarray:
    steps = np.random.default_rng(seed).normal(scale=np.sqrt(2 * diffusion * dt), size=(nframes, natoms, 3))
    return np.cumsum(steps, axis=0)


def test_random_walk_diffusion_and_its_interval():
    fit = diffusion_coefficient(random_walks(42, 0.05, 0.01, 1000, 200), 0.01, window=(1.0, 9.99))
    assert fit.diffusion == pytest.approx(0.05, rel=0.05)
    assert fit.diffusion_cm2_per_s == pytest.approx(fit.diffusion * 1e-4)
    assert 0 < fit.stderr < 0.05 * fit.diffusion
    low, high = fit.interval
    assert low < fit.diffusion < high
    assert high - low == pytest.approx(2 * 1.96 * fit.stderr, rel=0.2)  # a near-normal posterior


def test_95_percent_interval_covers_the_true_diffusion_coefficient():
    """50 independent random walks of 30 atoms over 150 frames: the 95 % interval holds the true D in 90-99 %."""
    diffusion, dt = 0.05, 0.1
    covered = []
    for seed in range(50):
        walks = random_walks(seed, diffusion, dt, 150, 30)
        fit = diffusion_coefficient(walks, dt, window=(1.0, 14.9), npoints=30, mcmc=(16, 300, 500, 3), seed=seed)
        covered.append(fit.interval[0] <= diffusion <= fit.interval[1])
    assert 0.90 <= np.mean(covered) <= 0.99


def test_centre_of_mass_drift_is_removed():
    """Li walkers and a rigid S frame, all drifting (wrapped into the cell): the result equals the unwrapped Li
    positions minus the mass-weighted centre of all atoms, written out here, so the drift cancels."""
    nframes, natoms = 60, 8
    li = random_walks(3, 0.05, 0.1, nframes, natoms)
    sulfur = np.random.default_rng(3).uniform(0, 12, size=(4, 3))
    drift = np.outer(np.arange(nframes) * 0.3, [1.0, 0.5, 0.0])
    unwrapped = np.concatenate([li, np.broadcast_to(sulfur, (nframes, 4, 3))], axis=1) + drift[:, None, :]
    frames = [Atoms('Li8S4', positions=positions, cell=np.eye(3) * 12.0, pbc=True) for positions in unwrapped]
    for atoms in frames:
        atoms.wrap()
    masses = frames[0].get_masses()
    centre = np.einsum('a,fad->fd', masses / masses.sum(), unwrapped)
    expected = unwrapped[:, :natoms] - centre[:, None, :]
    centred, removed = centre_of_mass_positions(frames, 'Li')
    assert removed
    np.testing.assert_allclose(centred - centred[0], expected - expected[0], atol=1e-9)
    assert np.abs(drift[-1]).max() > 10.0, 'the raw drift would dominate the MSD'
    alone, removed = centre_of_mass_positions([atoms[:natoms] for atoms in frames], 'Li')
    assert not removed, 'no system to refer to: a dump of Li alone stays as it is'
    np.testing.assert_allclose(alone - alone[0], li - li[0] + (drift - drift[0])[:, None, :], atol=1e-9)


def test_fit_window_longer_than_trajectory_is_refused():
    with pytest.raises(AnalysisError, match='fewer frames than the fit window'):
        diffusion_coefficient(np.zeros((10, 2, 3)), 1.0, window=(1.0, 100.0))


KELVIN_IN_EV = constants.k / constants.e
TEMPERATURES = np.array([400.0, 500.0, 600.0, 700.0, 800.0])


def test_arrhenius_recovers_barrier():
    barrier, prefactor = 0.3, 2.0
    noise = np.random.default_rng(1).normal(scale=0.02, size=5)
    diffusion = prefactor * np.exp(-barrier / (KELVIN_IN_EV * TEMPERATURES) + noise)
    fit = arrhenius_fit(TEMPERATURES, diffusion)
    assert fit.activation_energy == pytest.approx(barrier, abs=3 * fit.activation_energy_stderr + 1e-3)
    assert 0 < fit.activation_energy_stderr < 0.02
    exact = arrhenius_fit(TEMPERATURES[:2], prefactor * np.exp(-barrier / (KELVIN_IN_EV * TEMPERATURES[:2])))
    assert exact.activation_energy == pytest.approx(barrier, rel=1e-10)
    assert np.exp(exact.log_prefactor) == pytest.approx(prefactor, rel=1e-10)
    assert np.isnan(exact.activation_energy_stderr)


def test_weighted_arrhenius_interval_and_propagated_error_match_repeated_experiments():
    """Synthetic D with known relative errors (5-20 %): over 400 noisy data sets, Ea lies in its 95 % interval
    about 95 % of the time and the stated errors of Ea and of ln D(300 K) equal the spread of the estimates."""
    barrier, prefactor = 0.25, 3.0
    relative = np.array([0.2, 0.1, 0.05, 0.08, 0.15])
    truth = prefactor * np.exp(-barrier / (KELVIN_IN_EV * TEMPERATURES))
    rng = np.random.default_rng(7)
    barriers, inside, extrapolated = [], [], []
    for _ in range(400):
        diffusion = truth * np.exp(rng.normal(scale=relative))
        fit = arrhenius_fit(TEMPERATURES, diffusion, relative * diffusion)
        low, high = fit.activation_energy_interval
        barriers.append(fit.activation_energy)
        inside.append(low <= barrier <= high)
        extrapolated.append(fit.log_diffusion(300.0)[0])
    assert 0.92 <= np.mean(inside) <= 0.98
    assert np.std(barriers) == pytest.approx(fit.activation_energy_stderr, rel=0.1)
    assert np.mean(barriers) == pytest.approx(barrier, abs=3 * fit.activation_energy_stderr / np.sqrt(400))
    assert np.std(extrapolated) == pytest.approx(fit.log_diffusion(300.0)[1], rel=0.1)
    assert np.mean(extrapolated) == pytest.approx(np.log(prefactor) - barrier / (KELVIN_IN_EV * 300.0), abs=0.05)
    two = arrhenius_fit(TEMPERATURES[:2], truth[:2], relative[:2] * truth[:2])
    assert np.isfinite(two.activation_energy_stderr), 'errors of D give an error of Ea from two temperatures'


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
