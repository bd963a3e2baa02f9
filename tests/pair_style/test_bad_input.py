"""Bad input to pair_style glassceramic: a LAMMPS error that names the problem, never a crash or silent nonsense."""

from __future__ import annotations

import os
import subprocess

import pytest

from aiida_glassceramic.engines import lammps_scripts as scripts
from aiida_glassceramic.potentials.io import save_potential

from .conftest import ELEMENTS
from .lammps_run import BIN, run_lmp, script, write_data
from .test_exactness import sheared_beta


def lammps_error(folder, potential, elements: str = 'Li P S', setup: str = '', body: str = 'run 0') -> str:
    """The ERROR line of a LAMMPS run that must fail."""
    folder.mkdir(exist_ok=True)
    write_data(sheared_beta(), folder / 'structure.data', ELEMENTS)
    completed = run_lmp(folder, script('structure.data', str(potential), elements, body=body, setup=setup))
    assert completed.returncode != 0
    errors = [line for line in completed.stdout.splitlines() if line.startswith('ERROR')]
    assert errors, completed.stdout[-2000:] + completed.stderr
    return errors[0]


@pytest.fixture
def good_file(potential_files):
    return potential_files['cos'][1]


def test_truncated_file(good_file, tmp_path):
    damaged = tmp_path / 'damaged.glassceramic'
    damaged.write_text(''.join(good_file.read_text().splitlines(keepends=True)[:40]))
    assert 'ends early (truncated?)' in lammps_error(tmp_path, damaged)


def test_damaged_number(good_file, tmp_path):
    damaged = tmp_path / 'damaged.glassceramic'
    damaged.write_text(good_file.read_text().replace('shift ', 'shift 1.0.0', 1))
    assert 'is not a finite number' in lammps_error(tmp_path, damaged)


def test_other_version(good_file, tmp_path):
    other = tmp_path / 'other.glassceramic'
    other.write_text(good_file.read_text().replace('glassceramic_potential 2', 'glassceramic_potential 3'))
    assert 'format version 3; this pair style reads versions 1 to 2' in lammps_error(tmp_path, other)


def test_not_a_potential_file(tmp_path):
    other = tmp_path / 'other.txt'
    other.write_text('pair_style lj/cut 3.0\n')
    assert "expected 'glassceramic_potential'" in lammps_error(tmp_path, other)


def test_missing_file(tmp_path):
    assert 'cannot open potential file' in lammps_error(tmp_path, tmp_path / 'missing.glassceramic')


def test_elements_in_wrong_order(good_file, tmp_path):
    message = lammps_error(tmp_path, good_file, elements='Li S P')
    assert 'atom type 2 has mass' in message and 'maps it to S' in message


def test_unknown_element(good_file, tmp_path):
    assert 'element Na of atom type 1 is not in potential file' in lammps_error(tmp_path, good_file, 'Na P S')


def test_non_periodic_box(good_file, tmp_path):
    assert 'requires a periodic box' in lammps_error(tmp_path, good_file, body='change_box all boundary p p f\nrun 0')


def test_units_real(good_file, tmp_path):
    assert 'requires units metal' in lammps_error(tmp_path, good_file, setup='units real\n')


def test_newton_off(good_file, tmp_path):
    assert 'requires newton pair on' in lammps_error(tmp_path, good_file, setup='newton off\n')


def test_fix_external_driver_warns_on_swapped_p_and_s(potential_files, tmp_path):
    """The fallback driver checks masses as the pair style does (P and S differ by only 3.5 %)."""
    model, _ = potential_files['cos']
    torch_file = save_potential(model, tmp_path / 'potential.pt')
    write_data(sheared_beta(), tmp_path / 'structure.data', ELEMENTS)
    commands = scripts.nnp_block(('Li', 'S', 'P'), model.cutoff, str(torch_file))
    text = 'units metal\natom_style atomic\nboundary p p p\nread_data structure.data\n' + '\n'.join(commands)
    (tmp_path / 'in.lmp').write_text(text + '\nrun 0\n')
    environment = dict(os.environ, LD_LIBRARY_PATH=f'{BIN.parent / "lib"}:{os.environ.get("LD_LIBRARY_PATH", "")}')
    done = subprocess.run(
        [str(BIN / 'glassceramic-lmp'), '-in', 'in.lmp', '-log', 'none'],
        cwd=tmp_path,
        env=environment,
        capture_output=True,
        text=True,
        check=False,
    )
    assert 'atom type 2 has mass 30.9738 but is mapped to S' in done.stderr
