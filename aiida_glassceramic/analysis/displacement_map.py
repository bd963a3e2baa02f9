"""Li displacement map: how far each ion moves over a time window, binned where it started.

For every window start (every ``stride`` frames), each selected atom's displacement amplitude
``|r(t + window) - r(t)|`` (unwrapped, A) is added to the voxel of the cell (fractional grid) that holds
the atom at time t. The map is the mean amplitude per voxel; the projection averages along one axis,
weighting each voxel by its number of visits. Frames stream; only ``window + 1`` frames of the
selected atoms are kept.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import ase
import numpy as np

from ..descriptors.periodic import fractional_coordinates, wrap_fractional
from ._common import check_count, species_mask
from .errors import AnalysisError
from .unwrap import Unwrapper


@dataclass(frozen=True)
class DisplacementMap:
    """Sum of amplitudes and visit counts per voxel, with the mean map and its projection along ``axis``."""

    amplitude_sum: np.ndarray
    counts: np.ndarray
    axis: int

    @property
    def mean_amplitude(self) -> np.ndarray:
        """Mean displacement amplitude per voxel (A); NaN where no atom started."""
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(self.counts > 0, self.amplitude_sum / self.counts, np.nan)

    @property
    def projection(self) -> np.ndarray:
        """Visit-weighted mean amplitude along ``axis`` (A), a 2D image; NaN where no atom started."""
        total, visits = self.amplitude_sum.sum(axis=self.axis), self.counts.sum(axis=self.axis)
        with np.errstate(invalid='ignore', divide='ignore'):
            return np.where(visits > 0, total / visits, np.nan)


def displacement_map(
    frames: Iterable[ase.Atoms],
    window: int,
    *,
    species: str | Sequence[str] = 'Li',
    bins: Sequence[int] = (20, 20, 20),
    stride: int | None = None,
    axis: int = 2,
) -> DisplacementMap:
    """Map of displacement amplitudes over ``window`` frames (paper: 1 ps), windows every ``stride`` frames.

    :param stride: frames between window starts; default ``window`` (consecutive, non-overlapping windows).
    """
    window = check_count('window', window)
    stride = window if stride is None else check_count('stride', stride)
    if len(bins) != 3 or axis not in (0, 1, 2):
        raise AnalysisError(f'bins `{bins}`, axis `{axis}`: need three positive bin counts and axis 0, 1 or 2')
    bins = tuple(check_count('bins', b) for b in bins)
    amplitude_sum, counts = np.zeros(bins), np.zeros(bins, dtype=np.int64)
    history: deque = deque(maxlen=window + 1)
    unwrap, nframes = None, 0
    shape = np.asarray(bins)
    for atoms in frames:
        if unwrap is None:
            unwrap = Unwrapper(species_mask(atoms.get_chemical_symbols(), species))
        unwrapped = unwrap(atoms).copy()
        fractional, _ = wrap_fractional(fractional_coordinates(atoms.positions[unwrap.mask], atoms.cell.array))
        history.append((unwrapped, fractional))
        if len(history) == window + 1 and (nframes - window) % stride == 0:
            start, start_fractional = history[0]
            amplitude = np.linalg.norm(unwrapped - start, axis=1)
            voxel = np.minimum((start_fractional * shape).astype(int), shape - 1)
            flat = np.ravel_multi_index(voxel.T, bins)
            amplitude_sum += np.bincount(flat, weights=amplitude, minlength=amplitude_sum.size).reshape(bins)
            counts += np.bincount(flat, minlength=counts.size).reshape(bins)
        nframes += 1
    if nframes <= window:
        raise AnalysisError(f'window `{window}`: the trajectory has only {nframes} frames; need more than window')
    return DisplacementMap(amplitude_sum, counts, axis)
