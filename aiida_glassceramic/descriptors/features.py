"""Symmetry-function features in torch: one implementation for training, molecular dynamics and screening.

The features are a differentiable function of the neighbour vectors ``v_p = r_j - r_i + S @ cell`` of the
pairs of a :class:`~aiida_glassceramic.descriptors.neighbours.NeighbourList`, hence of positions and cell
(strain). Angular sums run over triplets in chunks; with ``checkpoint=True`` the chunks are recomputed in
the backward pass instead of stored, which keeps memory flat and the working set in cache (first
derivatives only; training uses ``checkpoint=False`` so that forces can be differentiated again).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from .neighbours import NeighbourList
from .parameters import SymmetryFunctionParameters

BLOCK_TRIPLETS = 1 << 15


class SymmetryFunctions:
    """The functions of a :class:`SymmetryFunctionParameters` set as torch tensors of one dtype and device."""

    def __init__(
        self, parameters: SymmetryFunctionParameters, dtype: torch.dtype = torch.float64, device: str = 'cpu'
    ) -> None:
        self.parameters = parameters
        self.dtype, self.device = dtype, torch.device(device)
        self.cutoff = float(parameters.cutoff)
        self.n_elements = len(parameters.elements)
        self.n_element_pairs = len(parameters.element_pairs)
        tensor = self._tensor
        self.radial_eta = tensor([f.eta for f in parameters.radial])
        self.radial_rs = tensor([f.rs for f in parameters.radial])
        # angular functions as a grid: (eta, rs) widths x (zeta, lambda) shapes, for each kind
        self.kinds = sorted({f.kind for f in parameters.angular})
        widths = sorted({(f.eta, f.rs) for f in parameters.angular})
        shapes = sorted({(f.zeta, f.lambda_) for f in parameters.angular})
        self.width_eta = tensor([eta for eta, _ in widths])
        self.width_rs = tensor([rs for _, rs in widths])
        self.lambdas = sorted({lambda_ for _, lambda_ in shapes})
        self.zetas = sorted({zeta for zeta, _ in shapes})
        self.shapes = [(self.zetas.index(zeta), self.lambdas.index(lambda_)) for zeta, lambda_ in shapes]
        self.grid_size = len(widths) * len(shapes)
        columns = [
            self.kinds.index(f.kind) * self.grid_size
            + widths.index((f.eta, f.rs)) * len(shapes)
            + shapes.index((f.zeta, f.lambda_))
            for f in parameters.angular
        ]
        self.angular_columns = torch.as_tensor(columns, dtype=torch.long, device=self.device)
        self.angular_prefactor = tensor([2.0 ** (1.0 - f.zeta) for f in parameters.angular])

    def _tensor(self, values: list[float]) -> torch.Tensor:
        return torch.as_tensor(values, dtype=self.dtype, device=self.device)

    @property
    def n_features(self) -> int:
        return self.parameters.n_features

    def cutoff_function(self, r: torch.Tensor) -> torch.Tensor:
        """Cosine cut-off ``(cos(pi r / r_c) + 1) / 2`` inside the cut-off, 0 outside."""
        inside = r < self.cutoff
        value = 0.5 * torch.cos(r * (math.pi / self.cutoff)) + 0.5
        return torch.where(inside, value, torch.zeros_like(value))

    def __call__(
        self,
        vectors: torch.Tensor,
        neighbour_list: NeighbourList,
        types: torch.Tensor,
        n_atoms: int,
        checkpoint: bool = False,
    ) -> torch.Tensor:
        """Features (n_atoms, n_features) from the pair vectors (n_pairs, 3) and element indices of the atoms.

        The neighbour list must come from :func:`build_neighbour_list` with the same ``types``.
        """
        layout = self.layout(neighbour_list, types)
        r2 = (vectors * vectors).sum(1)
        r = torch.sqrt(r2.clamp_min(1e-24))
        fc = self.cutoff_function(r)
        radial = torch.exp(-self.radial_eta * (r[:, None] - self.radial_rs) ** 2) * fc[:, None]
        g_radial = vectors.new_zeros((n_atoms * self.n_elements, len(self.radial_eta)))
        g_radial = g_radial.index_add(0, layout.radial_rows, radial).reshape(n_atoms, -1)
        if not self.kinds:
            return g_radial
        # neighbour vectors by component, plus a vector beyond the cut-off that padded triplet slots point at
        padding = vectors.new_tensor([[2.0 * self.cutoff, 0.0, 0.0]])
        components = torch.cat([vectors, padding]).T.contiguous()
        n_rows = n_atoms * self.n_element_pairs
        if checkpoint and components.requires_grad:
            grid = _CheckpointedAngular.apply(components, layout, n_rows, self)
        else:
            grid = self.angular_grid(components, layout, n_rows)
        g_angular = grid[:, self.angular_columns] * self.angular_prefactor
        return torch.cat([g_radial, g_angular.reshape(n_atoms, -1)], dim=1)

    def layout(self, neighbour_list: NeighbourList, types: torch.Tensor) -> TripletLayout:
        """Index arrays of the radial sums and padded blocks of triplets (cached on the neighbour list)."""
        cached = getattr(neighbour_list, '_layout', None)
        if cached is not None and cached.key == (self.n_elements, str(self.device)):
            return cached
        layout = TripletLayout.build(neighbour_list, types.cpu().numpy(), self.n_elements, self.device)
        object.__setattr__(neighbour_list, '_layout', layout)
        return layout

    def angular_grid(self, components: torch.Tensor, layout: TripletLayout, n_rows: int) -> torch.Tensor:
        """Sums over triplets of every (width, shape) combination, per (centre, element pair) row."""
        grid = components.new_zeros((n_rows, len(self.kinds) * self.grid_size))
        for rows, first, second in layout.blocks:
            sums = self.block_sums(gather_components(components, first), gather_components(components, second))
            grid.index_copy_(0, rows, sums)
        return grid

    def block_sums(self, a: list[torch.Tensor], b: list[torch.Tensor]) -> torch.Tensor:
        """Triplet sums of one padded block from the vector components (x, y, z) of its two pairs.

        Padding slots hold a vector beyond the cut-off: their cut-off factor, hence every term, is zero.
        """
        dot = a[0] * b[0] + a[1] * b[1] + a[2] * b[2]
        r2_a = a[0] * a[0] + a[1] * a[1] + a[2] * a[2]
        r2_b = b[0] * b[0] + b[1] * b[1] + b[2] * b[2]
        r_a, r_b = self._distance(r2_a), self._distance(r2_b)
        fc_ab = self.cutoff_function(r_a) * self.cutoff_function(r_b)
        cosine = dot / (r_a * r_b)
        powers = [_integer_or_real_powers(1.0 + lambda_ * cosine, self.zetas) for lambda_ in self.lambdas]
        shapes = torch.stack([powers[lam][z] for z, lam in self.shapes], dim=1)  # (rows, shapes, length)
        if 'narrow' in self.kinds:
            r2_jk = r2_a + r2_b - 2.0 * dot
            r_jk = self._distance(r2_jk)
            fc_abc = fc_ab * self.cutoff_function(r_jk)
        sums = []
        for kind in self.kinds:
            weights = []
            for eta, rs in zip(self.width_eta.tolist(), self.width_rs.tolist(), strict=True):
                if kind == 'narrow':
                    exponent = self._gauss_exponent(r_a, r2_a, rs) + self._gauss_exponent(r_b, r2_b, rs)
                    exponent = exponent + self._gauss_exponent(r_jk, r2_jk, rs)
                    weights.append(torch.exp(exponent * -eta) * fc_abc)
                else:
                    exponent = self._gauss_exponent(r_a, r2_a, rs) + self._gauss_exponent(r_b, r2_b, rs)
                    weights.append(torch.exp(exponent * -eta) * fc_ab)
            # (rows, widths, length) @ (rows, length, shapes)
            sums.append(torch.bmm(torch.stack(weights, dim=1), shapes.transpose(1, 2)).reshape(len(dot), -1))
        return sums[0] if len(sums) == 1 else torch.cat(sums, dim=1)

    @staticmethod
    def _distance(r2: torch.Tensor) -> torch.Tensor:
        return torch.sqrt(r2.clamp_min(1e-24))

    @staticmethod
    def _gauss_exponent(r: torch.Tensor, r2: torch.Tensor, rs: float) -> torch.Tensor:
        return r2 if rs == 0.0 else (r - rs) ** 2


def _integer_or_real_powers(bases: torch.Tensor, zetas: list[float]) -> list[torch.Tensor]:
    """``bases ** zeta`` for each zeta; integer exponents by repeated squaring."""
    if not all(float(zeta).is_integer() for zeta in zetas):
        return [bases**zeta for zeta in zetas]
    squares = [bases]
    largest = int(max(zetas))
    while 2 ** len(squares) <= largest:
        squares.append(squares[-1] * squares[-1])
    results = []
    for zeta in zetas:
        exponent, value = int(zeta), None
        for bit, square in enumerate(squares):
            if exponent >> bit & 1:
                value = square if value is None else value * square
        results.append(value)
    return results


def gather_components(components: torch.Tensor, index: torch.Tensor) -> list[torch.Tensor]:
    """``[components[c][index] for c in x, y, z]`` for a 2-d ``index``."""
    flat = index.reshape(-1)
    return [row.index_select(0, flat).reshape(index.shape) for row in components]


class TripletLayout:
    """Radial sum rows and triplets in padded blocks: each block row is one (centre, element pair) sum.

    Rows of similar length share a block, so padding (pointing at an all-zero pair column) stays small and
    each block holds about ``BLOCK_TRIPLETS`` triplets: a working set that fits in cache.
    """

    def __init__(self, key: tuple, radial_rows: torch.Tensor, blocks: list[tuple[torch.Tensor, ...]]) -> None:
        self.key, self.radial_rows, self.blocks = key, radial_rows, blocks

    @classmethod
    def build(cls, nl: NeighbourList, types: np.ndarray, n_elements: int, device: torch.device) -> TripletLayout:
        neighbour_types = types[nl.neighbours]
        radial_rows = torch.as_tensor(nl.centres * n_elements + neighbour_types, device=device)
        first, second = nl.triplet_first, nl.triplet_second
        blocks = []
        if len(first):
            table = np.zeros((n_elements, n_elements), dtype=np.int64)
            for index, (a, b) in enumerate(itertools.combinations_with_replacement(range(n_elements), 2)):
                table[a, b] = table[b, a] = index
            rows = (
                nl.centres[first] * len(table[np.triu_indices(n_elements)])
                + table[neighbour_types[first], neighbour_types[second]]
            )
            starts = np.concatenate([[0], np.flatnonzero(np.diff(rows)) + 1])
            if len(starts) != len(np.unique(rows)):
                raise ValueError(
                    'neighbour list: triplets are not grouped by (element pair, centre); '
                    'build it with build_neighbour_list(..., types=element indices)'
                )
            lengths = np.diff(np.concatenate([starts, [len(rows)]]))
            order = np.argsort(lengths, kind='stable')
            begin = 0
            while begin < len(order):
                end = begin + max(1, BLOCK_TRIPLETS // int(lengths[order[begin]]))
                chosen = order[begin:end]
                offsets = np.arange(int(lengths[chosen].max()))
                valid = offsets < lengths[chosen, None]
                index = np.where(valid, starts[chosen, None] + offsets, 0)
                block = (
                    rows[starts[chosen]],
                    np.where(valid, first[index], nl.n_pairs),
                    np.where(valid, second[index], nl.n_pairs),
                )
                blocks.append(tuple(torch.as_tensor(x, device=device) for x in block))
                begin = end
        return cls((n_elements, str(device)), radial_rows, blocks)


class _CheckpointedAngular(torch.autograd.Function):
    """Angular grid whose padded blocks are recomputed in the backward pass (first derivatives only)."""

    @staticmethod
    def forward(ctx, components, layout, n_rows, functions):
        ctx.save_for_backward(components)
        ctx.layout, ctx.functions = layout, functions
        with torch.no_grad():
            return functions.angular_grid(components, layout, n_rows)

    @staticmethod
    def backward(ctx, grad_grid):
        (components,) = ctx.saved_tensors
        grad_components = torch.zeros_like(components)
        for rows, first, second in ctx.layout.blocks:
            with torch.enable_grad():
                a = [x.requires_grad_() for x in gather_components(components, first)]
                b = [x.requires_grad_() for x in gather_components(components, second)]
                sums = ctx.functions.block_sums(a, b)
                grads = torch.autograd.grad(sums, (*a, *b), grad_grid[rows])
            for c in range(3):
                grad_components[c].index_add_(0, first.reshape(-1), grads[c].reshape(-1))
                grad_components[c].index_add_(0, second.reshape(-1), grads[3 + c].reshape(-1))
        return grad_components, None, None, None


def pair_vectors(positions: torch.Tensor, cell: torch.Tensor, neighbour_list: NeighbourList) -> torch.Tensor:
    """Differentiable neighbour vectors ``r_j - r_i + S @ cell`` (n_pairs, 3)."""
    centres = torch.as_tensor(neighbour_list.centres, dtype=torch.long, device=positions.device)
    neighbours = torch.as_tensor(neighbour_list.neighbours, dtype=torch.long, device=positions.device)
    shifts = torch.as_tensor(neighbour_list.shifts, dtype=positions.dtype, device=positions.device)
    return positions[neighbours] - positions[centres] + shifts @ cell
