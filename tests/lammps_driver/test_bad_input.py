"""Bad input of ``glassceramic-lmp``: refused with one line naming the variable or command and the fix, a non-zero
exit code and never a traceback; the input errors LAMMPS would run with (a swapped element order, a time step of 0)
included."""

from __future__ import annotations

import re

import ase.build
import pytest

from aiida_glassceramic.potentials.lammps_coupling import CouplingError
from aiida_glassceramic.potentials.lammps_driver import Driver

from .conftest import QUIET, fix_external, lammps_data_text, nnp_script
from .test_command_line import run_executable

RUN = 'fix md all nve\nrun 2\n'


@pytest.fixture
def lips_data(tmp_path):
    """A small periodic Li-P-S cell (types Li, P, S with their masses) as data file ``lips.data``."""
    atoms = ase.build.bulk('Li', 'bcc', a=3.5, cubic=True).repeat(2)
    atoms.numbers[[1, 5]] = [15, 16]
    (tmp_path / 'lips.data').write_text(lammps_data_text(atoms))
    return tmp_path


def refused(folder, script: str, *parts: str, code: int = 2, arguments=()) -> str:
    """Run ``script`` with the driver; check the exit code, one ERROR line with ``parts`` and no traceback."""
    (folder / 'in.test').write_text(script)
    done = run_executable(['-in', 'in.test', '-log', 'none', '-screen', 'none', *arguments], folder)
    assert done.returncode == code, done.stderr
    assert 'Traceback' not in done.stderr
    errors = re.findall(r'^ERROR.*$', done.stderr, re.M)
    assert errors, done.stderr
    for part in parts:
        assert part in errors[-1], errors
    return errors[-1]


def test_elements_in_an_order_against_the_masses(lennard_jones, sheared_lj_data):
    """Types 1, 2 carry the masses of Kr, Ar; calling them Ar, Kr is the classic swapped-order mistake."""
    script = f'units metal\natom_style atomic\nread_data {sheared_lj_data}\n' + fix_external().replace(
        '"Kr Ar"', '"Ar Kr"'
    )
    with Driver(QUIET, loader=lambda *_: lennard_jones) as driver, pytest.raises(CouplingError) as caught:
        driver.run_text(script + 'run 0\n')
    assert 'atom type 1 has mass 83.798 but is mapped to Ar' in str(caught.value)
    assert 'variable nnp_elements string "Kr Ar"' in str(caught.value)


def test_elements_against_the_masses_through_the_executable(lips_data, random_potential):
    script = nnp_script('lips.data', RUN, elements=('Li', 'S', 'P'), potential=random_potential)
    refused(lips_data, script, 'nnp_elements `Li S P`: atom type 2', 'string "Li P S"')


@pytest.mark.parametrize('timestep', ['0', '-0.001', '0.0'])
def test_time_step_that_is_not_positive(lips_data, random_potential, timestep):
    script = nnp_script('lips.data', f'timestep {timestep}\n{RUN}', potential=random_potential)
    refused(lips_data, script, f'timestep `{float(timestep):g}`', 'give a positive time step')


def test_time_step_of_zero_through_a_variable_stops_the_run(lips_data, random_potential):
    script = nnp_script('lips.data', f'variable dt equal 0.0\ntimestep ${{dt}}\n{RUN}', potential=random_potential)
    refused(lips_data, script, 'timestep `0`', code=1)


def test_box_that_is_not_periodic(lips_data, random_potential):
    script = nnp_script('lips.data', RUN, potential=random_potential).replace(
        'units metal\n', 'units metal\nboundary p p f\n'
    )
    refused(lips_data, script, 'boundary: the potential needs a periodic box')


def test_nan_positions_in_the_data_file(lips_data, random_potential):
    text = (lips_data / 'lips.data').read_text().splitlines()
    atoms = text.index(next(line for line in text if line.startswith('Atoms'))) + 2
    words = text[atoms].split()
    text[atoms] = ' '.join([*words[:2], 'nan', *words[3:]])
    (lips_data / 'lips.data').write_text('\n'.join(text) + '\n')
    refused(lips_data, nnp_script('lips.data', RUN, potential=random_potential), "'nan'", code=1)


@pytest.mark.parametrize(
    ('variable', 'value', 'message'),
    [
        ('nnp_dtype', 'float16', 'nnp_dtype `float16`: give one of float32, float64'),
        ('nnp_device', 'gpu', 'nnp_device `gpu`: give cpu, cuda or cuda:N'),
        ('nnp_skin', 'abc', 'nnp_skin `abc`: give a distance >= 0'),
    ],
)
def test_variables_of_the_wrong_kind(lips_data, random_potential, variable, value, message):
    script = nnp_script('lips.data', RUN, potential=random_potential)
    refused(lips_data, script, message, arguments=('-var', variable, value))


def test_steps_that_are_not_a_number(lips_data, random_potential):
    script = nnp_script('lips.data', 'fix md all nve\nrun abc\n', potential=random_potential)
    refused(lips_data, script, "Expected integer parameter instead of 'abc'", code=1)


def test_switch_that_lammps_does_not_know(lips_data):
    refused(lips_data, 'units metal\n', '-no-such-switch', arguments=('-no-such-switch',))
