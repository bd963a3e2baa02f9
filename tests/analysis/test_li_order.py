"""Li displacement near ordered vs disordered P on constructed trajectories with known amplitudes."""

import itertools

import numpy as np
import pytest
from ase import Atoms

from aiida_glassceramic.analysis import AnalysisError, displacement_by_order, nearest_site

EDGE = 12.0
P_SITES = np.array(list(itertools.product([1.5, 7.5], repeat=3)))  # 8 P on a simple cubic lattice, 6 A apart
ORDERED = P_SITES[:, 0] < 5.0  # the four P of the x = 1.5 A plane are ordered


def trajectory(nframes: int, amplitude_ordered, amplitude_disordered, seed: int = 0) -> list[Atoms]:
    """Two Li next to each P (0.8 A off it, then wrapped); in every frame each Li jumps by its group's amplitude in
    a random direction and back to its home next frame, so every window of one frame has exactly that amplitude."""
    rng = np.random.default_rng(seed)
    home = np.repeat(P_SITES, 2, axis=0) + rng.normal(scale=0.8 / np.sqrt(3), size=(16, 3))
    near_ordered = np.repeat(ORDERED, 2)
    frames = []
    for index in range(nframes):
        positions = home.copy()
        if index % 2:
            direction = rng.normal(size=(16, 3))
            direction /= np.linalg.norm(direction, axis=1, keepdims=True)
            size = np.where(near_ordered, amplitude_ordered(rng, 16), amplitude_disordered(rng, 16))
            positions += direction * size[:, None]
        atoms = Atoms('Li16', positions=positions, cell=np.eye(3) * EDGE, pbc=True)
        atoms.wrap()
        frames.append(atoms)
    return frames


def constant(value):
    return lambda rng, n: np.full(n, value)


def test_only_li_near_ordered_p_move():
    result = displacement_by_order(trajectory(40, constant(1.0), constant(0.0)), P_SITES, ORDERED, 1)
    assert result.near_ordered == pytest.approx(1.0)
    assert result.near_disordered == pytest.approx(0.0)
    assert result.ratio == np.inf
    assert result.samples == (8 * 39, 8 * 39)


def test_ratio_of_known_amplitudes_and_its_interval():
    """Amplitudes uniform in [0.6, 1.4] A near ordered P and [0.15, 0.35] A elsewhere: the true ratio is 4. Windows
    start at the home frames only (stride 2), so that no two windows share a jump."""
    frames = trajectory(200, lambda rng, n: rng.uniform(0.6, 1.4, n), lambda rng, n: rng.uniform(0.15, 0.35, n))
    result = displacement_by_order(frames, P_SITES, ORDERED, 1, stride=2)
    assert result.near_ordered == pytest.approx(1.0, abs=0.03)
    assert result.near_disordered == pytest.approx(0.25, abs=0.01)
    assert result.ratio == pytest.approx(4.0, rel=0.05)
    low, high = result.interval['ratio']
    assert low < 4.0 < high
    # the standard error of a ratio of two means of independent uniforms, written out
    pairs = 8 * 100
    relative = np.hypot(0.8 / np.sqrt(12) / np.sqrt(pairs) / 1.0, 0.2 / np.sqrt(12) / np.sqrt(pairs) / 0.25)
    assert result.stderr['ratio'] == pytest.approx(4.0 * relative, rel=0.25)


def test_windows_of_two_frames_see_no_net_displacement():
    result = displacement_by_order(trajectory(40, constant(1.0), constant(0.5)), P_SITES, ORDERED, 2)
    assert result.near_ordered == pytest.approx(0.0, abs=1e-9) and result.near_disordered == pytest.approx(
        0.0, abs=1e-9
    )


def test_nearest_site_is_periodic():
    cell = np.eye(3) * EDGE
    points = np.array([[11.8, 1.5, 1.5], [4.0, 4.0, 4.0]])
    assert nearest_site(points, P_SITES, cell, 8.0).tolist() == [0, 0]  # 11.8 is 1.7 A from 1.5 across the face
    with pytest.raises(AnalysisError, match='no site within'):
        nearest_site(points, P_SITES, cell, 1.0)
