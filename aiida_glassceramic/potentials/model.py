"""Behler-Parrinello neural network potential: one MLP per element on scaled symmetry-function features.

Total energy = sum of atomic energies (network output + per-element reference energy); forces and virial by
automatic differentiation through the neighbour vectors.
"""

from __future__ import annotations

import ctypes
import warnings
from collections.abc import Sequence

import ase.data
import numpy as np
import torch

from aiida_glassceramic.descriptors import (
    NeighbourList,
    SymmetryFunctionParameters,
    SymmetryFunctions,
    build_neighbour_list,
    pair_vectors,
)

ACTIVATIONS = {'tanh': torch.nn.Tanh, 'softplus': torch.nn.Softplus, 'silu': torch.nn.SiLU}
DTYPES = {'float64': torch.float64, 'float32': torch.float32}
# a feature extrapolates beyond RANGE_TOLERANCE (max - min) + RANGE_FLOOR outside its training range [min, max]; the
# floor keeps round-off off features that never vary in training (0 for an element pair never seen together)
RANGE_TOLERANCE, RANGE_FLOOR = 1e-6, 1e-10
FLOAT32_MARGIN = 1e-3  # float32 features carry round-off of up to ~2e-4 of their size: also this much of it


class UnknownElementError(ValueError):
    """A structure holds an element the potential was not trained for."""


class CloseContactWarning(UserWarning):
    """Two atoms are closer than any pair of the same elements in the training data."""


def keep_freed_memory() -> None:
    """Ask glibc to keep freed memory instead of returning it to the OS (large temporaries then cost no page faults)."""
    try:
        libc = ctypes.CDLL('libc.so.6')
    except OSError:
        return
    libc.mallopt(-3, 1 << 30)  # M_MMAP_THRESHOLD
    libc.mallopt(-1, (1 << 31) - 1)  # M_TRIM_THRESHOLD


