"""Crystalline domains: periodic clusters of ordered sites and whether they percolate (wrap the periodic cell).

Sites closer than ``cutoff`` are bonded, across the periodic boundaries. A cluster wraps along a lattice vector
when it is connected to its own periodic image displaced along that vector, found by the unwrapping test
(Machta et al., Phys. Rev. E 54, 1332 (1996)): each site of the cluster gets an image vector by a walk through the
cluster; a bond whose two ends disagree with the bond's own lattice shift closes a loop around the torus, and the
loop's winding vector (integer, in lattice vectors) says along which axes the cluster wraps. A cluster that only
crosses the cell boundary has every winding zero and spans nothing; a slab spans two axes; a rod one; a network
spanning all three axes percolates in every direction. (Spanning along an axis means a winding with a non-zero
component along that axis; a diagonal rod spans both axes of its direction.)

The ordered sites are the P atoms whose averaged entropy fingerprint lies below a threshold (see docs/analysis.md
for how to choose it); the bond cut-off is a P-P distance somewhat beyond the first P-P shell of the crystal.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np

from .errors import AnalysisError
from .neighbours import neighbour_list


@dataclass(frozen=True)
class Clusters:
    """Clusters of a set of sites: ``labels`` per site (0 = the largest cluster), ``sizes`` per cluster in decreasing
    order and ``spans`` per cluster (clusters, 3): whether it wraps along a, b and c."""

    labels: np.ndarray
    sizes: np.ndarray
    spans: np.ndarray


def periodic_clusters(positions: np.ndarray, cell: np.ndarray, cutoff: float) -> Clusters:
    """Clusters of ``positions`` (N, 3; A) bonded closer than ``cutoff`` (A) in the periodic ``cell`` (rows, A)."""
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    nsites = len(positions)
    if nsites == 0:
        return Clusters(np.zeros(0, dtype=int), np.zeros(0, dtype=int), np.zeros((0, 3), dtype=bool))
    pairs = neighbour_list(positions, cell, cutoff)
    neighbours: list[list[tuple[int, np.ndarray]]] = [[] for _ in range(nsites)]
    for i, j, shift in zip(pairs.i.tolist(), pairs.j.tolist(), pairs.shifts, strict=True):
        neighbours[i].append((j, shift))
    labels = np.full(nsites, -1)
    image = np.zeros((nsites, 3), dtype=int)
    spans: list[np.ndarray] = []
    for root in range(nsites):
        if labels[root] >= 0:
            continue
        label, wraps = len(spans), np.zeros(3, dtype=bool)
        labels[root] = label
        queue = deque([root])
        while queue:
            site = queue.popleft()
            for other, shift in neighbours[site]:
                reached = image[site] + shift
                if labels[other] < 0:
                    labels[other], image[other] = label, reached
                    queue.append(other)
                else:
                    wraps |= reached != image[other]
        spans.append(wraps)
    sizes = np.bincount(labels)
    order = np.argsort(-sizes, kind='stable')
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    return Clusters(rank[labels], sizes[order], np.array(spans)[order])


@dataclass(frozen=True)
class CrystallineDomains:
    """Clusters of the ordered sites among ``nsites`` sites (e.g. all P atoms) and the headline numbers."""

    nsites: int
    ordered: np.ndarray
    clusters: Clusters

    @property
    def ordered_fraction(self) -> float:
        return float(self.ordered.sum() / self.nsites)

    @property
    def largest_fraction(self) -> float:
        """Size of the largest cluster over all sites (0 without ordered sites)."""
        return float(self.clusters.sizes[0] / self.nsites) if self.clusters.sizes.size else 0.0

    @property
    def largest_spans(self) -> tuple[bool, bool, bool]:
        """Whether the largest cluster wraps the cell along a, b and c."""
        spans = self.clusters.spans[0] if self.clusters.sizes.size else np.zeros(3, dtype=bool)
        return tuple(bool(value) for value in spans)


def crystalline_domains(
    positions: np.ndarray, cell: np.ndarray, fingerprint: np.ndarray, threshold: float, cutoff: float
) -> CrystallineDomains:
    """Clusters of the sites whose ``fingerprint`` (k_B; one per site of ``positions``) lies below ``threshold``,
    bonded closer than ``cutoff`` (A)."""
    positions, fingerprint = np.asarray(positions, dtype=float).reshape(-1, 3), np.asarray(fingerprint, dtype=float)
    if len(positions) == 0 or fingerprint.shape != (len(positions),):
        raise AnalysisError(
            f'fingerprint: {fingerprint.shape} values for {len(positions)} sites; need one per site and some sites'
        )
    ordered = fingerprint < threshold
    return CrystallineDomains(len(positions), ordered, periodic_clusters(positions[ordered], cell, cutoff))
