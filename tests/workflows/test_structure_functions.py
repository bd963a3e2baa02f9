"""Structure calcfunctions record provenance and give the same structures as the plain builders."""

import pytest
from aiida import orm
from aiida.plugins import CalculationFactory

from aiida_glassceramic.structures import read_crystal


def test_supercell_provenance(aiida_profile):
    build_supercell = CalculationFactory('glassceramic.structures.supercell')
    beta = orm.StructureData(ase=read_crystal('beta'))
    result, node = build_supercell.run_get_node(beta, orm.List([6, 6, 5]))
    assert node.is_finished_ok
    assert len(result.sites) == 5760
    assert result.get_cell_volume() == pytest.approx(180 * beta.get_cell_volume())
    assert result.base.links.get_incoming().one().node.pk == node.pk
    assert {link.node.pk for link in node.base.links.get_incoming().all()} >= {beta.pk}


def test_strained_volume(aiida_profile):
    build_strained = CalculationFactory('glassceramic.structures.strained')
    gamma = orm.StructureData(ase=read_crystal('gamma'))
    strained = build_strained(gamma, orm.Float(-0.02))
    assert strained.get_cell_volume() / gamma.get_cell_volume() == pytest.approx(0.98**3)
