"""Symmetry-function features in torch: one implementation for training, molecular dynamics and screening.

The features are a differentiable function of the neighbour vectors ``v_p = r_j - r_i + S @ cell`` of the
pairs of a :class:`~aiida_glassceramic.descriptors.neighbours.NeighbourList`, hence of positions and cell
(strain); forces and virial come from autograd.

Separable angular functions (wide, integer ``zeta``, see :attr:`AngularFunction.separable`) use moments.
With the unit vectors ``u`` and ``w(r) = exp(-eta (r - r_s)^2) f_c(r)``::

    (1 + lambda u_j.u_k)^zeta = sum_n C(zeta, n) lambda^n sum_{|alpha| = n} n! / alpha! u_j^alpha u_k^alpha

so with the moments ``M_e[alpha] = sum_{j in e} w(r_ij) u_ij^alpha`` (per centre, neighbour element ``e``
and width) the sum over neighbour pairs of elements ``(a, b)`` is ``sum_alpha n!/alpha! M_a M_b`` for
``a != b``, and for ``a == b`` half of it minus the ``j == k`` terms ``(1 + lambda)^zeta w(r_ij)^2``. The
moments are sums over pairs: the cost is linear in the pairs, with ``C(zeta_max + 3, 3)`` monomials (35 for
zeta <= 4). The other angular functions are summed over triplets in padded blocks; with
``checkpoint=True`` the blocks are recomputed in the backward pass instead of stored, which keeps memory
flat (first derivatives only; training uses ``checkpoint=False`` so that forces can be differentiated again).
"""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

from .neighbours import NeighbourList
from .parameters import AngularFunction, SymmetryFunctionParameters

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
        self.radial_eta = self._tensor([f.eta for f in parameters.radial])
        self.radial_rs = self._tensor([f.rs for f in parameters.radial])
        separable = [f for f in parameters.angular if f.separable]
        others = [f for f in parameters.angular if not f.separable]
        self.moments = MomentAngular(separable, self) if separable else None
        self.triplets = TripletAngular(others, self) if others else None
        # angular columns: moment functions first, then triplet functions, reordered to the parameter order
        position = {id(f): index for index, f in enumerate(separable + others)}
        self.angular_order = torch.as_tensor([position[id(f)] for f in parameters.angular], device=self.device)

    def _tensor(self, values: list[float]) -> torch.Tensor:
        return torch.as_tensor(values, dtype=self.dtype, device=self.device)

    @property
    def n_features(self) -> int:
        return self.parameters.n_features

    def cutoff_function(self, r: torch.Tensor) -> torch.Tensor:
        """``f_c(r)`` of the parameters' ``cutoff_function`` inside the cut-off, 0 outside."""
        inside = r < self.cutoff
        if self.parameters.cutoff_function == 'poly2':
            x = torch.where(inside, r / self.cutoff, torch.ones_like(r))
            value = 1.0 + x**3 * (x * (15.0 - 6.0 * x) - 10.0)
        else:
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
        layout = self.pair_layout(neighbour_list, types, n_atoms)
        # neighbour vectors by component in the padded layout; padding slots hold a vector beyond the cut-off
        padding = vectors.new_tensor([[2.0 * self.cutoff, 0.0, 0.0]])
        padded = torch.cat([vectors, padding]).index_select(0, layout.index).T.contiguous()  # (3, slots)
        r = torch.sqrt((padded * padded).sum(0).clamp_min(1e-24))
        fc = self.cutoff_function(r)
        radial = torch.exp(-self.radial_eta[:, None] * (r - self.radial_rs[:, None]) ** 2) * fc
        g_radial = torch.stack([block.sum(2) for block in layout.blocks(radial)], dim=2)  # (radial, atoms, elements)
        g_radial = g_radial.permute(1, 2, 0).reshape(n_atoms, -1)
        angular = []
        if self.moments is not None:
            angular.append(self.moments(padded, r, fc, layout, checkpoint))
        if self.triplets is not None:
            angular.append(self.triplets(vectors, neighbour_list, types, n_atoms, checkpoint))
        if not angular:
            return g_radial
        g_angular = angular[0] if len(angular) == 1 else torch.cat(angular, dim=2)
        return torch.cat([g_radial, g_angular[:, :, self.angular_order].reshape(n_atoms, -1)], dim=1)

    def pair_layout(self, neighbour_list: NeighbourList, types: torch.Tensor, n_atoms: int) -> PairLayout:
        """The padded (element, centre, slot) layout of the pairs (cached on the neighbour list)."""
        cached = getattr(neighbour_list, '_pair_layout', None)
        if cached is not None and cached.key == (self.n_elements, n_atoms, str(self.device)):
            return cached
        layout = PairLayout(neighbour_list, types.cpu().numpy(), self.n_elements, n_atoms, self.device)
        neighbour_list._pair_layout = layout
        return layout


