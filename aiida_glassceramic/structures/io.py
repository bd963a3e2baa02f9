"""Reading crystal models: the bundled Li3PS4 polymorphs and any user CIF."""

from __future__ import annotations

from collections.abc import Iterable
from importlib import resources
from pathlib import Path

import ase
import ase.io
import numpy as np

BUNDLED = {'beta': 'Li3PS4_beta.cif', 'gamma': 'Li3PS4_gamma.cif'}
LI3PS4_ELEMENTS = ('Li', 'P', 'S')


class StructureError(ValueError):
    """A structure that cannot be used, with the reason and the fix in its message."""


def bundled_cif(name: str) -> Path:
    """Path of a bundled CIF: ``'beta'`` or ``'gamma'`` Li3PS4."""
    try:
        filename = BUNDLED[name]
    except KeyError:
        raise StructureError(f'structure `{name}`: unknown bundled model; choose one of {sorted(BUNDLED)}') from None
    return Path(str(resources.files('aiida_glassceramic.structures') / 'cifs' / filename))


def read_crystal(
    source: str | Path,
    elements: Iterable[str] | None = LI3PS4_ELEMENTS,
    ordering: str = 'error',
) -> ase.Atoms:
    """Read an ordered crystal model from a bundled name (``'beta'``, ``'gamma'``) or a CIF path.

    :param elements: the elements the structure must consist of, exactly (``None``: any).
    :param ordering: what to do with partially occupied sites: ``'error'`` (default) refuses them;
        ``'drop'`` keeps only fully occupied sites (an explicit choice of an ordered model is better).
    :raises StructureError: partial occupancies, unexpected elements or an unreadable file.
    """
    path = bundled_cif(str(source)) if str(source) in BUNDLED else Path(source)
    if not path.is_file():
        raise StructureError(f'structure `{source}`: no such file; give a CIF path or one of {sorted(BUNDLED)}')
    try:
        atoms = ase.io.read(path)
    except Exception as exc:
        raise StructureError(f'structure `{path}`: not a readable crystal file ({exc})') from exc
    atoms = _resolve_occupancy(atoms, path, ordering)
    if elements is not None:
        found, wanted = set(atoms.get_chemical_symbols()), set(elements)
        if found != wanted:
            raise StructureError(
                f'structure `{path.name}` contains {sorted(found)} but {sorted(wanted)} were expected; '
                'pass `elements=` with the elements of your material'
            )
    atoms.info = {'source': str(path)}
    atoms.pbc = True
    return atoms


def _resolve_occupancy(atoms: ase.Atoms, path: Path, ordering: str) -> ase.Atoms:
    """Refuse or drop partially occupied sites."""
    if ordering not in ('error', 'drop'):
        raise StructureError(f"ordering `{ordering}`: unknown; use 'error' or 'drop'")
    occupancy = atoms.info.get('occupancy', {})
    kinds = atoms.arrays.get('spacegroup_kinds', np.arange(len(atoms)))
    partial = {
        int(tag): occ
        for tag, occ in occupancy.items()
        if len(occ) > 1 or any(abs(value - 1.0) > 1e-6 for value in occ.values())
    }
    if not partial:
        return atoms
    if ordering == 'error':
        sites = ', '.join(f'{tag}: {occ}' for tag, occ in list(partial.items())[:5])
        raise StructureError(
            f'structure `{path.name}` has {len(partial)} partially occupied sites ({sites}); '
            'supply an ordered model (e.g. from pymatgen OrderDisorderedStructureTransformation) '
            "or pass ordering='drop' to keep only fully occupied sites"
        )
    keep = [index for index, kind in enumerate(kinds) if int(kind) not in partial]
    return atoms[keep]
