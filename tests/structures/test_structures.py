"""Bundled Li3PS4 models and the builders, checked against crystallographic facts."""

import numpy as np
import pytest
from ase.neighborlist import neighbor_list

from aiida_glassceramic.structures import (
    StructureError,
    li2s_vacancy,
    li_vacancy,
    read_crystal,
    reference_cell,
    strain_isotropic,
    supercell,
)

AMU_PER_A3_TO_G_PER_CM3 = 1.66053906660
FORMAL_CHARGE = {'Li': +1, 'P': +5, 'S': -2}


def density(atoms) -> float:
    return atoms.get_masses().sum() / atoms.get_volume() * AMU_PER_A3_TO_G_PER_CM3


def formal_charge(atoms) -> int:
    return sum(FORMAL_CHARGE[symbol] for symbol in atoms.get_chemical_symbols())


@pytest.mark.parametrize(('name', 'natoms', 'expected_density'), [('beta', 32, 1.872), ('gamma', 16, 1.93)])
def test_bundled_models(name, natoms, expected_density):
    atoms = read_crystal(name)
    assert len(atoms) == natoms
    counts = {symbol: atoms.get_chemical_symbols().count(symbol) for symbol in ('Li', 'P', 'S')}
    assert counts['Li'] == 3 * counts['P'] and counts['S'] == 4 * counts['P']
    assert formal_charge(atoms) == 0
    assert density(atoms) == pytest.approx(expected_density, rel=0.005)


@pytest.mark.parametrize('name', ['beta', 'gamma'])
def test_every_p_is_a_ps4_tetrahedron(name):
    atoms = read_crystal(name)
    first, second = neighbor_list('ij', atoms, 2.3)
    symbols = np.asarray(atoms.get_chemical_symbols())
    for p in np.flatnonzero(symbols == 'P'):
        neighbours = symbols[second[first == p]]
        assert sorted(neighbours) == ['S'] * 4
    first, second, distance = neighbor_list('ijd', atoms, 2.6)
    bonded = (symbols[first] == 'P') | (symbols[second] == 'P')
    assert 1.95 < distance[bonded].min() and distance[bonded].max() < 2.1, 'P-S bonds of 2.0-2.07 A'
    assert distance[~bonded].min() > 2.25, 'Li-S contacts of about 2.3-2.5 A, nothing closer'


def test_paper_supercell_has_5760_atoms():
    atoms = supercell(read_crystal('beta'), (6, 6, 5))
    assert len(atoms) == 5760
    assert atoms.get_volume() == pytest.approx(180 * read_crystal('beta').get_volume())


@pytest.mark.parametrize('strain', [-0.02, 0.02])
def test_isotropic_strain(strain):
    atoms = read_crystal('beta')
    strained = strain_isotropic(atoms, strain)
    assert strained.get_volume() / atoms.get_volume() == pytest.approx((1 + strain) ** 3, rel=1e-12)
    np.testing.assert_allclose(strained.get_scaled_positions(), atoms.get_scaled_positions(), atol=1e-12)
    np.testing.assert_allclose(strained.cell.angles(), atoms.cell.angles())


@pytest.mark.parametrize(('polymorph', 'natoms', 'length_a'), [('beta', 64, 2 * 13.066), ('gamma', 32, 2 * 7.70829)])
def test_reference_cells_doubled_along_a(polymorph, natoms, length_a):
    atoms = reference_cell(polymorph, natoms)
    assert len(atoms) == natoms
    assert atoms.cell.lengths()[0] == pytest.approx(length_a)


def test_li_vacancy_counts_and_seed():
    atoms = read_crystal('beta')
    defect = li_vacancy(atoms, seed=3)
    assert defect.get_chemical_formula() == 'Li11P4S16'
    assert formal_charge(defect) == -1
    assert li_vacancy(atoms, seed=3) == defect


def test_li2s_vacancy_is_neutral_and_local():
    atoms = reference_cell('beta', 64)
    atoms.set_array('original_index', np.arange(len(atoms)))
    for seed in range(5):
        defect = li2s_vacancy(atoms, seed=seed)
        assert defect.get_chemical_formula() == 'Li22P8S31'
        assert formal_charge(defect) == 0
        assert li2s_vacancy(atoms, seed=seed) == defect
        removed = np.setdiff1d(np.arange(len(atoms)), defect.arrays['original_index'])
        sulfur = removed[atoms.numbers[removed] == 16]
        lithium = removed[atoms.numbers[removed] == 3]
        assert atoms.get_distances(sulfur[0], lithium, mic=True).max() < 3.0, 'the Li removed neighbour the S removed'


def test_user_cif_with_partial_occupancy(tmp_path):
    cif = tmp_path / 'disordered.cif'
    cif.write_text(
        'data_x\n_cell_length_a 6\n_cell_length_b 6\n_cell_length_c 6\n_cell_angle_alpha 90\n'
        "_cell_angle_beta 90\n_cell_angle_gamma 90\n_space_group_name_H-M_alt 'P 1'\nloop_\n"
        '_atom_site_type_symbol\n_atom_site_label\n_atom_site_fract_x\n_atom_site_fract_y\n_atom_site_fract_z\n'
        '_atom_site_occupancy\nLi Li1 0 0 0 0.75\nLi Li2 0.5 0 0 1.0\nP P1 0.5 0.5 0.5 1.0\nS S1 0.25 0.25 0.25 1.0\n'
    )
    with pytest.raises(StructureError, match=r'partially occupied.*ordering='):
        read_crystal(cif)
    ordered = read_crystal(cif, ordering='drop')
    assert ordered.get_chemical_formula() == 'LiPS'


def test_user_cif_of_another_material(tmp_path):
    import ase.build
    import ase.io

    path = tmp_path / 'nacl.cif'
    ase.io.write(path, ase.build.bulk('NaCl', 'rocksalt', a=5.64))
    with pytest.raises(StructureError, match=r"contains \['Cl', 'Na'\].*elements="):
        read_crystal(path)
    assert read_crystal(path, elements=('Na', 'Cl')).get_chemical_formula() == 'ClNa'
    assert ase.data.atomic_numbers['Na'] in read_crystal(path, elements=None).numbers


def test_bad_arguments_name_the_problem():
    with pytest.raises(StructureError, match='unknown bundled model'):
        from aiida_glassceramic.structures import bundled_cif

        bundled_cif('alpha')
    with pytest.raises(StructureError, match='no such file'):
        read_crystal('missing.cif')
    with pytest.raises(StructureError, match='percentage'):
        strain_isotropic(read_crystal('beta'), 2.0)
    with pytest.raises(StructureError, match='three positive integers'):
        supercell(read_crystal('beta'), (6, 6))
    with pytest.raises(StructureError, match='not a multiple'):
        reference_cell('beta', 48)