class PairLayout:
    """Pairs padded per neighbour element ``e`` to ``(n_atoms, width_e)`` blocks, ``width_e`` the largest count.

    ``index`` (slots,) holds the pair of each slot, ``n_pairs`` (a padding vector) for empty slots; the blocks
    of the elements follow each other, each ordered by centre, so that per-centre sums are sums over the last
    axis and per-centre moments are batched matrix products.
    """

    def __init__(
        self, nl: NeighbourList, types: np.ndarray, n_elements: int, n_atoms: int, device: torch.device
    ) -> None:
        self.key, self.n_atoms = (n_elements, n_atoms, str(device)), n_atoms
        rows = nl.centres * n_elements + types[nl.neighbours]
        if np.any(np.diff(rows) < 0) or (len(rows) and rows[-1] >= n_atoms * n_elements):
            raise ValueError(
                'neighbour list: pairs are not sorted by (centre, element of the neighbour) or name atoms beyond '
                '`n_atoms`; build it with build_neighbour_list(..., types=element indices)'
            )
        counts = np.bincount(rows, minlength=n_atoms * n_elements).reshape(n_atoms, n_elements)
        starts = np.cumsum(counts.reshape(-1)) - counts.reshape(-1)
        self.widths = [int(counts[:, e].max(initial=0)) for e in range(n_elements)]
        offsets = np.concatenate([[0], np.cumsum([n_atoms * width for width in self.widths])])
        element = rows % n_elements
        slot = np.arange(len(rows)) - starts[rows]
        index = np.full(int(offsets[-1]), len(rows), dtype=np.int64)
        index[offsets[element] + nl.centres * np.asarray(self.widths)[element] + slot] = np.arange(len(rows))
        self.index = torch.as_tensor(index, device=device)
        self.offsets = offsets.tolist()

    def blocks(self, values: torch.Tensor) -> list[torch.Tensor]:
        """Views ``(..., n_atoms, width_e)`` per element of per-slot ``values`` (..., slots)."""
        return [
            values[..., start:stop].unflatten(-1, (self.n_atoms, width))
            for start, stop, width in zip(self.offsets[:-1], self.offsets[1:], self.widths, strict=True)
        ]


