"""Mean-square displacement, diffusion coefficients, Arrhenius barriers and Nernst-Einstein conductivity.

Units: positions A, times ps, D in A^2/ps (1 A^2/ps = 1e-4 cm^2/s), energies eV, conductivity S/cm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy import constants
from scipy.fft import irfft, next_fast_len, rfft

from .errors import AnalysisError

A2_PER_PS_TO_CM2_PER_S = 1e-4
BOLTZMANN_EV = constants.k / constants.e
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


@dataclass(frozen=True)
class DiffusionFit:
    """D = slope / (2 d) of a straight line through the MSD over ``window`` (ps); stderr from the fit."""

    diffusion: float
    stderr: float
    intercept: float
    window: tuple[float, float]
    npoints: int

    @property
    def diffusion_cm2_per_s(self) -> float:
        return self.diffusion * A2_PER_PS_TO_CM2_PER_S


def diffusion_coefficient(
    times: np.ndarray, msd: np.ndarray, window: tuple[float, float] = (100.0, 1000.0), dimensions: int = 3
) -> DiffusionFit:
    """Fit MSD(t) = 2 d D t + c over ``window`` (ps; paper: 0.1-1 ns) and return D (A^2/ps) with its error.

    The standard error is that of the least-squares slope; MSD points at neighbouring lags are correlated,
    so treat it as a lower bound (compare runs or halves of the atoms for a fuller error).
    """
    times, msd = np.asarray(times, dtype=float), np.asarray(msd, dtype=float)
    if times.size == 0 or times.shape != msd.shape:
        raise AnalysisError(f'times, msd: shapes {times.shape}, {msd.shape}; need two equal, non-empty arrays')
    start, stop = (float(x) for x in window)
    if not 0 <= start < stop:
        raise AnalysisError(f'window `{window}`: need 0 <= start < stop (ps)')
    if times[-1] < stop:
        raise AnalysisError(
            f'window `{window}`: the trajectory covers only {times[-1]:g} ps, fewer frames than the fit window; '
            'run longer or shorten the window'
        )
    inside = (times >= start) & (times <= stop)
    if inside.sum() < 3:
        raise AnalysisError(f'window `{window}`: only {int(inside.sum())} frames inside; need at least 3')
    (slope, intercept), cov = np.polyfit(times[inside], msd[inside], 1, cov=True)
    factor = 2.0 * dimensions
    return DiffusionFit(slope / factor, float(np.sqrt(cov[0, 0])) / factor, intercept, (start, stop), int(inside.sum()))


@dataclass(frozen=True)
class ArrheniusFit:
    """D = D0 exp(-Ea / kT): barrier Ea (eV) and ln D0 with standard errors (NaN for two points)."""

    activation_energy: float
    activation_energy_stderr: float
    log_prefactor: float
    log_prefactor_stderr: float


def arrhenius_fit(
    temperatures: Sequence[float], diffusion: Sequence[float], diffusion_stderr: Sequence[float] | None = None
) -> ArrheniusFit:
    """Least-squares line through ln D against 1/T (K); weighted by D / stderr(D) when errors are given."""
    temperatures, diffusion = np.asarray(temperatures, dtype=float), np.asarray(diffusion, dtype=float)
    if temperatures.shape != diffusion.shape or temperatures.size < 2:
        raise AnalysisError('temperatures, diffusion: need equal lengths and at least two temperatures')
    if np.any(temperatures <= 0) or np.any(diffusion <= 0):
        raise AnalysisError('temperatures, diffusion: must all be positive (K, any unit of D)')
    if len(np.unique(temperatures)) < 2:
        raise AnalysisError('temperatures: need at least two different temperatures')
    x, y = 1.0 / temperatures, np.log(diffusion)
    weights = np.ones_like(x)
    if diffusion_stderr is not None:
        sigma = np.asarray(diffusion_stderr, dtype=float) / diffusion
        if sigma.shape != x.shape or np.any(sigma <= 0):
            raise AnalysisError('diffusion_stderr: need one positive error per temperature')
        weights = 1.0 / sigma
    design = np.stack([x, np.ones_like(x)], axis=1) * weights[:, None]
    coefficients, *_ = np.linalg.lstsq(design, y * weights, rcond=None)
    dof = len(x) - 2
    if dof > 0:
        residual = y * weights - design @ coefficients
        scale = 1.0 if diffusion_stderr is not None else float(residual @ residual / dof)
        errors = np.sqrt(np.diag(np.linalg.inv(design.T @ design)) * scale)
    else:
        errors = np.full(2, np.nan)
    slope, intercept = coefficients
    return ArrheniusFit(-slope * BOLTZMANN_EV, errors[0] * BOLTZMANN_EV, intercept, errors[1])


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
