"""Where Li moves: displacement amplitudes of Li near ordered vs near disordered P.

For every window of a trajectory (as the displacement map: amplitude ``|r(t + window) - r(t)|``, recorded where
the ion was at t), each Li belongs to the P atom nearest to its position at t (periodic), and that P is ordered or
not by its entropy fingerprint in the structure the run started from. The mean amplitude of the two groups and their
ratio (ordered over disordered) turn "Li displacements occur predominantly in the crystalline portion" into a
number. The uncertainty comes from a bootstrap over the windows (each window resampled whole, so the Li of one window
stay together), with a fixed seed.
"""

from __future__ import annotations

import warnings
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass

import ase
import numpy as np

from ._common import check_count, species_mask
from .errors import AnalysisError
from .neighbours import neighbour_list
from .unwrap import Unwrapper

GROUPS = ('near_ordered', 'near_disordered', 'ratio')


@dataclass(frozen=True)
class DisplacementByOrder:
    """Mean Li displacement amplitude (A) near ordered and near disordered P, and their ratio; ``stderr`` and
    ``interval`` (bootstrap standard error and 95 % interval) keyed by these three names; NaN where a group is empty;
    ``samples`` counts the (Li, window) pairs of the two groups."""

    near_ordered: float
    near_disordered: float
    ratio: float
    stderr: dict[str, float]
    interval: dict[str, tuple[float, float]]
    samples: tuple[int, int]


def nearest_site(points: np.ndarray, sites: np.ndarray, cell: np.ndarray, reach: float) -> np.ndarray:
    """Index of the site nearest to each point (periodic ``cell``); every point needs a site within ``reach`` (A)."""
    pairs = neighbour_list(
        np.concatenate([np.asarray(points, dtype=float), np.asarray(sites, dtype=float)]), cell, reach
    )
    keep = (pairs.i < len(points)) & (pairs.j >= len(points))
    point, site, distance = pairs.i[keep], pairs.j[keep] - len(points), pairs.distances[keep]
    order = np.lexsort((distance, point))
    point, site = point[order], site[order]
    first = np.ones(len(point), dtype=bool)
    first[1:] = point[1:] != point[:-1]
    nearest = np.full(len(points), -1)
    nearest[point[first]] = site[first]
    if np.any(nearest < 0):
        raise AnalysisError(f'reach `{reach}`: {int(np.sum(nearest < 0))} points have no site within it; raise it')
    return nearest


def displacement_by_order(
    frames: Iterable[ase.Atoms],
    sites: np.ndarray,
    ordered: np.ndarray,
    window: int,
    *,
    species: str = 'Li',
    stride: int | None = None,
    reach: float = 8.0,
    resamples: int = 1000,
    seed: int = 0,
) -> DisplacementByOrder:
    """Mean displacement amplitude over ``window`` frames of the ``species`` atoms nearest to ordered vs disordered
    ``sites`` (the P positions of the starting structure, A; ``ordered`` one flag per site).

    :param stride: frames between window starts; default ``window`` (consecutive windows, as the paper's map).
    :param reach: largest distance (A) searched for the nearest site.
    """
    sites, ordered = np.asarray(sites, dtype=float).reshape(-1, 3), np.asarray(ordered, dtype=bool)
    window = check_count('window', window)
    stride = window if stride is None else check_count('stride', stride)
    if ordered.shape != (len(sites),) or len(sites) == 0:
        raise AnalysisError(f'ordered: {ordered.shape} flags for {len(sites)} sites; need one per site')
    history: deque = deque(maxlen=window + 1)
    unwrap, nframes, sums = None, 0, []
    for atoms in frames:
        if unwrap is None:
            unwrap = Unwrapper(species_mask(atoms.get_chemical_symbols(), species))
        history.append((unwrap(atoms).copy(), atoms.positions[unwrap.mask], atoms.cell.array))
        if len(history) == window + 1 and (nframes - window) % stride == 0:
            start, wrapped, cell = history[0]
            amplitude = np.linalg.norm(history[-1][0] - start, axis=1)
            near = ordered[nearest_site(wrapped, sites, cell, reach)]
            sums.append([amplitude[near].sum(), near.sum(), amplitude[~near].sum(), (~near).sum()])
        nframes += 1
    if not sums:
        raise AnalysisError(f'window `{window}`: the trajectory has only {nframes} frames; need more than window')
    per_window = np.array(sums, dtype=float)
    estimate = _means(per_window.sum(axis=0))
    picks = np.random.default_rng(seed).integers(0, len(per_window), (resamples, len(per_window)))
    spread = _means(per_window[picks].sum(axis=1))
    with warnings.catch_warnings():
        warnings.simplefilter('ignore', RuntimeWarning)  # an empty group: NaN throughout
        stderr = np.nanstd(spread, axis=1, ddof=1)
        low, high = np.nanpercentile(spread, [2.5, 97.5], axis=1)
    total = per_window.sum(axis=0)
    return DisplacementByOrder(
        *(float(value) for value in estimate),
        dict(zip(GROUPS, stderr.tolist(), strict=True)),
        {name: (float(a), float(b)) for name, a, b in zip(GROUPS, low, high, strict=True)},
        (int(total[1]), int(total[3])),
    )


def _means(totals: np.ndarray) -> np.ndarray:
    """(mean near ordered, mean near disordered, ratio) from summed (amplitude, count) pairs; NaN for empty groups."""
    with np.errstate(invalid='ignore', divide='ignore'):
        ordered = np.divide(totals[..., 0], totals[..., 1])
        disordered = np.divide(totals[..., 2], totals[..., 3])
        return np.stack([ordered, disordered, ordered / disordered])