class MomentAngular:
    """Separable wide angular functions from per-centre moments of the neighbour directions."""

    def __init__(self, functions: list[AngularFunction], owner: SymmetryFunctions) -> None:
        self.owner = owner
        tensor = owner._tensor
        widths = sorted({(f.eta, f.rs) for f in functions})
        shapes = sorted({(int(f.zeta), f.lambda_) for f in functions})
        self.width_eta = tensor([eta for eta, _ in widths])
        self.width_rs = tensor([rs for _, rs in widths])
        degree = max(zeta for zeta, _ in shapes)
        self.exponents = [alpha for n in range(degree + 1) for alpha in _multi_indices(n)]
        position = {alpha: index for index, alpha in enumerate(self.exponents)}
        lower = [alpha for alpha in self.exponents if sum(alpha) < degree]
        steps = [tuple(b + (i == axis) for i, b in enumerate(beta)) for axis in range(3) for beta in lower]
        self.derivative_terms = (  # for the hand-written backward of the moments
            len(lower),
            torch.as_tensor([position[alpha] for alpha in steps], device=owner.device),
            tensor([float(alpha[index // len(lower)]) for index, alpha in enumerate(steps)]),
        )
        # (monomials, degree + 1): multinomial coefficient n! / alpha! in the column of the degree n = |alpha|
        per_degree = np.zeros((len(self.exponents), degree + 1))
        for index, alpha in enumerate(self.exponents):
            n = sum(alpha)
            per_degree[index, n] = math.factorial(n) / math.prod(math.factorial(a) for a in alpha)
        # (degree + 1, shapes): 2^(1 - zeta) C(zeta, n) lambda^n; its column sums are the j == k terms
        expansion = np.zeros((degree + 1, len(shapes)))
        for column, (zeta, lambda_) in enumerate(shapes):
            for n in range(zeta + 1):
                expansion[n, column] = 2.0 ** (1 - zeta) * math.comb(zeta, n) * lambda_**n
        self.per_degree = tensor(per_degree.tolist())
        self.expansion = tensor(expansion.tolist())
        self.diagonal = self.expansion.sum(0)
        pairs = owner.parameters.element_pairs
        self.first = torch.as_tensor([a for a, _ in pairs], device=owner.device)
        self.second = torch.as_tensor([b for _, b in pairs], device=owner.device)
        self.same = tensor([float(a == b) for a, b in pairs])[:, None, None]
        self.columns = torch.as_tensor(
            [widths.index((f.eta, f.rs)) * len(shapes) + shapes.index((int(f.zeta), f.lambda_)) for f in functions],
            device=owner.device,
        )

    def __call__(
        self, padded: torch.Tensor, r: torch.Tensor, fc: torch.Tensor, layout: PairLayout, checkpoint: bool
    ) -> torch.Tensor:
        """(atoms, element pairs, functions) from the padded neighbour vectors (3, slots), distances and cut-off."""
        weights = torch.exp(-self.width_eta[:, None] * (r - self.width_rs[:, None]) ** 2) * fc  # (widths, slots)
        unit = padded / r
        if checkpoint and (unit.requires_grad or weights.requires_grad):
            moments = _Moments.apply(unit, weights, layout, self)
        else:
            moments = self.moments(weights, self.monomials(unit), layout)
        squares = torch.stack([(weight * weight).sum(2).T for weight in layout.blocks(weights)], dim=1)
        products = moments[:, self.first] * moments[:, self.second]  # (atoms, pairs, widths, monomials)
        full = (products @ self.per_degree) @ self.expansion  # (atoms, pairs, widths, shapes)
        # same-element pairs: every unordered pair j != k once
        diagonal = squares[:, self.first, :, None] * self.diagonal
        values = full - self.same * (0.5 * full + 0.5 * diagonal)
        return values.reshape(len(values), values.shape[1], -1)[:, :, self.columns]

    @staticmethod
    def moments(weights: torch.Tensor, monomials: torch.Tensor, layout: PairLayout) -> torch.Tensor:
        """(atoms, elements, widths, monomials): ``sum_j w(r_ij) u_ij^alpha`` per centre and neighbour element."""
        blocks = zip(layout.blocks(weights), layout.blocks(monomials), strict=True)
        # (atoms, widths, width_e) @ (atoms, width_e, monomials)
        return torch.stack([torch.bmm(w.transpose(0, 1), m.permute(1, 2, 0)) for w, m in blocks], dim=1)

    def monomials(self, unit: torch.Tensor) -> torch.Tensor:
        """``u^alpha`` (monomials, slots) of unit vectors (3, slots), in the order of :func:`_multi_indices`."""
        degree = self.per_degree.shape[1] - 1
        levels = [torch.ones_like(unit[:1])]
        for n in range(1, degree + 1):
            previous = levels[-1]
            levels.append(torch.cat([previous * unit[0], previous[-n:] * unit[1], previous[-1:] * unit[2]]))
        return torch.cat(levels)


class _Moments(torch.autograd.Function):
    """:meth:`MomentAngular.moments` with a hand-written backward (first derivatives only, less memory traffic)."""

    @staticmethod
    def forward(ctx, unit, weights, layout, functions):
        with torch.no_grad():
            monomials = functions.monomials(unit)
            moments = functions.moments(weights, monomials, layout)
        ctx.save_for_backward(weights, monomials)
        ctx.layout, ctx.functions = layout, functions
        return moments

    @staticmethod
    def backward(ctx, grad_moments):
        weights, monomials = ctx.saved_tensors
        layout, functions = ctx.layout, ctx.functions
        grad_weights, grad_unit = torch.empty_like(weights), torch.empty_like(monomials[1:4])
        n_lower, steps, factors = functions.derivative_terms
        blocks = zip(
            layout.blocks(weights),
            layout.blocks(monomials),
            layout.blocks(grad_weights),
            layout.blocks(grad_unit),
            grad_moments.unbind(1),
            strict=True,
        )
        for w, m, grad_w, grad_u, grad in blocks:  # grad: (atoms, widths, monomials)
            grad_w.copy_(torch.bmm(grad, m.transpose(0, 1)).transpose(0, 1))
            # d(u^alpha)/du_x = alpha_x u^(alpha - e_x): over the monomials beta of lower degree, per axis x,
            # alpha_x dE/d(u^alpha) at alpha = beta + e_x, times u^beta
            grad_steps = torch.bmm(w.permute(1, 2, 0), grad[:, :, steps] * factors)  # (atoms, width_e, 3 n_lower)
            grad_steps = grad_steps.permute(2, 0, 1).unflatten(0, (3, n_lower))
            grad_u.copy_((grad_steps * m[:n_lower]).sum(1))
        return grad_unit, grad_weights, None, None


def _multi_indices(n: int) -> list[tuple[int, int, int]]:
    """Exponents ``(a, b, c)`` with ``a + b + c = n``: ``x`` times those of degree ``n - 1``, then ``y`` times
    those without ``x``, then ``z^n``."""
    return [(a, b, n - a - b) for a in range(n, -1, -1) for b in range(n - a, -1, -1)]


class TripletAngular:
    """Angular functions summed over triplets (narrow ones, wide ones with non-integer or large zeta)."""

    def __init__(self, functions: list[AngularFunction], owner: SymmetryFunctions) -> None:
        self.owner = owner
        self.cutoff_function = owner.cutoff_function
        self.n_elements, self.n_element_pairs = owner.n_elements, owner.n_element_pairs
        self.device = owner.device
        tensor = owner._tensor
        # angular functions as a grid: (eta, rs) widths x (zeta, lambda) shapes, for each kind
        self.kinds = sorted({f.kind for f in functions})
        widths = sorted({(f.eta, f.rs) for f in functions})
        shapes = sorted({(f.zeta, f.lambda_) for f in functions})
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
            for f in functions
        ]
        self.columns = torch.as_tensor(columns, dtype=torch.long, device=self.device)
        self.prefactor = tensor([2.0 ** (1.0 - f.zeta) for f in functions])

    def __call__(
        self, vectors: torch.Tensor, neighbour_list: NeighbourList, types: torch.Tensor, n_atoms: int, checkpoint: bool
    ) -> torch.Tensor:
        """(atoms, element pairs, functions)."""
        layout = self.layout(neighbour_list, types)
        # neighbour vectors by component, plus a vector beyond the cut-off that padded triplet slots point at
        padding = vectors.new_tensor([[2.0 * self.owner.cutoff, 0.0, 0.0]])
        components = torch.cat([vectors, padding]).T.contiguous()
        n_rows = n_atoms * self.n_element_pairs
        if checkpoint and components.requires_grad:
            grid = _CheckpointedAngular.apply(components, layout, n_rows, self)
        else:
            grid = self.angular_grid(components, layout, n_rows)
        return (grid[:, self.columns] * self.prefactor).reshape(n_atoms, self.n_element_pairs, -1)

    def layout(self, neighbour_list: NeighbourList, types: torch.Tensor) -> TripletLayout:
        """Padded blocks of triplets (cached on the neighbour list)."""
        cached = getattr(neighbour_list, '_layout', None)
        if cached is not None and cached.key == (self.n_elements, str(self.device)):
            return cached
        layout = TripletLayout.build(neighbour_list, types.cpu().numpy(), self.n_elements, self.device)
        neighbour_list._layout = layout
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
    """``bases ** zeta`` for each zeta; integer exponents by repeated squaring.

    A base ``1 + lambda cos`` of a collinear triplet may round to just below 0; real exponents take it as 0.
    """
    if not all(float(zeta).is_integer() for zeta in zetas):
        return [bases.clamp_min(0.0) ** zeta for zeta in zetas]
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
    """Triplets in padded blocks: each block row is one (centre, element pair) sum.

    Rows of similar length share a block, so padding (pointing at an all-zero pair column) stays small and
    each block holds about ``BLOCK_TRIPLETS`` triplets: a working set that fits in cache.
    """

    def __init__(self, key: tuple, blocks: list[tuple[torch.Tensor, ...]]) -> None:
        self.key, self.blocks = key, blocks

    @classmethod
    def build(cls, nl: NeighbourList, types: np.ndarray, n_elements: int, device: torch.device) -> TripletLayout:
        neighbour_types = types[nl.neighbours]
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
        return cls((n_elements, str(device)), blocks)


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
