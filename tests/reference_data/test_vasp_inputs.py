"""The VASP files written for the `paper` protocol carry every setting of the study."""

from __future__ import annotations

from pathlib import Path

import pytest
from aiida import orm
from aiida.engine import run_get_node
from aiida.plugins import CalculationFactory
from aiida_vasp.data.potcar import PotcarData

from aiida_glassceramic.engines import vasp
from aiida_glassceramic.structures import reference_cell
from aiida_glassceramic.workflows.reference_data import ReferenceDataWorkChain

PAPER_AIMD = {'ENCUT': 400.0, 'EDIFF': 1e-4, 'IBRION': 0, 'POTIM': 2.0, 'NSW': 50000, 'TEBEG': 1500.0, 'TEEND': 1500.0}
PAPER_STATIC = {'ENCUT': 600.0, 'EDIFF': 1e-7, 'IBRION': -1, 'NSW': 0}
PAPER_KPOINTS = {('aimd', 32): [2, 2, 1], ('aimd', 64): [1, 2, 1], ('static', 32): [4, 4, 2], ('static', 64): [2, 4, 2]}


def written_files(inputs: dict) -> Path:
    """Write the VaspCalculation input files (dry run) and return their folder."""
    structure = inputs['structure']
    calc_inputs = {
        'code': inputs['code'],
        'structure': structure,
        'parameters': orm.Dict(inputs['parameters']['incar']),
        'kpoints': inputs['kpoints'],
        'potential': PotcarData.get_potcars_from_structure(
            structure, inputs['potential_family'].value, mapping=inputs['potential_mapping'].get_dict()
        ),
        'metadata': {'options': inputs['calc']['metadata']['options'], 'dry_run': True, 'store_provenance': False},
    }
    if 'settings' in inputs:
        calc_inputs['settings'] = inputs['settings']
    _, node = run_get_node(CalculationFactory('vasp.vasp'), **calc_inputs)
    return Path(node.dry_run_info['folder'])


def read_incar(path: Path) -> dict:
    incar = {}
    for line in path.read_text().splitlines():
        key, _, value = line.partition('=')
        incar[key.strip().upper()] = value.strip()
    return incar


@pytest.mark.parametrize('stage', ['aimd', 'static'])
@pytest.mark.parametrize('natoms', [32, 64])
def test_paper_files(vasp_code, potcar_family, stage, natoms):
    settings = ReferenceDataWorkChain.get_protocol_inputs('paper')['vasp']
    settings['potential_family'] = potcar_family
    atoms = reference_cell('beta', natoms)
    structure = orm.StructureData(ase=atoms[atoms.numbers.argsort(kind='stable')])
    options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}
    if stage == 'aimd':
        inputs = vasp.aimd_inputs(vasp_code, structure, settings, natoms, (1500, 1500), 50000, options)
        expected = PAPER_AIMD
    else:
        inputs = vasp.static_inputs(vasp_code, structure, settings, natoms, options)
        expected = PAPER_STATIC
    folder = written_files(inputs)
    incar = read_incar(folder / 'INCAR')
    for key, value in expected.items():
        assert float(incar[key]) == pytest.approx(value), key
    assert incar['GGA'] == 'PE'  # PBE
    kpoints = (folder / 'KPOINTS').read_text().splitlines()
    assert [int(n) for n in kpoints[3].split()] == PAPER_KPOINTS[(stage, natoms)]
    titles = [line.split('=')[1].strip() for line in (folder / 'POTCAR').read_text().splitlines() if 'TITEL' in line]
    assert titles == ['PAW_PBE Li_sv 06Sep2000', 'PAW_PBE P 06Sep2000', 'PAW_PBE S 06Sep2000']
    if stage == 'aimd':
        assert inputs['settings']['parser_settings']['include_node'] == ['trajectory']
