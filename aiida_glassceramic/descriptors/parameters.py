"""Behler-Parrinello symmetry-function parameter sets (n2p2 conventions), serialisable to a JSON dict.

Radial (n2p2 type 2, ``G2``) per neighbour element ``e``::

    G2 = sum_{j in e} exp(-eta (r_ij - r_s)^2) f_c(r_ij)

Angular per unordered neighbour-element pair ``(a, b)``, narrow (type 3, ``G3``) and wide (type 9, ``G9``)::

    G3 = 2^(1-zeta) sum_{j<k} (1 + lambda cos theta_ijk)^zeta
         exp(-eta [(r_ij - r_s)^2 + (r_ik - r_s)^2 + (r_jk - r_s)^2]) f_c(r_ij) f_c(r_ik) f_c(r_jk)
    G9 = the same without the r_jk terms and without f_c(r_jk)

with the cut-off function ``f_c`` of :data:`CUTOFF_FUNCTIONS` (``x = r / r_c < 1``; 0 beyond), n2p2's names:

- ``cos``: ``(cos(pi x) + 1) / 2``, the study's; its second derivative jumps from ``pi^2 / (2 r_c^2)`` to 0 at
  ``r_c``, so forces change by a kink as pairs cross the cut-off;
- ``poly2``: ``1 + x^3 (x (15 - 6 x) - 10)``, with vanishing first and second derivatives at ``r_c``: forces are
  continuously differentiable, which keeps Verlet's energy error smooth in NVE.

Every centre element gets the
same functions; features are ordered radial first (neighbour element, then parameter), then angular
(element pair in the order of :meth:`SymmetryFunctionParameters.element_pairs`, then parameter).

The default set (:func:`default_parameters`) uses wide functions with integer ``zeta`` in 1..4. Those are
separable: ``(1 + lambda cos)^zeta`` expands into powers of ``cos = u_j . u_k``, so the sum over neighbour
pairs becomes a product of per-centre moments ``sum_j w(r_ij) u_ij^alpha`` (35 monomials up to degree 4),
computed in time linear in the neighbour pairs instead of the ~1000-2500 triplets per atom at 7 A (see
:mod:`aiida_glassceramic.descriptors.features`). Narrow functions, and wide ones with non-integer or large
``zeta``, stay available and are summed over triplets; a set may mix both kinds.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import ase.data

ANGULAR_KINDS = ('narrow', 'wide')
CUTOFF_FUNCTIONS = ('cos', 'poly2')
MAX_MOMENT_ZETA = 8  # beyond this the C(zeta + 3, 3) monomials of the moment expansion cost more than triplets


class DescriptorParameterError(ValueError):
    """Symmetry-function parameters that cannot be used, with the field and the fix in the message."""


@dataclass(frozen=True)
class RadialFunction:
    """One G2 radial function: width ``eta`` (1/A^2) and centre ``rs`` (A)."""

    eta: float
    rs: float = 0.0


@dataclass(frozen=True)
class AngularFunction:
    """One angular function: ``kind`` is ``'narrow'`` (G3) or ``'wide'`` (G9); ``lambda_`` is +1 or -1."""

    eta: float
    zeta: float
    lambda_: float
    rs: float = 0.0
    kind: str = 'narrow'

    @property
    def separable(self) -> bool:
        """True for a wide function with integer ``zeta <= MAX_MOMENT_ZETA``: summed from per-centre moments."""
        return self.kind == 'wide' and float(self.zeta).is_integer() and self.zeta <= MAX_MOMENT_ZETA


@dataclass(frozen=True)
class SymmetryFunctionParameters:
    """The symmetry functions of a potential: elements, cut-off (A), radial and angular functions."""

    elements: tuple[str, ...]
    cutoff: float
    radial: tuple[RadialFunction, ...]
    angular: tuple[AngularFunction, ...]
    cutoff_function: str = field(default='cos')

    def __post_init__(self) -> None:
        object.__setattr__(self, 'elements', tuple(self.elements))
        object.__setattr__(self, 'radial', tuple(self.radial))
        object.__setattr__(self, 'angular', tuple(self.angular))
        self._validate()

    def _validate(self) -> None:
        if not self.elements:
            raise DescriptorParameterError('descriptor `elements`: give at least one element symbol, e.g. ["Li", "P"]')
        unknown = [symbol for symbol in self.elements if symbol not in ase.data.atomic_numbers or symbol == 'X']
        if unknown:
            raise DescriptorParameterError(f'descriptor `elements`: {unknown} are not element symbols')
        if len(set(self.elements)) != len(self.elements):
            raise DescriptorParameterError(f'descriptor `elements`: {list(self.elements)} lists an element twice')
        if not (isinstance(self.cutoff, int | float) and math.isfinite(self.cutoff) and self.cutoff > 0):
            raise DescriptorParameterError(f'descriptor `cutoff`: {self.cutoff!r}; give a positive distance in A')
        if self.cutoff_function not in CUTOFF_FUNCTIONS:
            raise DescriptorParameterError(
                f'descriptor `cutoff_function`: {self.cutoff_function!r}; choose one of {CUTOFF_FUNCTIONS}'
            )
        if not self.radial and not self.angular:
            raise DescriptorParameterError('descriptor: needs at least one radial or angular function')
        for index, function in enumerate(self.radial):
            if not function.eta >= 0 or not 0 <= function.rs < self.cutoff:
                raise DescriptorParameterError(
                    f'descriptor `radial[{index}]`: eta must be >= 0 and 0 <= rs < cutoff, got {function}'
                )
        for index, function in enumerate(self.angular):
            if function.kind not in ANGULAR_KINDS:
                raise DescriptorParameterError(
                    f'descriptor `angular[{index}].kind`: {function.kind!r}; choose one of {ANGULAR_KINDS}'
                )
            if function.lambda_ not in (-1, 1):
                raise DescriptorParameterError(
                    f'descriptor `angular[{index}].lambda`: {function.lambda_}; use +1 or -1'
                )
            if not function.zeta >= 1:
                raise DescriptorParameterError(f'descriptor `angular[{index}].zeta`: {function.zeta}; must be >= 1')
            if not function.eta >= 0 or not 0 <= function.rs < self.cutoff:
                raise DescriptorParameterError(
                    f'descriptor `angular[{index}]`: eta must be >= 0 and 0 <= rs < cutoff, got {function}'
                )

    @property
    def element_pairs(self) -> list[tuple[int, int]]:
        """Unordered neighbour-element pairs ``(a, b)`` with ``a <= b`` (indices into ``elements``)."""
        return list(itertools.combinations_with_replacement(range(len(self.elements)), 2))

    @property
    def n_features(self) -> int:
        """Inputs per atom: elements x radial + element pairs x angular (165 for the default Li-P-S set)."""
        return len(self.elements) * len(self.radial) + len(self.element_pairs) * len(self.angular)

    @property
    def narrow_only(self) -> bool:
        """True when every angular function is narrow, so triplets with r_jk >= cutoff can be dropped."""
        return all(function.kind == 'narrow' for function in self.angular)

    @property
    def needs_triplets(self) -> bool:
        """True when some angular function is not separable and hence summed over triplets."""
        return not all(function.separable for function in self.angular)

    @property
    def triplet_cutoff(self) -> float | None:
        """``r_jk`` beyond which triplets contribute nothing: the cut-off when every triplet function is narrow."""
        narrow = all(function.kind == 'narrow' for function in self.angular if not function.separable)
        return self.cutoff if narrow else None

    def labels(self) -> list[str]:
        """A readable name per feature, in feature order."""
        names = [f'G2[{element}](eta={f.eta:g},rs={f.rs:g})' for element in self.elements for f in self.radial]
        for a, b in self.element_pairs:
            pair = f'{self.elements[a]}-{self.elements[b]}'
            kind = {'narrow': 'G3', 'wide': 'G9'}
            names += [
                f'{kind[f.kind]}[{pair}](eta={f.eta:g},zeta={f.zeta:g},lambda={f.lambda_:+g},rs={f.rs:g})'
                for f in self.angular
            ]
        return names

    def to_dict(self) -> dict:
        """A JSON-able dict; :meth:`from_dict` restores it."""
        return {
            'elements': list(self.elements),
            'cutoff': float(self.cutoff),
            'cutoff_function': self.cutoff_function,
            'radial': [{'eta': f.eta, 'rs': f.rs} for f in self.radial],
            'angular': [
                {'eta': f.eta, 'zeta': f.zeta, 'lambda': f.lambda_, 'rs': f.rs, 'kind': f.kind} for f in self.angular
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> SymmetryFunctionParameters:
        """Read the dict written by :meth:`to_dict`."""
        missing = [key for key in ('elements', 'cutoff', 'radial', 'angular') if key not in data]
        if missing:
            raise DescriptorParameterError(f'descriptor parameters: missing keys {missing}')
        try:
            radial = [RadialFunction(float(f['eta']), float(f.get('rs', 0.0))) for f in data['radial']]
            angular = [
                AngularFunction(
                    float(f['eta']),
                    float(f['zeta']),
                    float(f['lambda']),
                    float(f.get('rs', 0.0)),
                    str(f.get('kind', 'narrow')),
                )
                for f in data['angular']
            ]
        except (KeyError, TypeError) as error:
            raise DescriptorParameterError(
                f'descriptor parameters: each radial entry needs `eta` (and `rs`), each angular entry `eta`, '
                f'`zeta`, `lambda` (and `rs`, `kind`): {error!r}'
            ) from None
        return cls(
            elements=tuple(data['elements']),
            cutoff=float(data['cutoff']),
            radial=tuple(radial),
            angular=tuple(angular),
            cutoff_function=data.get('cutoff_function', 'cos'),
        )


def centred_etas(radii: Sequence[float]) -> list[float]:
    """Gaussian widths ``eta = 1 / (2 r^2)`` of functions centred at 0 whose width is ``r`` (n2p2 'centered')."""
    return [1.0 / (2.0 * radius**2) for radius in radii]


def default_parameters(
    elements: Sequence[str], cutoff: float = 7.0, angular_kind: str = 'wide', cutoff_function: str = 'cos'
) -> SymmetryFunctionParameters:
    """The study's set: 7 radial functions per neighbour element and 24 angular per neighbour-element pair.

    Radial: centred G2 with widths from 1.5 A to the cut-off. Angular: 3 widths x 4 zeta x lambda (-1, +1);
    wide (G9) with zeta (1, 2, 3, 4) by default, which is separable and hence linear in the neighbour pairs;
    ``angular_kind='narrow'`` gives narrow G3 with zeta (1, 2, 4, 16), summed over triplets. For Li, P, S:
    3 x 7 + 6 x 24 = 165 inputs per atom. ``cutoff_function``: one of :data:`CUTOFF_FUNCTIONS`.
    """
    if angular_kind not in ANGULAR_KINDS:
        raise DescriptorParameterError(f'angular_kind: {angular_kind!r}; choose one of {ANGULAR_KINDS}')
    zetas = (1.0, 2.0, 3.0, 4.0) if angular_kind == 'wide' else (1.0, 2.0, 4.0, 16.0)
    radial = [RadialFunction(eta) for eta in centred_etas([1.5 + (cutoff - 1.5) * i / 6 for i in range(7)])]
    angular = [
        AngularFunction(eta, zeta, lambda_, 0.0, angular_kind)
        for eta in centred_etas([2.0, 3.5, cutoff - 1.0])
        for zeta in zetas
        for lambda_ in (-1.0, 1.0)
    ]
    return SymmetryFunctionParameters(tuple(elements), float(cutoff), tuple(radial), tuple(angular), cutoff_function)
