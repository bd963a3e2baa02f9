"""Crystal models and the structure builders of the reference data set.

Plain functions on :class:`ase.Atoms`; no AiiDA import.
"""

from .builders import (
    li2s_vacancy,
    li_vacancy,
    reference_cell,
    repeat_along,
    strain_isotropic,
    supercell,
)
from .io import BUNDLED, StructureError, bundled_cif, read_crystal

__all__ = (
    'BUNDLED',
    'StructureError',
    'bundled_cif',
    'li2s_vacancy',
    'li_vacancy',
    'read_crystal',
    'reference_cell',
    'repeat_along',
    'strain_isotropic',
    'supercell',
)