class NNPotential(torch.nn.Module):
    """Per-element networks ``n_features - hidden... - 1`` (paper: 165-10-10-1) on standardised features."""

    def __init__(
        self,
        descriptor: SymmetryFunctionParameters,
        hidden: Sequence[int] = (10, 10),
        activation: str = 'tanh',
        dtype: torch.dtype | str = torch.float64,
        skin: float = 0.0,
    ) -> None:
        super().__init__()
        dtype = DTYPES.get(dtype, dtype) if isinstance(dtype, str) else dtype
        if dtype not in DTYPES.values():
            raise ValueError(f'dtype `{dtype}`: choose float64 or float32')
        if activation not in ACTIVATIONS:
            raise ValueError(f'activation `{activation}`: choose one of {sorted(ACTIVATIONS)}')
        if not hidden or min(hidden) < 1:
            raise ValueError(f'hidden `{hidden}`: give the sizes of the hidden layers, e.g. [10, 10]')
        if skin < 0:
            raise ValueError(f'skin `{skin}`: must be >= 0 A')
        self.descriptor = descriptor
        self.elements = tuple(descriptor.elements)
        self.hidden = tuple(int(n) for n in hidden)
        self.activation = activation
        self.skin = float(skin)
        self.metrics: dict = {}
        n_features, n_elements = descriptor.n_features, len(self.elements)
        self.networks = torch.nn.ModuleList([self._network(n_features) for _ in self.elements])
        self.register_buffer('feature_shift', torch.zeros(n_elements, n_features))
        self.register_buffer('feature_scale', torch.ones(n_elements, n_features))
        self.register_buffer('reference_energy', torch.zeros(n_elements))
        self.register_buffer('min_distance', torch.zeros(n_elements, n_elements))
        # per element and feature, the range over the training data; NaN: not recorded (potentials of old versions)
        self.register_buffer('feature_min', torch.full((n_elements, n_features), torch.nan))
        self.register_buffer('feature_max', torch.full((n_elements, n_features), torch.nan))
        self.extrapolating_atoms: int | None = None
        self._type_of = np.full(max(ase.data.atomic_numbers.values()) + 1, -1, dtype=np.int64)
        for index, symbol in enumerate(self.elements):
            self._type_of[ase.data.atomic_numbers[symbol]] = index
        self._cache: dict = {}
        self.to(dtype)

    def _network(self, n_features: int) -> torch.nn.Sequential:
        layers, size = [], n_features
        for width in self.hidden:
            layers += [torch.nn.Linear(size, width), ACTIVATIONS[self.activation]()]
            size = width
        layers.append(torch.nn.Linear(size, 1))
        return torch.nn.Sequential(*layers)

    @property
    def dtype(self) -> torch.dtype:
        return self.feature_shift.dtype

    @property
    def cutoff(self) -> float:
        return float(self.descriptor.cutoff)

    @property
    def has_feature_ranges(self) -> bool:
        """Whether the potential records the range of every feature over its training data."""
        return not bool(torch.isnan(self.feature_min).any() or torch.isnan(self.feature_max).any())

    def extrapolating(self, features: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """Per atom, whether some feature lies outside its element's training range ``[min, max]`` by more than
        ``RANGE_TOLERANCE (max - min) + RANGE_FLOOR`` (n2p2's extrapolation warning); an element absent from the
        training data has the empty range ``[inf, -inf]``, so each of its atoms extrapolates. In float32 the margin
        also holds ``FLOAT32_MARGIN`` of the range's larger bound (in magnitude)."""
        low, high = self.feature_min[types], self.feature_max[types]
        margin = RANGE_TOLERANCE * (high - low) + RANGE_FLOOR
        if features.dtype == torch.float32:
            margin = margin + FLOAT32_MARGIN * torch.maximum(low.abs(), high.abs()).nan_to_num(posinf=0.0)
        return ((features < low - margin) | (features > high + margin)).any(dim=1)

    def symmetry_functions(self) -> SymmetryFunctions:
        key = ('functions', self.dtype, str(self.feature_shift.device))
        if key not in self._cache:
            self._cache[key] = SymmetryFunctions(self.descriptor, self.dtype, str(self.feature_shift.device))
        return self._cache[key]

    def types(self, numbers: np.ndarray) -> np.ndarray:
        """Element index of each atom; :class:`UnknownElementError` for an element the potential does not know."""
        numbers = np.asarray(numbers, dtype=np.int64)
        valid = (numbers > 0) & (numbers < len(self._type_of))
        types = np.full(len(numbers), -1, dtype=np.int64)
        types[valid] = self._type_of[numbers[valid]]
        if np.any(types < 0):
            unknown = sorted({ase.data.chemical_symbols[z] if 0 < z < 119 else str(z) for z in numbers[types < 0]})
            raise UnknownElementError(
                f'numbers: elements {unknown} are unknown to this potential, which was trained for '
                f'{list(self.elements)}; use a potential trained on them'
            )
        return types

    def neighbour_list(self, types: np.ndarray, positions: np.ndarray, cell: np.ndarray) -> NeighbourList:
        """Neighbour list with pairs within cut-off + skin, and triplets if some angular function needs them."""
        reach = self.cutoff + self.skin
        triplet_cutoff = None if self.descriptor.triplet_cutoff is None else reach
        angular = self.descriptor.needs_triplets
        return build_neighbour_list(positions, cell, reach, types, triplet_cutoff=triplet_cutoff, angular=angular)

    def atomic_energies(self, features: torch.Tensor, types: torch.Tensor) -> torch.Tensor:
        """Energy of each atom (eV) from its raw features (N, n_features)."""
        energies = self.reference_energy[types].clone()
        for index, network in enumerate(self.networks):
            mask = types == index
            if bool(mask.any()):
                scaled = (features[mask] - self.feature_shift[index]) / self.feature_scale[index]
                energies = energies.index_put((mask.nonzero().squeeze(1),), energies[mask] + network(scaled).squeeze(1))
        return energies

    def _cached_neighbour_list(self, types: np.ndarray, positions: np.ndarray, cell: np.ndarray) -> NeighbourList:
        """Reuse the last list while every atom moved less than half the skin (cell changes included)."""
        last = self._cache.get('neighbours')
        if last is not None and self.skin > 0 and np.array_equal(last['types'], types):
            moved = np.linalg.norm(positions - last['positions'], axis=1).max(initial=0.0)
            max_shift = np.abs(last['nl'].shifts).sum(axis=1).max(initial=0)
            strain = np.linalg.norm(cell - last['cell'], axis=1).max() * max_shift
            if 2.0 * moved + strain < self.skin:
                return last['nl']
        nl = self.neighbour_list(types, positions, cell)
        self._cache['neighbours'] = {'types': types, 'positions': positions.copy(), 'cell': cell.copy(), 'nl': nl}
        return nl

    def compute(
        self, numbers: np.ndarray, positions: np.ndarray, cell: np.ndarray
    ) -> tuple[float, np.ndarray, np.ndarray]:
        """Energy (eV), forces (N, 3) eV/A and virial (6,) eV in LAMMPS order xx yy zz xy xz yz.

        The virial is ``W_ab = -dE/d(eps_ab)``, i.e. sum over pairs of ``r_ij,a F_ij,b``. Warns with
        :class:`CloseContactWarning` when two atoms are closer than the training data ever saw. Sets
        :attr:`extrapolating_atoms`: the number of atoms with a feature outside the training range (see
        :meth:`extrapolating`), None for a potential that records no ranges.
        """
        types = self.types(numbers)
        positions = np.asarray(positions, dtype=np.float64)
        cell = np.asarray(cell, dtype=np.float64)
        if positions.shape != (len(types), 3):
            raise ValueError(f'positions: shape {positions.shape}, expected ({len(types)}, 3) like numbers')
        nl = self._cached_neighbour_list(types, positions, cell)
        device = self.feature_shift.device
        vectors = pair_vectors(
            torch.as_tensor(positions, dtype=self.dtype, device=device),
            torch.as_tensor(cell, dtype=self.dtype, device=device),
            nl,
        ).requires_grad_()
        self._check_distances(vectors.detach(), nl, types)
        types_t = torch.as_tensor(types, device=device)
        with torch.enable_grad():
            features = self.symmetry_functions()(vectors, nl, types_t, len(types_t), checkpoint=True)
            energy = self.atomic_energies(features, types_t).sum()
            (grad,) = torch.autograd.grad(energy, vectors)
        self.extrapolating_atoms = (
            int(self.extrapolating(features.detach(), types_t).sum()) if self.has_feature_ranges else None
        )
        grad = grad.detach()
        forces = torch.zeros((len(types), 3), dtype=self.dtype, device=device)
        forces.index_add_(0, torch.as_tensor(nl.centres, device=device), grad)
        forces.index_add_(0, torch.as_tensor(nl.neighbours, device=device), -grad)
        virial = -(vectors.detach().T @ grad)
        virial = virial[[0, 1, 2, 0, 0, 1], [0, 1, 2, 1, 2, 2]]
        return (
            float(energy.detach()),
            forces.cpu().numpy().astype(np.float64),
            virial.cpu().numpy().astype(np.float64),
        )

    def _check_distances(self, vectors: torch.Tensor, nl: NeighbourList, types: np.ndarray) -> None:
        if not len(vectors):
            return
        distances = torch.linalg.vector_norm(vectors, dim=1).cpu().numpy()
        pair_types = (types[nl.centres], types[nl.neighbours])
        limits = self.min_distance.cpu().numpy()[pair_types]
        close = distances < limits * (1.0 - 1e-6)
        if np.any(close):
            index = int(np.argmax(limits - distances))
            warnings.warn(
                f'atoms {nl.centres[index]} and {nl.neighbours[index]} ({self.elements[pair_types[0][index]]}-'
                f'{self.elements[pair_types[1][index]]}) are {distances[index]:.3f} A apart, closer than the '
                f'{limits[index]:.3f} A seen in the training data: the energy and forces are extrapolated',
                CloseContactWarning,
                stacklevel=3,
            )

    def metadata(self) -> dict:
        """JSON-able description of the potential (everything but the weights)."""
        symbols = self.elements
        return {
            'format': 'aiida-glassceramic-nnp',
            'version': 1,
            'elements': list(symbols),
            'cutoff': self.cutoff,
            'descriptor': self.descriptor.to_dict(),
            'n_features': self.descriptor.n_features,
            'hidden': list(self.hidden),
            'activation': self.activation,
            'dtype': str(self.dtype).removeprefix('torch.'),
            'skin': self.skin,
            'feature_scaling': {
                symbol: {
                    'shift': self.feature_shift[index].tolist(),
                    'scale': self.feature_scale[index].tolist(),
                }
                for index, symbol in enumerate(symbols)
            },
            'feature_ranges': {
                symbol: {'min': self.feature_min[index].tolist(), 'max': self.feature_max[index].tolist()}
                for index, symbol in enumerate(symbols)
            }
            if self.has_feature_ranges
            else None,
            'reference_energy': {symbol: float(self.reference_energy[i]) for i, symbol in enumerate(symbols)},
            'min_distance': {
                f'{a}-{b}': float(self.min_distance[i, j])
                for i, a in enumerate(symbols)
                for j, b in enumerate(symbols)
                if i <= j
            },
            'metrics': dict(self.metrics),
        }
