"""aiida-lammps' ``lammps.raw`` calculation runs a script through ``glassceramic-lmp`` as its code."""

from __future__ import annotations

import io

import pytest
from aiida import orm
from aiida.engine import run_get_node
from aiida.plugins import CalculationFactory

from aiida_glassceramic.potentials.io import load_potential
from aiida_glassceramic.structures import read_crystal

from .conftest import lammps_data_text, nnp_script


def test_lammps_raw_runs_the_driver(nnp_code, random_potential):
    code = nnp_code
    atoms = read_crystal('beta')
    script = nnp_script('structure.data', 'run 0\nprint "POTENTIAL_ENERGY $(pe:%.10f)"\n', potential='model.pt')
    builder = CalculationFactory('lammps.raw').get_builder()
    builder.code = code
    builder.script = orm.SinglefileData(io.StringIO(script), filename='input.in')
    builder.files = {
        'potential': orm.SinglefileData(random_potential, filename='model.pt'),
        'structure': orm.SinglefileData(io.StringIO(lammps_data_text(atoms)), filename='structure.data'),
    }
    builder.metadata.options = {'resources': {'num_machines': 1}, 'max_wallclock_seconds': 300}
    results, node = run_get_node(builder)

    assert node.is_finished_ok, node.exit_status
    assert results['results']['compute_variables']['errors'] == []
    output = node.outputs.retrieved.base.repository.get_object_content('lammps.out')
    assert 'Total wall time' in output
    energy = float(output.split('POTENTIAL_ENERGY ')[1].split()[0])
    expected, _, _ = load_potential(random_potential).compute(atoms.numbers, atoms.positions, atoms.cell.array)
    assert energy == pytest.approx(expected, abs=1e-8 * len(atoms))
