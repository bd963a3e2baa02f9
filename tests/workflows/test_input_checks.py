"""Bad codes and overlapping atoms at the public entry points: a message naming the input, and nothing submitted."""

from __future__ import annotations

import re
import uuid

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node

from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.anneal import AnnealWorkChain
from aiida_glassceramic.workflows.diffusion import DiffusionWorkChain
from aiida_glassceramic.workflows.glassceramic import GlassCeramicWorkChain
from aiida_glassceramic.workflows.input_checks import InputValidationError, overlapping_atoms
from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain
from aiida_glassceramic.workflows.reference_data import ReferenceDataInputError, ReferenceDataWorkChain

TBLITE = {'reference_engine': 'tblite'}  # the demo's default is CHGNet; these tests give the tblite code


@pytest.fixture
def codes(tblite_code, train_code, nnp_code):
    return {'reference': tblite_code, 'train': train_code, 'lammps': nnp_code}


def count_processes() -> int:
    return orm.QueryBuilder().append(orm.ProcessNode).count()


def overlapping_beta(distance: float):
    """beta-Li3PS4 with atom 5 moved to ``distance`` A from atom 17 (an S)."""
    atoms = read_crystal('beta')
    direction = np.array([1.0, 2.0, 2.0]) / 3.0
    atoms.positions[5] = atoms.positions[17] + distance * direction
    return atoms


def test_overlap_reports_the_closest_pair_as_a_brute_force_search_finds_it(aiida_profile):
    atoms = overlapping_beta(0.31)
    distances = atoms.get_all_distances(mic=True)  # every pair through the minimum image, independent of the check
    np.fill_diagonal(distances, np.inf)
    i, j = np.unravel_index(np.argmin(distances), distances.shape)
    message = overlapping_atoms(orm.StructureData(ase=atoms), 'crystal')
    assert f'atoms {min(i, j)} ' in message and f' and {max(i, j)} ' in message
    assert f'{distances[i, j]:.3f} A apart' in message and '0.310 A' in message
    assert overlapping_atoms(orm.StructureData(ase=read_crystal('beta')), 'crystal') is None


def test_overlapping_atoms_are_refused_before_submission(codes):
    crystal = orm.StructureData(ase=overlapping_beta(0.2))
    before = count_processes()
    with pytest.raises(InputValidationError, match=r'`crystal`: atoms 5 \(Li\) and 17 \(S\) are 0\.200 A apart'):
        GlassCeramicWorkChain.get_builder_from_protocol(codes, crystal, protocol='demo', overrides=TBLITE)
    with pytest.raises(ReferenceDataInputError, match=r'`structures\.beta`: atoms 5 \(Li\) and 17 \(S\)'):
        ReferenceDataWorkChain.get_builder_from_protocol(codes['reference'], {'beta': crystal}, protocol='demo')

    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes, orm.StructureData(ase=read_crystal('beta')), protocol='demo', overrides=TBLITE
    )
    builder.glass = crystal  # past the builder: the process validator refuses it
    with pytest.raises(ValueError, match='`glass`: atoms 5'):
        run_get_node(builder)
    classical = orm.Dict({'elements': ['Li', 'P', 'S'], 'commands': ['pair_style zero 5.0', 'pair_coeff * *']})
    for workflow in (MeltQuenchWorkChain, AnnealWorkChain, DiffusionWorkChain):
        name = 'structures.structure' if workflow is DiffusionWorkChain else 'structure'
        with pytest.raises(InputValidationError, match=re.escape(f'`{name}`: atoms 5 (Li) and 17 (S)')):
            workflow.get_builder_from_protocol(codes['lammps'], crystal, protocol='demo', potential=classical)
    assert count_processes() == before


def test_codes_by_label_and_bad_codes(codes, package_code):
    crystal = orm.StructureData(ase=read_crystal('beta'))
    executables = {'reference': 'glassceramic-tblite', 'train': 'glassceramic-train', 'lammps': 'glassceramic-lmp'}
    unique = {key: package_code(name, label=f'{name}-{uuid.uuid4().hex[:8]}') for key, name in executables.items()}
    labels = {key: code.full_label for key, code in unique.items()}
    builder = GlassCeramicWorkChain.get_builder_from_protocol(labels, crystal, protocol='demo', overrides=TBLITE)
    assert builder.anneal.code.pk == unique['lammps'].pk
    assert builder.train.train.code.pk == unique['train'].pk
    assert builder.reference.code.pk == unique['reference'].pk
    pks = {key: code.pk for key, code in unique.items()}
    by_pk = GlassCeramicWorkChain.get_builder_from_protocol(pks, crystal, protocol='demo', overrides=TBLITE)
    assert by_pk.anneal.code.pk == pks['lammps']

    with pytest.raises(InputValidationError, match=re.escape('`codes.lammps`: no code `no-such-code@localhost`')):
        GlassCeramicWorkChain.get_builder_from_protocol(
            {**codes, 'lammps': 'no-such-code@localhost'}, crystal, protocol='demo', overrides=TBLITE
        )
    swapped = {**codes, 'lammps': codes['train']}
    with pytest.raises(InputValidationError, match=r'`codes\.lammps`: code .* runs `glassceramic\.train` calculations'):
        GlassCeramicWorkChain.get_builder_from_protocol(swapped, crystal, protocol='demo', overrides=TBLITE)
    with pytest.raises(InputValidationError, match=r'`code`: code .* runs `glassceramic\.train`'):
        ReferenceDataWorkChain.get_builder_from_protocol(codes['train'], protocol='demo')
