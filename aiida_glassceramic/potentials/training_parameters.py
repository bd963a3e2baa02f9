"""Hyper-parameters of the training and their rules, checked before anything is stored, submitted or trained.

Imports neither torch nor AiiDA: the CalcJob validates with the same rules as ``glassceramic-train``.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable, Iterable
from dataclasses import dataclass

ACTIVATIONS = ('tanh', 'softplus', 'silu')  # the keys of potentials.model.ACTIVATIONS
DTYPES = ('float32', 'float64')  # the keys of potentials.model.DTYPES
CUTOFF_FUNCTIONS = ('cos', 'poly2')  # descriptors.parameters.CUTOFF_FUNCTIONS
SCHEDULES = ('constant', 'cosine')  # learning rate over the epochs: fixed, or cosine decay to 0 at `epochs`


class TrainingParameterError(ValueError):
    """A hyper-parameter that cannot be used, with the key and the fix in the message."""


def _is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_number(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)


PARAMETER_RULES: dict[str, tuple[Callable[[object], bool], str]] = {
    'hidden': (
        lambda v: isinstance(v, list | tuple) and bool(v) and all(_is_int(n) and n > 0 for n in v),
        'a non-empty list of positive integers (nodes per hidden layer), e.g. [10, 10]',
    ),
    'activation': (lambda v: v in ACTIVATIONS, f'one of {list(ACTIVATIONS)}'),
    'dtype': (lambda v: v in DTYPES, f'one of {list(DTYPES)}'),
    'cutoff': (lambda v: _is_number(v) and v > 0, 'a positive distance in Angstrom, e.g. 7.0'),
    'cutoff_function': (lambda v: v in CUTOFF_FUNCTIONS, f'one of {list(CUTOFF_FUNCTIONS)} (the cut-off function)'),
    'descriptor': (lambda v: isinstance(v, dict), 'a dict of symmetry-function parameters (or leave it out)'),
    'energy_weight': (lambda v: _is_number(v) and v >= 0, 'a number >= 0 (weight of the energy-per-atom loss)'),
    'force_weight': (lambda v: _is_number(v) and v >= 0, 'a number >= 0 (weight of the force loss)'),
    'stress_weight': (
        lambda v: _is_number(v) and v >= 0,
        'a number >= 0 (weight of the loss on the virial per atom; 0: stresses are not fitted)',
    ),
    'learning_rate': (lambda v: _is_number(v) and v > 0, 'a positive number, e.g. 0.005'),
    'learning_rate_schedule': (
        lambda v: v in SCHEDULES,
        f'one of {list(SCHEDULES)} (constant, or a cosine decay from `learning_rate` to 0 over `epochs`)',
    ),
    'epochs': (lambda v: _is_int(v) and v > 0, 'a positive integer'),
    'batch_size': (lambda v: _is_int(v) and v > 0, 'a positive integer (structures per batch)'),
    'patience': (lambda v: _is_int(v) and v > 0, 'a positive integer (epochs without improvement before stopping)'),
    'test_fraction': (lambda v: _is_number(v) and 0 < v < 1, 'a number strictly between 0 and 1, e.g. 0.2'),
    'validation_fraction': (
        lambda v: _is_number(v) and 0 < v < 1,
        'a number strictly between 0 and 1 (share of the training part that stops the training), e.g. 0.1',
    ),
    'seed': (lambda v: _is_int(v) and v >= 0, 'an integer >= 0 (random split, batches and initial weights)'),
    'strict': (
        lambda v: isinstance(v, bool),
        'true or false (true: refuse training data that fail the sanity checks instead of warning)',
    ),
}


def validate_parameters(parameters: dict) -> None:
    """Check every hyper-parameter (see :class:`TrainingParameters`).

    :raises TrainingParameterError: naming the first unknown or invalid key and what it should be.
    """
    for key, value in parameters.items():
        if key not in PARAMETER_RULES:
            raise TrainingParameterError(f'unknown key `{key}`; known keys are {sorted(PARAMETER_RULES)}')
        check, expected = PARAMETER_RULES[key]
        if not check(value):
            raise TrainingParameterError(f'`{key}` is {value!r}; give {expected}')
    if parameters.get('energy_weight', 1.0) == 0 and parameters.get('force_weight', 1.0) == 0:
        raise TrainingParameterError('`energy_weight` and `force_weight` are both 0; at least one must be positive')
    if 'descriptor' in parameters:
        from ..descriptors.parameters import DescriptorParameterError, SymmetryFunctionParameters

        try:
            SymmetryFunctionParameters.from_dict(parameters['descriptor'])
        except DescriptorParameterError as error:
            raise TrainingParameterError(f'`descriptor`: {error}') from None


def check_stress_labels(parameters: dict, has_stress: Iterable[bool]) -> None:
    """A positive ``stress_weight`` needs stresses on every training structure.

    :raises TrainingParameterError: naming ``stress_weight`` and the fix.
    """
    if parameters.get('stress_weight', 0.0) > 0 and not all(has_stress):
        raise TrainingParameterError(
            f'`stress_weight` is {parameters["stress_weight"]!r} but some training structures carry no stress; '
            'label them with stresses or set `stress_weight` to 0'
        )


def check_descriptor_species(descriptor: dict | None, species: Iterable[str]) -> None:
    """A given ``descriptor`` (parameter dict) must cover every element of the training data.

    :raises TrainingParameterError: naming the missing elements.
    """
    if descriptor is None:
        return
    missing = sorted(set(species) - set(descriptor['elements']))
    if missing:
        raise TrainingParameterError(
            f'`descriptor.elements` lacks {missing} of the training sets; add them or drop `descriptor`'
        )


@dataclass(frozen=True)
class TrainingParameters:
    """Hyper-parameters; ``descriptor`` is a :meth:`SymmetryFunctionParameters.to_dict` dict or None (the default set
    on ``cutoff`` with ``cutoff_function``); ``strict`` refuses training data that fail the sanity checks of
    :mod:`.data_checks` instead of training with a warning."""

    hidden: tuple[int, ...] = (10, 10)
    activation: str = 'tanh'
    dtype: str = 'float64'
    cutoff: float = 7.0
    cutoff_function: str = 'cos'
    descriptor: dict | None = None
    energy_weight: float = 1.0
    force_weight: float = 1.0
    stress_weight: float = 0.0
    learning_rate: float = 5e-3
    learning_rate_schedule: str = 'constant'
    epochs: int = 300
    batch_size: int = 8
    patience: int = 40
    test_fraction: float = 0.2
    validation_fraction: float = 0.1
    seed: int = 0
    strict: bool = False

    @classmethod
    def from_dict(cls, data: dict | None) -> TrainingParameters:
        """The parameters of ``data`` (missing keys: defaults) once :func:`validate_parameters` accepts them."""
        data = dict(data or {})
        validate_parameters(data)
        if 'hidden' in data:
            data['hidden'] = tuple(int(n) for n in data['hidden'])
        return cls(**data)
