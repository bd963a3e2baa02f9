"""Checks of the public inputs shared by the work chains: codes given by label, and overlapping atoms.

Each returns or raises a message that names the input and the fix, before anything is submitted.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
from aiida import orm
from aiida.common import exceptions
from aiida.common.exceptions import MultipleObjectsError, NotExistent
from ase.neighborlist import neighbor_list

MIN_SEPARATION_A = 0.5  # no bond is shorter than H2's 0.74 A: atoms closer than this overlap


class InputValidationError(ValueError, exceptions.InputValidationError):
    """A workflow input is invalid; the message names the input and the fix."""

    def within(self, namespace: str) -> InputValidationError:
        """The same error for the input inside ``namespace``: `field` becomes `namespace.field`."""
        message = str(self)
        if message.startswith('`'):
            return InputValidationError(f'`{namespace}.{message[1:]}')
        return InputValidationError(f'`{namespace}`: {message}')


def resolve_code(value: orm.AbstractCode | str | int, name: str, plugins: Iterable[str] = ()) -> orm.AbstractCode:
    """The code ``value`` (a code node, its label such as ``'glassceramic-lmp@localhost'``, or its PK).

    :param plugins: the CalcJob plugins the code may have as its default; empty: any.
    :raises InputValidationError: no such code, or a code made for another calculation.
    """
    if isinstance(value, orm.AbstractCode):
        code = value
    else:
        try:
            code = orm.load_code(value)
        except (NotExistent, MultipleObjectsError, ValueError, TypeError) as error:
            raise InputValidationError(
                f'`{name}`: no code `{value}` ({error}); see `verdi code list`, or create the package codes on '
                'localhost with `aiida-glassceramic setup`'
            ) from None
    plugins = tuple(plugins)
    default = code.default_calc_job_plugin
    if plugins and default and default not in plugins:
        raise InputValidationError(
            f'`{name}`: code `{code.full_label}` runs `{default}` calculations, not {list(plugins)}; '
            'give the code made for this stage'
        )
    return code


def structure_problem(structure: orm.StructureData, name: str, periodic: bool = True) -> str | None:
    """A message naming ``name`` if its positions or cell are not finite numbers, its cell has no volume, it is not
    periodic along a, b and c (when ``periodic``), or two atoms overlap; else None."""
    positions = np.array([site.position for site in structure.sites], dtype=float)
    cell = np.array(structure.cell, dtype=float)
    if not (np.isfinite(positions).all() and np.isfinite(cell).all()):
        return f'`{name}`: positions or cell hold NaN or infinite numbers; give finite coordinates (A)'
    if periodic and not all(structure.pbc):
        return f'`{name}`: periodic along {list(structure.pbc)}; the MD needs a cell periodic along a, b and c'
    if periodic and not abs(np.linalg.det(cell)) > 1e-6:
        return f'`{name}`: the cell has no volume; give three independent cell vectors'
    return overlapping_atoms(structure, name)


def overlapping_atoms(structure: orm.StructureData, name: str, minimum: float = MIN_SEPARATION_A) -> str | None:
    """A message naming the closest pair of ``structure`` if two atoms are closer than ``minimum`` A, else None.

    The neighbour search is linear in the number of atoms (ASE's binned neighbour list).
    """
    atoms = structure.get_ase()
    first, second, distance = neighbor_list('ijd', atoms, minimum, self_interaction=False)
    if not len(distance):
        return None
    closest = int(np.argmin(distance))
    i, j = sorted((int(first[closest]), int(second[closest])))
    return (
        f'`{name}`: atoms {i} ({atoms[i].symbol}) and {j} ({atoms[j].symbol}) are {distance[closest]:.3f} A apart '
        f'(below {minimum} A: overlapping atoms, pairs: {len(distance) // 2}); fix the positions or the cell'
    )
