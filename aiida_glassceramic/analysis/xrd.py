"""Powder X-ray diffraction pattern and crystallinity.

Same physics as pyxtal's ``XRD`` (the reference of the study): all reflections hkl with 2theta in range,
atomic form factors ``f = Z - 41.78214 s^2 sum_i a_i exp(-b_i s^2)`` (s = sin(theta)/lambda, the
parameters pyxtal and pymatgen ship), Lorentz-polarisation ``(1 + cos^2 2theta) / (sin^2 theta cos theta)``,
no Debye-Waller factor, and a Gaussian profile integrated over each 2theta bin (pyxtal's ``get_profile``).

Structure factors are evaluated as matrix products: ``exp(-2 pi i (h x + k y + l z))`` factorises per
axis, so for a block of (h, k) the sum over atoms is one complex matrix product with the l factors;
Friedel pairs (hkl and -h-k-l) are computed once. For the 5760-atom cell this is seconds where a loop
over reflections and atoms takes minutes.

Crystallinity = integrated area of the Bragg peaks / integrated area of the whole pattern. Peaks are
those of ``scipy.signal.find_peaks`` with a full width at half prominence of at most ``max_width``
degrees (broader maxima are the amorphous halo) and a prominence of at least ``min_prominence`` times
the pattern maximum and at least ``contrast`` times the noise level of the diffuse scattering. The
diffuse scattering of a finite disordered cell is speckled - one reflection per 1/V of reciprocal space,
each with exponentially distributed intensity around the Laue level times S(q) - so its spikes reach
a few times ``speckle`` of :class:`XRDPattern` (pass it), while Bragg peaks, whose intensity grows with
the square of the number of ordered atoms, rise far above it. For a pattern from elsewhere (no
``speckle``) the noise level is the running median over ``window`` degrees. The area of a peak is the pattern
above its prominence base line (the higher of the two minima that bound it within ``window`` degrees),
between the points where the pattern crosses that line; where peaks overlap, each point counts once,
above the lowest base line.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

import ase
import numpy as np
from ase.data import atomic_numbers
from scipy.ndimage import median_filter
from scipy.signal import find_peaks, peak_widths
from scipy.special import erf

from ..descriptors.periodic import fractional_coordinates
from ._common import periodic_cell
from .errors import AnalysisError

CU_KALPHA = 1.54184
FORM_FACTOR_SCALE = 41.78214
BLOCK_ELEMENTS = 2_000_000


@dataclass(frozen=True)
class Reflections:
    """Distinct reflections: 2theta (deg), d spacing (A) and intensity (``|F|^2`` times Lorentz-polarisation)."""

    two_theta: np.ndarray
    d_spacing: np.ndarray
    intensity: np.ndarray


@dataclass(frozen=True)
class XRDPattern:
    """Profile on the 2theta grid (deg), intensity scaled to a maximum of 100, and its reflections.

    ``laue`` is the Laue level on the same scale: the mean pattern of the same atoms at uncorrelated
    positions, ``sum_a f_a^2 LP`` times the number of reflections per bin (``V 4 pi g^2 dg``).
    ``speckle`` is the typical height of its fluctuations in this finite cell: ``laue / sqrt(n)`` with
    n the number of reflections under one peak width (``laue / n`` when n < 1).
    """

    two_theta: np.ndarray
    intensity: np.ndarray
    laue: np.ndarray
    speckle: np.ndarray
    reflections: Reflections


@dataclass(frozen=True)
class Crystallinity:
    """Crystallinity (fraction of the pattern area in Bragg peaks) and the peaks that make it."""

    fraction: float
    peak_two_theta: np.ndarray
    peak_area: float
    total_area: float


@cache
def _scattering_parameters() -> dict[str, list[list[float]]]:
    path = resources.files('pyxtal') / 'database' / 'atomic_scattering_params.json'
    return json.loads(path.read_text())


def form_factor(symbol: str, s2: np.ndarray) -> np.ndarray:
    """X-ray atomic form factor of ``symbol`` at ``s2 = (sin(theta)/lambda)^2`` (1/A^2)."""
    try:
        coefficients = np.asarray(_scattering_parameters()[symbol])
    except KeyError:
        raise AnalysisError(f'species `{symbol}`: no X-ray form factor tabulated') from None
    tail = (coefficients[:, 0] * np.exp(-np.outer(s2, coefficients[:, 1]))).sum(axis=1)
    return atomic_numbers[symbol] - FORM_FACTOR_SCALE * s2 * tail


def reflections(
    atoms: ase.Atoms, wavelength: float = CU_KALPHA, two_theta_range: tuple[float, float] = (10.0, 60.0)
) -> Reflections:
    """Every reflection with 2theta in range, equal 2theta (to 1e-5 deg) merged by summing intensities."""
    low, high = (float(x) for x in two_theta_range)
    if not 0.0 <= low < high < 180.0:
        raise AnalysisError(f'two_theta_range `{two_theta_range}`: need 0 <= min < max < 180 degrees')
    if not wavelength > 0:
        raise AnalysisError(f'wavelength `{wavelength}`: must be positive (A)')
    cell = periodic_cell(atoms)
    g_max = 2.0 * np.sin(np.radians(high) / 2.0) / wavelength
    g_min = 2.0 * np.sin(np.radians(low) / 2.0) / wavelength
    limits = np.floor(g_max * np.linalg.norm(cell, axis=1)).astype(int)
    reciprocal = np.linalg.inv(cell).T
    h = np.arange(0, limits[0] + 1)
    k = np.arange(-limits[1], limits[1] + 1)
    m = np.arange(-limits[2], limits[2] + 1)
    hkl = np.stack(np.meshgrid(h, k, m, indexing='ij'), axis=-1).reshape(-1, 3)
    g = np.linalg.norm(hkl @ reciprocal, axis=1)
    friedel = np.where(hkl[:, 0] > 0, 2.0, 0.0)
    friedel[(hkl[:, 0] == 0) & ((hkl[:, 1] > 0) | ((hkl[:, 1] == 0) & (hkl[:, 2] > 0)))] = 2.0
    keep = (g > g_min) & (g <= g_max) & (friedel > 0)
    s2 = (g[keep] / 2.0) ** 2
    amplitude = np.zeros(int(keep.sum()), dtype=complex)
    symbols = np.asarray(atoms.get_chemical_symbols())
    fractional = fractional_coordinates(atoms.positions, atoms.cell.array)  # phases need no wrapping
    for symbol in np.unique(symbols):
        factor = _species_factor(fractional[symbols == symbol], h, k, m).reshape(-1)
        amplitude += form_factor(str(symbol), s2) * factor[keep]
    theta = np.arcsin(g[keep] * wavelength / 2.0)
    lorentz = (1.0 + np.cos(2.0 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    intensity = friedel[keep] * np.abs(amplitude) ** 2 * lorentz
    two_theta = np.degrees(2.0 * theta)
    key = np.round(two_theta / 1e-5).astype(np.int64)
    unique, inverse = np.unique(key, return_inverse=True)
    merged = np.bincount(inverse, weights=intensity)
    first = np.zeros(len(unique), dtype=int)
    first[inverse[::-1]] = np.arange(len(key))[::-1]
    return Reflections(two_theta[first], 1.0 / g[keep][first], merged)


def _species_factor(fractional: np.ndarray, h: np.ndarray, k: np.ndarray, m: np.ndarray) -> np.ndarray:
    """``sum_atoms exp(-2 pi i (h x + k y + m z))`` on the grid h x k x m, block by block over h."""
    ex = np.exp(-2j * np.pi * np.outer(h, fractional[:, 0]))
    ey = np.exp(-2j * np.pi * np.outer(k, fractional[:, 1]))
    ez = np.exp(-2j * np.pi * np.outer(fractional[:, 2], m))
    result = np.empty((len(h), len(k), len(m)), dtype=complex)
    block = max(1, BLOCK_ELEMENTS // max(1, len(k) * len(fractional)))
    for start in range(0, len(h), block):
        stop = min(start + block, len(h))
        pair = (ex[start:stop, None, :] * ey[None, :, :]).reshape(-1, len(fractional))
        result[start:stop] = (pair @ ez).reshape(stop - start, len(k), len(m))
    return result


def xrd_pattern(
    atoms: ase.Atoms,
    wavelength: float = CU_KALPHA,
    two_theta_range: tuple[float, float] = (10.0, 60.0),
    step: float = 0.01,
    fwhm: float = 0.1,
) -> XRDPattern:
    """Powder pattern (Cu K-alpha by default) with Gaussian peaks of ``fwhm`` degrees on a ``step`` grid."""
    if not 0 < step < fwhm * 5:
        raise AnalysisError(f'step `{step}`, fwhm `{fwhm}`: need 0 < step < 5 fwhm (degrees)')
    found = reflections(atoms, wavelength, two_theta_range)
    low, high = two_theta_range
    grid = low + step * np.arange(round((high - low) / step) + 1)
    profile = _gaussian_profile(grid, step, found.two_theta, found.intensity, fwhm)
    peak = profile.max()
    if peak <= 0:
        raise AnalysisError(f'two_theta_range `{two_theta_range}`: no reflection in range; widen it')
    laue, per_bin = _laue_level(atoms, grid, step, wavelength)
    per_width = per_bin * fwhm / step
    speckle = laue / np.where(per_width < 1.0, per_width, np.sqrt(per_width))
    return XRDPattern(grid, 100.0 * profile / peak, 100.0 * laue / peak, 100.0 * speckle / peak, found)


def _laue_level(atoms: ase.Atoms, grid: np.ndarray, step: float, wavelength: float):
    theta = np.radians(grid / 2.0)
    g = 2.0 * np.sin(theta) / wavelength
    symbols, counts = np.unique(atoms.get_chemical_symbols(), return_counts=True)
    squares = sum(n * form_factor(str(s), (g / 2.0) ** 2) ** 2 for s, n in zip(symbols, counts, strict=True))
    lorentz = (1.0 + np.cos(2.0 * theta) ** 2) / (np.sin(theta) ** 2 * np.cos(theta))
    per_bin = atoms.cell.volume * 4.0 * np.pi * g**2 * np.cos(theta) / wavelength * np.radians(step)
    return squares * lorentz * per_bin, per_bin


def _gaussian_profile(grid, step, centres, heights, fwhm) -> np.ndarray:
    width = fwhm / (2.0 * np.sqrt(2.0 * np.log(2.0))) * np.sqrt(2.0)
    half = int(np.ceil(4.0 * fwhm / step)) + 1
    first = np.rint((centres - grid[0]) / step).astype(int) - half
    bins = first[:, None] + np.arange(2 * half + 1)[None, :]
    edges = grid[0] + (bins - 0.5) * step
    cdf = erf((np.concatenate([edges, edges[:, -1:] + step], axis=1) - centres[:, None]) / width)
    weights = 0.5 * np.diff(cdf, axis=1) * heights[:, None]
    valid = (bins >= 0) & (bins < len(grid))
    return np.bincount(bins[valid], weights=weights[valid], minlength=len(grid))


def crystallinity(
    two_theta: np.ndarray,
    intensity: np.ndarray,
    *,
    min_prominence: float = 0.01,
    max_width: float = 1.0,
    window: float = 4.0,
    contrast: float = 16.0,
    speckle: np.ndarray | None = None,
) -> Crystallinity:
    """Integrated Bragg-peak area / integrated pattern area (see the module text for the definitions)."""
    two_theta, intensity = np.asarray(two_theta, dtype=float), np.asarray(intensity, dtype=float)
    if two_theta.shape != intensity.shape or two_theta.size < 3:
        raise AnalysisError('two_theta, intensity: need two arrays of the same length (at least 3 points)')
    step = float(np.mean(np.diff(two_theta)))
    top = intensity.max()
    if not top > 0:
        raise AnalysisError('intensity: the pattern is zero everywhere; nothing to integrate')
    peaks, props = find_peaks(
        intensity,
        prominence=min_prominence * top,
        width=(None, max_width / step),
        rel_height=0.5,
        wlen=max(3, int(window / step)),
    )
    if speckle is None:
        background = median_filter(intensity, size=max(3, int(window / step)), mode='nearest')
    else:
        background = np.asarray(speckle, dtype=float)
    sharp = props['prominences'] >= contrast * background[peaks]
    peaks, props = peaks[sharp], {key: value[sharp] for key, value in props.items()}
    excess = np.zeros_like(intensity)
    if peaks.size:
        _, base, left, right = peak_widths(intensity, peaks, rel_height=1.0, prominence_data=_prom(props))
        for base_level, lo, hi in zip(base, np.ceil(left).astype(int), np.floor(right).astype(int), strict=True):
            segment = slice(lo, hi + 1)
            excess[segment] = np.maximum(excess[segment], intensity[segment] - base_level)
    total = float(np.trapezoid(intensity, two_theta))
    area = float(np.trapezoid(np.clip(excess, 0.0, None), two_theta))
    return Crystallinity(area / total, two_theta[peaks], area, total)


def _prom(props: dict) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return props['prominences'], props['left_bases'], props['right_bases']
