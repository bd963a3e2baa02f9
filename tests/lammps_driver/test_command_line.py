"""The ``lmp`` command line and script handling of ``glassceramic-lmp``, and its errors, with real LAMMPS runs."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from aiida_glassceramic.potentials.lammps_coupling import CouplingError
from aiida_glassceramic.potentials.lammps_driver import Driver, DriverError, split_command_line, split_script

from .conftest import QUIET, fix_external, thermo_rows

EXECUTABLE = Path(sys.executable).with_name('glassceramic-lmp')
LMP = Path(sys.executable).with_name('lmp')


def run_executable(arguments, cwd: Path, stdin: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(EXECUTABLE), *arguments], cwd=cwd, input=stdin, capture_output=True, text=True, timeout=120, check=False
    )


def test_command_line_keeps_every_switch_but_the_input():
    argv = ['-echo', 'screen', '-i', 'in.md', '-var', 'T', '600', '-var', 'els', 'Li P S', '-screen', 'none', '-nc']
    assert split_command_line(argv) == (
        'in.md',
        ['-echo', 'screen', '-var', 'T', '600', '-var', 'els', 'Li P S', '-screen', 'none', '-nc'],
    )
    assert split_command_line(['-log', 'x.log']) == (None, ['-log', 'x.log'])
    with pytest.raises(DriverError, match='-in'):
        split_command_line(['-in'])


def test_script_is_cut_after_each_fix_external():
    script = (
        'units metal\n'
        '# fix commented all external pf/callback 1 1\n'
        'print """fix quoted all external\n'
        'fix inside all external pf/callback 1 1"""\n'
        'fix first all &\n'
        '    external pf/callback 1 1\n'
        'run 10\n'
        'fix ${id} all external pf/callback 1 1\n'
        'fix other all nve\n'
    )
    segments = split_script(script)
    assert [segment.fix_id for segment in segments] == ['first', '${id}', None]
    assert ''.join(segment.text for segment in segments) == script
    assert segments[0].text.endswith('    external pf/callback 1 1\n')
    assert segments[2].text == 'fix other all nve\n'
    assert split_script('units metal\nrun 0\n')[0].fix_id is None


