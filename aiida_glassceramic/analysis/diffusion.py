"""Mean-square displacement, diffusion coefficients, Arrhenius barriers and Nernst-Einstein conductivity, each with
its uncertainty.

Units: positions A, times ps, D in A^2/ps (1 A^2/ps = 1e-4 cm^2/s), energies eV, conductivity S/cm.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ase
import numpy as np
from scipy import constants
from scipy.fft import irfft, next_fast_len, rfft

from ._common import species_mask
from .errors import AnalysisError
from .unwrap import Unwrapper

A2_PER_PS_TO_CM2_PER_S = 1e-4
BOLTZMANN_EV = constants.k / constants.e
Z95 = 1.959963984540054  # two-sided 95 % quantile of the normal distribution
ATOM_CHUNK = 256


def mean_square_displacement(unwrapped: np.ndarray, origins: str = 'all') -> np.ndarray:
    """MSD (A^2) per lag of frames, averaged over atoms, from unwrapped positions of shape (frames, atoms, 3).

    ``origins='all'`` averages over every time origin (FFT method, O(F log F) per atom);
    ``'first'`` measures from the first frame only (as LAMMPS ``compute msd``).
    """
    positions = np.asarray(unwrapped, dtype=float)
    if positions.ndim != 3 or positions.shape[2] != 3:
        raise AnalysisError(f'unwrapped: shape {positions.shape}; expected (frames, atoms, 3)')
    nframes, natoms = positions.shape[:2]
    if nframes < 2 or natoms == 0:
        raise AnalysisError(f'unwrapped: {nframes} frames of {natoms} atoms; need at least two frames and one atom')
    if origins == 'first':
        return np.mean(np.sum((positions - positions[:1]) ** 2, axis=2), axis=1)
    if origins != 'all':
        raise AnalysisError(f"origins `{origins}`: use 'all' or 'first'")
    size = next_fast_len(2 * nframes)
    power = np.zeros(size // 2 + 1)
    for start in range(0, natoms, ATOM_CHUNK):
        block = positions[:, start : start + ATOM_CHUNK].reshape(nframes, -1)
        spectrum = rfft(block, n=size, axis=0)
        power += np.sum(spectrum.real**2 + spectrum.imag**2, axis=1)
    lag_counts = nframes - np.arange(nframes)
    cross = irfft(power, n=size)[:nframes] / lag_counts
    square = np.einsum('fad,fad->f', positions, positions)
    removed = np.concatenate(([0.0], np.cumsum(square[:-1] + square[::-1][:-1])))
    self_term = (2.0 * square.sum() - removed) / lag_counts
    return (self_term - 2.0 * cross) / natoms


def centre_of_mass_positions(frames: Iterable[ase.Atoms], species: str | Sequence[str]) -> tuple[np.ndarray, bool]:
    """Unwrapped positions of the atoms of ``species`` relative to the centre of mass of all atoms, shape
    (frames, atoms, 3) in A, so that a drift of the whole content of the cell does not enter the MSD; and whether
    that reference existed.

    Frames that hold only atoms of ``species`` (a dump of the mobile ions alone) carry no centre of mass of the
    system: their positions come back unchanged with ``False``; MD with zero total momentum and
    translation-invariant forces (as the package's LAMMPS runs) has no drift to remove. Frames stream; only the
    selected atoms are kept.
    """
    unwrap, selected, weights, stack = Unwrapper(), None, None, []
    for atoms in frames:
        if selected is None:
            selected = species_mask(atoms.get_chemical_symbols(), species)
            masses = atoms.get_masses()
            weights = masses / masses.sum()
        everything = unwrap(atoms)
        if len(everything) != len(weights):
            raise AnalysisError('frames: the number of atoms changes between frames')
        reference = weights @ everything if not selected.all() else 0.0
        stack.append(everything[selected] - reference)
    if not stack:
        raise AnalysisError('frames: the trajectory is empty; give at least two frames')
    return np.stack(stack), not selected.all()


@dataclass(frozen=True)
class DiffusionFit:
    """D (A^2/ps) from kinisi's Bayesian regression of the MSD over ``window`` (ps): the posterior mean, its standard
    deviation and the central 95 % credible interval."""

    diffusion: float
    stderr: float
    interval: tuple[float, float]
    window: tuple[float, float]
    npoints: int

    @property
    def diffusion_cm2_per_s(self) -> float:
        return self.diffusion * A2_PER_PS_TO_CM2_PER_S


def diffusion_coefficient(
    unwrapped: np.ndarray,
    frame_interval: float,
    window: tuple[float, float] = (100.0, 1000.0),
    *,
    npoints: int = 100,
    mcmc: tuple[int, int, int, int] = (32, 1000, 500, 10),
    seed: int = 0,
) -> DiffusionFit:
    """D of the atoms in ``unwrapped`` (frames, atoms, 3; A; drift removed) from MSD(t) = 6 D t + c over ``window``.

    The estimator of kinisi (McCluskey et al., J. Chem. Theory Comput. 2024, 20, 170): the MSD at ``npoints`` lags
    over the window, averaged over every time origin, with the covariance of the MSD between lags modelled from the
    number of independent (non-overlapping) observations; a generalised least-squares likelihood sampled by MCMC
    gives the posterior of D. Frames after the window's end are not used (kinisi counts the independent
    observations over the trajectory it is given).

    :param frame_interval: time between frames (ps).
    :param mcmc: walkers, steps kept, burn-in steps and thinning of kinisi's ensemble sampler.
    :param seed: seed of the sampler, so that the same input gives the same numbers (kinisi seeds numpy's global
        random generator with it).
    """
    positions = np.asarray(unwrapped, dtype=float)
    if positions.ndim != 3 or positions.shape[2] != 3 or positions.shape[1] == 0:
        raise AnalysisError(f'unwrapped: shape {positions.shape}; expected (frames, atoms, 3) with atoms')
    if not frame_interval > 0:
        raise AnalysisError(f'frame_interval `{frame_interval}`: must be a positive time (ps)')
    start, stop = (float(x) for x in window)
    if not 0 <= start < stop:
        raise AnalysisError(f'window `{window}`: need 0 <= start < stop (ps)')
    covered = (len(positions) - 1) * frame_interval
    if covered < stop * (1 - 1e-9):
        raise AnalysisError(
            f'window `{window}`: the trajectory covers only {covered:g} ps, fewer frames than the fit window; '
            'run longer or shorten the window'
        )
    first, last = max(1, int(np.ceil(start / frame_interval - 1e-9))), int(np.floor(stop / frame_interval + 1e-9))
    lags = np.unique(np.round(np.linspace(first, last, npoints)).astype(int))
    if lags.size < 3:
        raise AnalysisError(f'window `{window}`: only {lags.size} lags inside; need at least 3 frames in the window')
    samples = _kinisi_diffusion(positions[: last + 1], frame_interval, lags, mcmc, seed)
    low, high = np.percentile(samples, [2.5, 97.5])
    return DiffusionFit(
        float(samples.mean()), float(samples.std(ddof=1)), (float(low), float(high)), (start, stop), int(lags.size)
    )


def _kinisi_diffusion(
    positions: np.ndarray, frame_interval: float, lags: np.ndarray, mcmc: tuple[int, int, int, int], seed: int
) -> np.ndarray:
    """Posterior samples of D (A^2/ps) from kinisi, fed with positions that are already continuous.

    kinisi unwraps by the minimum image between frames; the positions are given in a cell far larger than any
    step between frames, so that its unwrapping leaves them as they are and no framework drift is subtracted.
    """
    import scipp as sc  # kinisi and its scipp are imported here, by the one analysis that needs them
    from kinisi.diffusion_analyzer import DiffusionAnalyzer
    from kinisi.displacement import calculate_msd
    from kinisi.parser import Parser

    nframes, natoms, _ = positions.shape
    relative = positions - positions[0]
    edge = 4.0 * (np.abs(relative).max() + 1.0)
    trajectory = Parser(
        coords=sc.array(dims=['time', 'particle', 'dimension'], values=relative / edge),
        latt=sc.array(
            dims=['time', 'dimension1', 'dimension2'],
            values=np.broadcast_to(np.eye(3) * edge, (nframes, 3, 3)).copy(),
            unit='angstrom',
        ),
        time_step=sc.scalar(frame_interval, unit='ps'),
        step_skip=sc.scalar(1),
        dt=sc.array(dims=['time interval'], values=lags * frame_interval, unit='ps'),
        specie_indices=sc.arange('particle', natoms),
        drift_indices=sc.array(dims=['particle'], values=np.zeros(0, dtype=int)),
    )
    analyzer = DiffusionAnalyzer(trajectory)
    analyzer._dg = calculate_msd(trajectory, progress=False)  # as kinisi's own from_* constructors do
    nwalkers, nsamples, nburn, nthin = mcmc
    analyzer.diffusion(
        sc.scalar(lags[0] * frame_interval, unit='ps'),
        n_walkers=nwalkers,
        n_samples=nsamples,
        n_burn=nburn,
        n_thin=nthin,
        progress=False,
        random_state=np.random.RandomState(seed),
    )
    return sc.to_unit(analyzer.D, 'angstrom**2/ps').values


@dataclass(frozen=True)
class ArrheniusFit:
    """D = D0 exp(-Ea / kT): barrier Ea (eV) and ln D0 (D0 in the unit of D) with their covariance.

    ``covariance`` is that of (Ea, ln D0); NaN where the data cannot give it (two points without errors of D).
    ``chi2_per_dof`` compares the scatter about the line with the given errors of D (NaN without them or without
    degrees of freedom): near 1 when the errors of D account for the scatter.
    """

    activation_energy: float
    log_prefactor: float
    covariance: np.ndarray
    chi2_per_dof: float

    @property
    def activation_energy_stderr(self) -> float:
        return float(np.sqrt(self.covariance[0, 0]))

    @property
    def log_prefactor_stderr(self) -> float:
        return float(np.sqrt(self.covariance[1, 1]))

    @property
    def activation_energy_interval(self) -> tuple[float, float]:
        """Central 95 % interval of Ea (eV)."""
        half = Z95 * self.activation_energy_stderr
        return self.activation_energy - half, self.activation_energy + half

    def log_diffusion(self, temperature: float) -> tuple[float, float]:
        """ln D on the line at ``temperature`` (K) and its standard error (from the covariance of Ea and ln D0)."""
        gradient = np.array([-1.0 / (BOLTZMANN_EV * temperature), 1.0])
        value = self.log_prefactor + gradient[0] * self.activation_energy
        return float(value), float(np.sqrt(gradient @ self.covariance @ gradient))


def arrhenius_fit(
    temperatures: Sequence[float], diffusion: Sequence[float], diffusion_stderr: Sequence[float] | None = None
) -> ArrheniusFit:
    """Straight line through ln D against 1/T (K).

    With ``diffusion_stderr`` it is weighted by the error of ln D (stderr / D) and its covariance follows from those
    errors (valid from two temperatures on); without, it is unweighted with the covariance from the scatter.
    """
    temperatures, diffusion = np.asarray(temperatures, dtype=float), np.asarray(diffusion, dtype=float)
    if temperatures.shape != diffusion.shape or temperatures.size < 2:
        raise AnalysisError('temperatures, diffusion: need equal lengths and at least two temperatures')
    if np.any(temperatures <= 0) or np.any(diffusion <= 0):
        raise AnalysisError('temperatures, diffusion: must all be positive (K, any unit of D)')
    if len(np.unique(temperatures)) < 2:
        raise AnalysisError('temperatures: need at least two different temperatures')
    x, y = -1.0 / (BOLTZMANN_EV * temperatures), np.log(diffusion)
    weights = np.ones_like(x)
    if diffusion_stderr is not None:
        sigma = np.asarray(diffusion_stderr, dtype=float) / diffusion
        if sigma.shape != x.shape or not np.all(sigma > 0):
            raise AnalysisError('diffusion_stderr: need one positive error per temperature')
        weights = 1.0 / sigma
    design = np.stack([x, np.ones_like(x)], axis=1) * weights[:, None]
    coefficients, *_ = np.linalg.lstsq(design, y * weights, rcond=None)
    residual = y * weights - design @ coefficients
    dof = len(x) - 2
    chi2_per_dof = float(residual @ residual / dof) if dof > 0 and diffusion_stderr is not None else float('nan')
    if diffusion_stderr is not None:
        covariance = np.linalg.inv(design.T @ design)
    elif dof > 0:
        covariance = np.linalg.inv(design.T @ design) * float(residual @ residual / dof)
    else:
        covariance = np.full((2, 2), np.nan)
    return ArrheniusFit(float(coefficients[0]), float(coefficients[1]), covariance, chi2_per_dof)


def nernst_einstein(
    diffusion: float,
    carriers: int,
    volume: float,
    temperature: float,
    *,
    charge: float = 1.0,
    haven_ratio: float = 1.0,
) -> float:
    """Ionic conductivity (S/cm) = n (z e)^2 D / (k_B T H_R), D in A^2/ps, volume in A^3, T in K."""
    if volume <= 0:
        raise AnalysisError(f'volume `{volume}`: must be positive (A^3)')
    if temperature <= 0 or haven_ratio <= 0 or carriers <= 0:
        raise AnalysisError('temperature, haven_ratio and carriers must be positive')
    density_per_cm3 = carriers / (volume * 1e-24)
    diffusion_cm2_per_s = diffusion * A2_PER_PS_TO_CM2_PER_S
    thermal = constants.k * temperature * haven_ratio
    return density_per_cm3 * (charge * constants.e) ** 2 * diffusion_cm2_per_s / thermal
