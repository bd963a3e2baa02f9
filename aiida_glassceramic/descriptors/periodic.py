"""The one wrapping rule of the package: fractional coordinates in [0, 1) and the lattice image they came from.

Every place that wraps positions into the cell or counts cell images uses these functions, so that an atom on a
cell face (a fractional coordinate of 0, 1 or -1e-17, which perfect crystals, rotated cells and supercells of
primitive cells give) lands in exactly one cell with an image that accounts for it.
"""

from __future__ import annotations

import numpy as np


def fractional_coordinates(positions: np.ndarray, cell: np.ndarray) -> np.ndarray:
    """Fractional coordinates (N, 3) of Cartesian ``positions`` in ``cell`` (lattice vectors as rows)."""
    return np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(positions, dtype=float).T).T


def wrap_fractional(fractional: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(wrapped, image)`` with ``wrapped`` in [0, 1) and ``wrapped + image == fractional`` up to rounding.

    A value just below an integer whose wrapped part rounds to 1.0 becomes 0.0 of the next image, so
    ``wrapped < 1`` holds exactly and the image stays consistent with it.
    """
    fractional = np.asarray(fractional, dtype=float)
    image = np.floor(fractional)
    wrapped = fractional - image
    rounded_up = wrapped >= 1.0
    wrapped[rounded_up] = 0.0
    image[rounded_up] += 1.0
    return wrapped, image.astype(np.int64)


def wrap_positions(positions: np.ndarray, cell: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Cartesian positions wrapped into the cell and the integer image of each atom (``r = wrapped + n @ cell``)."""
    wrapped, image = wrap_fractional(fractional_coordinates(positions, cell))
    return wrapped @ np.asarray(cell, dtype=float), image


def cell_heights(cell: np.ndarray) -> np.ndarray:
    """Distances between opposite faces of the cell (A), one per lattice vector."""
    cell = np.asarray(cell, dtype=float)
    areas = np.linalg.norm(np.cross(cell[[1, 2, 0]], cell[[2, 0, 1]]), axis=1)
    return abs(np.linalg.det(cell)) / areas
