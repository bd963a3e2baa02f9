"""Calcfunctions that put the structure builders into the provenance graph."""

from __future__ import annotations

from aiida import orm
from aiida.engine import calcfunction

from ..structures import strain_isotropic, supercell


@calcfunction
def build_supercell(structure: orm.StructureData, repeats: orm.List) -> orm.StructureData:
    """Repeat ``structure`` by ``repeats = [na, nb, nc]`` (paper MD model: beta x [6, 6, 5] = 5760 atoms)."""
    return orm.StructureData(ase=supercell(structure.get_ase(), repeats.get_list()))


@calcfunction
def build_strained(structure: orm.StructureData, strain: orm.Float) -> orm.StructureData:
    """Scale every lattice vector of ``structure`` by ``1 + strain``."""
    return orm.StructureData(ase=strain_isotropic(structure.get_ase(), strain.value))
