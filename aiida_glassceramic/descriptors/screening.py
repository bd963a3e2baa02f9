"""Similarity screening of snapshots with the potential's own symmetry functions.

A structure's fingerprint is the mean feature vector of each element (atoms of the same element are
interchangeable), concatenated over the elements: a fixed-length vector whatever the number of atoms.
Farthest-point selection then keeps structures until every dropped one lies within ``threshold`` of a kept one.
Cost: one featurisation per structure plus O(N K d) for N structures, K kept, d fingerprint length; screen each
MD condition separately to keep N small.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import ase
import numpy as np

Featurize = Callable[[ase.Atoms], np.ndarray]


class ScreeningError(ValueError):
    """Unusable screening input."""


def fingerprint(features: np.ndarray, numbers: np.ndarray, elements: Sequence[int]) -> np.ndarray:
    """Per-element mean of the atomic features ``(natoms, nfeatures)``, concatenated in the order of ``elements``.

    An element absent from the structure contributes zeros.
    """
    features = np.asarray(features, dtype=float)
    if features.ndim != 2 or len(features) != len(numbers):
        raise ScreeningError(f'features: shape {features.shape}, expected ({len(numbers)}, nfeatures)')
    parts = []
    for element in elements:
        mask = numbers == element
        parts.append(features[mask].mean(axis=0) if mask.any() else np.zeros(features.shape[1]))
    return np.concatenate(parts)


def fingerprints(images: Sequence[ase.Atoms], featurize: Featurize) -> np.ndarray:
    """Fingerprints ``(nstructures, nelements * nfeatures)`` of structures, featurised one at a time."""
    if not images:
        raise ScreeningError('structures: nothing to screen')
    elements = sorted({int(z) for atoms in images for z in np.unique(atoms.numbers)})
    return np.stack([fingerprint(featurize(atoms), atoms.numbers, elements) for atoms in images])


def farthest_point_selection(
    points: np.ndarray, threshold: float, max_selected: int | None = None, start: int = 0
) -> np.ndarray:
    """Indices of a farthest-point subset: stop when the farthest remaining point is closer than ``threshold``.

    Distance: root-mean-square difference per fingerprint component, ``|a - b| / sqrt(d)`` (the units of the
    features). ``threshold = 0`` keeps every distinct point; ``max_selected`` caps the number kept.
    Returned in the order of selection, beginning with ``start``.
    """
    points = np.asarray(points, dtype=float)
    if points.ndim != 2 or not len(points):
        raise ScreeningError(f'points: shape {points.shape}, expected (npoints, ndimensions) with npoints > 0')
    if threshold < 0:
        raise ScreeningError(f'threshold `{threshold}`: must be >= 0')
    if max_selected is not None and max_selected < 1:
        raise ScreeningError(f'max_selected `{max_selected}`: must be a positive integer or None')
    scale = 1.0 / np.sqrt(points.shape[1])
    selected = [int(start)]
    nearest = np.linalg.norm(points - points[start], axis=1) * scale
    limit = len(points) if max_selected is None else min(max_selected, len(points))
    while len(selected) < limit:
        candidate = int(np.argmax(nearest))
        if nearest[candidate] <= threshold:
            break
        selected.append(candidate)
        nearest = np.minimum(nearest, np.linalg.norm(points - points[candidate], axis=1) * scale)
    return np.asarray(selected, dtype=np.int64)


def screen(
    images: Sequence[ase.Atoms], featurize: Featurize, threshold: float, max_selected: int | None = None
) -> np.ndarray:
    """Indices (sorted) of the structures kept by farthest-point selection on their fingerprints."""
    return np.sort(farthest_point_selection(fingerprints(images, featurize), threshold, max_selected))


def symmetry_function_featurizer(elements: Sequence[str], cutoff: float = 7.0) -> Featurize:
    """Per-atom features of the study's symmetry functions (the ones the potential is trained on)."""
    import torch

    from .features import SymmetryFunctions
    from .neighbours import build_neighbour_list
    from .parameters import default_parameters

    parameters = default_parameters(list(elements), cutoff=cutoff)
    functions = SymmetryFunctions(parameters)
    index = {ase.data.atomic_numbers[symbol]: position for position, symbol in enumerate(parameters.elements)}

    def featurize(atoms: ase.Atoms) -> np.ndarray:
        missing = set(atoms.get_chemical_symbols()) - set(parameters.elements)
        if missing:
            raise ScreeningError(
                f'structure {atoms.get_chemical_formula()}: elements {sorted(missing)} not in '
                f'the descriptor elements {list(parameters.elements)}'
            )
        positions, cell = atoms.positions, atoms.cell.array
        types = np.array([index[int(z)] for z in atoms.numbers], dtype=np.int64)
        triplet_cutoff = parameters.cutoff if parameters.narrow_only else None
        neighbour_list = build_neighbour_list(
            positions, cell, parameters.cutoff, types=types, triplet_cutoff=triplet_cutoff
        )
        vectors = torch.as_tensor(neighbour_list.vectors(positions, cell), dtype=torch.float64)
        with torch.no_grad():
            return functions(vectors, neighbour_list, torch.as_tensor(types), len(atoms)).numpy()

    return featurize
