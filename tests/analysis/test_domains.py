"""Periodic clusters and their wrapping: hand-built slab, sphere, rod and boundary-crossing ball, and random site sets
against a brute-force lift of the cell into an open block of copies."""

import itertools

import numpy as np
import pytest
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components

from aiida_glassceramic.analysis import AnalysisError, crystalline_domains, periodic_clusters

CELL = np.diag([10.0, 10.0, 20.0])


def grid(xs, ys, zs) -> np.ndarray:
    return np.array(list(itertools.product(xs, ys, zs)), dtype=float)


def test_slab_spans_a_and_b_not_c():
    slab = grid(np.arange(0, 10, 2.5), np.arange(0, 10, 2.5), [5.0])
    clusters = periodic_clusters(slab, CELL, 3.0)
    assert clusters.sizes.tolist() == [16]
    assert clusters.spans.tolist() == [[True, True, False]]


def test_sphere_spans_nothing_and_a_boundary_crossing_ball_neither():
    ball = grid(*[np.arange(-2.0, 2.1, 1.0)] * 3)
    ball = ball[np.linalg.norm(ball, axis=1) <= 2.0]
    inside = periodic_clusters(ball + np.array([5.0, 5.0, 10.0]), CELL, 1.5)
    assert inside.sizes.tolist() == [len(ball)] and not inside.spans.any()
    crossing = (ball + np.array([0.5, 9.8, 19.9])) % np.diag(CELL)  # split over the faces and corners of the cell
    assert np.ptp(crossing, axis=0).min() > 5.0, 'the wrapped coordinates lie on both sides of the cell'
    clusters = periodic_clusters(crossing, CELL, 1.5)
    assert clusters.sizes.tolist() == [len(ball)] and not clusters.spans.any()


def test_periodic_rod_spans_one_axis_also_in_a_triclinic_cell():
    rod = grid([2.0], [3.0], np.arange(0.0, 20.0, 2.0))
    assert periodic_clusters(rod, CELL, 2.5).spans.tolist() == [[False, False, True]]
    tilted = np.array([[10.0, 0.0, 0.0], [4.0, 9.0, 0.0], [3.0, -2.0, 8.0]])
    along_c = np.outer(np.arange(8) / 8, tilted[2]) + np.array([1.0, 1.0, 0.0])
    clusters = periodic_clusters(along_c, tilted, 1.5)
    assert clusters.spans.tolist() == [[False, False, True]]
    broken = periodic_clusters(along_c[:-1], tilted, 1.5)  # one site less: a finite chain
    assert broken.sizes.tolist() == [7] and not broken.spans.any()


def test_domains_of_ordered_sites():
    sites = np.concatenate([grid([2.0], [3.0], np.arange(0.0, 20.0, 2.0)), [[7.0, 7.0, 3.0], [7.0, 7.0, 4.5]]])
    fingerprint = np.array([-4.0] * 10 + [-4.0, -1.0])
    domains = crystalline_domains(sites, CELL, fingerprint, threshold=-3.0, cutoff=2.5)
    assert domains.ordered_fraction == pytest.approx(11 / 12)
    assert domains.largest_fraction == pytest.approx(10 / 12)
    assert domains.clusters.sizes.tolist() == [10, 1]
    assert domains.largest_spans == (False, False, True)
    none = crystalline_domains(sites, CELL, np.zeros(12), threshold=-3.0, cutoff=2.5)
    assert none.largest_fraction == 0.0 and none.largest_spans == (False, False, False)
    with pytest.raises(AnalysisError, match='one per site'):
        crystalline_domains(sites, CELL, np.zeros(3), threshold=-3.0, cutoff=2.5)


def brute_force_spans(positions: np.ndarray, cell: np.ndarray, cutoff: float, copies: int) -> np.ndarray:
    """Per site: whether its cluster wraps along a, b, c, from an open block of copies x copies x copies cells.

    Every pair of sites in neighbouring copies is checked by its distance. A finite cluster of m sites reaches at
    most m * cutoff from its copy in the centre cell, so with a block wide enough it cannot touch two opposite faces
    of the block; an infinite one (wrapping) runs through the block from face to face.
    """
    nsites = len(positions)
    cells = np.array(list(itertools.product(range(copies), repeat=3)))
    rows, cols = [], []
    for offset in itertools.product((-1, 0, 1), repeat=3):
        shifted = positions + np.array(offset) @ cell
        near = np.linalg.norm(shifted[None, :, :] - positions[:, None, :], axis=2) < cutoff
        others = cells + offset
        valid = np.all((others >= 0) & (others < copies), axis=1)
        start = np.ravel_multi_index(cells[valid].T, (copies,) * 3)
        end = np.ravel_multi_index(others[valid].T, (copies,) * 3)
        for i, j in zip(*np.nonzero(near), strict=True):
            rows.append(start * nsites + i)
            cols.append(end * nsites + j)
    rows, cols = np.concatenate(rows), np.concatenate(cols)
    total = len(cells) * nsites
    _, label = connected_components(coo_matrix((np.ones(len(rows)), (rows, cols)), shape=(total, total)))
    label = label.reshape(len(cells), nsites)
    centre = int(np.ravel_multi_index((copies // 2,) * 3, (copies,) * 3))
    spans = np.zeros((nsites, 3), dtype=bool)
    for site in range(nsites):
        members = label == label[centre, site]
        for axis in range(3):
            layers = cells[members.any(axis=1), axis]
            spans[site, axis] = layers.min() == 0 and layers.max() == copies - 1
    return spans


@pytest.mark.parametrize('seed', range(18))
def test_random_site_sets_match_brute_force(seed):
    """Orthorhombic and triclinic cells, 4-10 sites, cut-offs from mostly isolated clusters to spanning networks."""
    rng = np.random.default_rng(seed)
    cell = np.diag([6.0, 6.0, 6.0]) + rng.uniform(-0.8, 0.8, size=(3, 3)) * (seed % 2)
    nsites = int(rng.integers(4, 11))
    positions = rng.uniform(0, 1, size=(nsites, 3)) @ cell
    cutoff = (2.6, 3.0, 3.4)[seed % 3]
    clusters = periodic_clusters(positions, cell, cutoff)
    heights = abs(np.linalg.det(cell)) / np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    copies = 2 * int(np.ceil((nsites - 1) * cutoff / heights.min())) + 3
    expected = brute_force_spans(positions, cell, cutoff, copies)
    np.testing.assert_array_equal(clusters.spans[clusters.labels], expected)
    same = clusters.labels[:, None] == clusters.labels[None, :]
    assert np.bincount(clusters.labels).tolist() == clusters.sizes.tolist()
    assert same.sum() == (clusters.sizes**2).sum()
