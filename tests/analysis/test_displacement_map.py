"""The displacement map puts each amplitude in the voxel where the ion started."""

import ase
import numpy as np
import pytest

from aiida_glassceramic.analysis import AnalysisError, displacement_map


def hopping_frames(nframes: int = 7):
    """Li 0 hops 1 A along x every frame from x = 1 (left half); Li 1 sits at x = 15 (right half); S never moves."""
    for step in range(nframes):
        positions = [[(1.0 + step) % 20.0, 5.0, 5.0], [15.0, 5.0, 5.0], [10.0, 10.0, 10.0]]
        yield ase.Atoms('Li2S', positions=positions, cell=[20.0, 10.0, 10.0], pbc=True)


def test_amplitudes_land_where_the_window_started():
    result = displacement_map(hopping_frames(7), window=2, bins=(4, 1, 1))
    # windows start at frames 0, 2, 4: the hopper starts at x = 1, 3, 5 (voxel 0, width 5 A, and voxel 1)
    np.testing.assert_array_equal(result.counts[:, 0, 0], [2 + 0, 1, 0, 3])
    np.testing.assert_allclose(result.mean_amplitude[:, 0, 0], [4.0 / 2, 2.0, np.nan, 0.0], equal_nan=True)
    np.testing.assert_allclose(result.projection[:, 0], [2.0, 2.0, np.nan, 0.0], equal_nan=True)


def test_hop_across_the_boundary_is_unwrapped():
    frames = list(hopping_frames(25))
    result = displacement_map(iter(frames), window=20, stride=1, bins=(1, 1, 1))
    assert result.amplitude_sum.sum() == pytest.approx(5 * 20.0 + 0.0)


def test_too_short_trajectory_is_refused():
    with pytest.raises(AnalysisError, match='only 3 frames'):
        displacement_map(hopping_frames(3), window=5)