def test_script_without_fix_external_runs_as_with_lmp(tmp_path, sheared_lj_data):
    script = tmp_path / 'in.lj'
    script.write_text(
        f'units metal\nread_data {sheared_lj_data}\npair_style lj/cut 7.0\npair_coeff * * 0.0104 3.4\n'
        'thermo_style custom step pe press pxy vol\nthermo_modify format float %.12g\n'
        'velocity all create ${T} 1234\nfix md all nvt temp ${T} ${T} 0.1\nthermo 10\n'
        'variable i loop 2\nlabel again\nrun 20\nnext i\njump SELF again\n'
    )
    for name, program in (('lmp', LMP), ('driver', EXECUTABLE)):
        done = subprocess.run(
            [str(program), '-in', script.name, '-var', 'T', '500', '-log', f'{name}.log', '-screen', 'none'],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert done.returncode == 0, done.stderr
    expected, got = thermo_rows(tmp_path / 'lmp.log'), thermo_rows(tmp_path / 'driver.log')
    assert len(expected) == 2 * 3 and expected[-1][0] == 40
    assert got == expected


def test_script_from_stdin_with_echo(tmp_path):
    done = run_executable(['-echo', 'screen', '-log', 'none'], tmp_path, stdin='variable x equal 6*7\nprint "x=${x}"\n')
    assert done.returncode == 0, done.stderr
    assert 'print "x=${x}"' in done.stdout and 'x=42' in done.stdout
    assert 'Total wall time' in done.stdout


@pytest.mark.parametrize(
    ('variables', 'message'),
    [
        ('variable nnp_elements string "Kr Ar"\n', 'variable `nnp_potential` is not defined'),
        ('variable nnp_potential string missing.pt\n', 'variable `nnp_elements` is not defined'),
        (
            'variable nnp_potential string missing.pt\nvariable nnp_elements string "Kr Ar"\n',
            'missing.pt`: no such file',
        ),
    ],
    ids=['no-potential-variable', 'no-elements-variable', 'no-model-file'],
)
def test_missing_set_up_is_a_clear_error(tmp_path, sheared_lj_data, variables, message):
    script = tmp_path / 'in.nnp'
    script.write_text(
        f'units metal\nread_data {sheared_lj_data}\n{variables}fix nnp all external pf/callback 1 1\nrun 0\n'
    )
    done = run_executable(['-in', script.name, '-log', 'none'], tmp_path)
    assert done.returncode == 2
    assert message in done.stderr
    error_lines = [line for line in done.stdout.splitlines() if line.startswith('ERROR: glassceramic-lmp:')]
    assert len(error_lines) == 1 and message in error_lines[0], 'aiida-lammps looks for ERROR in the screen output'


def test_missing_input_script_is_a_clear_error(tmp_path):
    done = run_executable(['-in', 'nowhere.in'], tmp_path)
    assert done.returncode == 2 and '-in `nowhere.in`: no such input script' in done.stderr


def test_fix_inside_an_if_gets_a_hint(tmp_path, sheared_lj_data):
    script = tmp_path / 'in.if'
    script.write_text(
        f'units metal\nread_data {sheared_lj_data}\nif "1 > 0" then "fix nnp all external pf/callback 1 1"\nrun 0\n'
    )
    done = run_executable(['-in', script.name, '-log', 'none'], tmp_path)
    assert done.returncode == 1
    assert 'callback function not set' in done.stderr and 'on its own line of the main input script' in done.stderr


@pytest.mark.parametrize(
    ('head', 'message'),
    [('units real\n', 'units `real`'), ('units metal\nboundary p p s\n', 'periodic box in x, y and z')],
    ids=['units', 'boundary'],
)
def test_unsupported_box_is_refused(lennard_jones, head, message):
    box = 'region box block 0 10 0 10 0 10\ncreate_box 2 box\ncreate_atoms 1 single 5 5 5\nmass * 40\n'
    script = head + box + fix_external()
    with Driver(QUIET, loader=lambda *_: lennard_jones) as driver, pytest.raises(CouplingError, match=message):
        driver.run_text(script)


@pytest.mark.parametrize(
    ('elements', 'message'),
    [
        ('Kr', '1 names for 2 atom types'),
        ('Kr Ar Ar', '3 names for 2 atom types'),
        ('Kr Xe', 'knows only Ar, Kr, not `Xe`'),
        ('Kr Qq', '`Qq` is not an element symbol'),
    ],
)
def test_element_list_must_match_types_and_potential(lennard_jones, sheared_lj_data, elements, message):
    script = f'units metal\natom_style atomic\nread_data {sheared_lj_data}\n' + fix_external().replace(
        '"Kr Ar"', f'"{elements}"'
    )
    with Driver(QUIET, loader=lambda *_: lennard_jones) as driver, pytest.raises(CouplingError, match=message):
        driver.run_text(script)


def test_error_inside_the_run_stops_with_a_message(tmp_path, sheared_lj_data):
    """An exception in the force call cannot cross LAMMPS' C++ frames: the process must stop, not go on silently."""
    script = tmp_path / 'in.fail'
    script.write_text(
        f'units metal\nread_data {sheared_lj_data}\n{fix_external()}fix md all nve\nrun 100\nprint "finished"\n'
    )
    program = (
        'import sys\n'
        'from aiida_glassceramic.potentials.lammps_driver import run\n'
        'class Failing:\n'
        '    elements = ("Ar", "Kr")\n'
        '    def compute(self, numbers, positions, cell):\n'
        '        raise ValueError("atoms 0 and 5 are 0.3 A apart, closer than the training data")\n'
        'sys.exit(run(["-in", "in.fail", "-log", "run.log"], loader=lambda *_: Failing()))\n'
    )
    done = subprocess.run(
        [sys.executable, '-c', program], cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 1
    assert 'closer than the training data' in done.stderr
    for output in (done.stdout, (tmp_path / 'run.log').read_text()):
        assert re.search(r'^ERROR.*glassceramic-lmp: the potential failed.*closer than the training', output, re.M)
        assert 'finished' not in output
