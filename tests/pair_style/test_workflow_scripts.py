"""The workflows' pair-style block: run by the glassceramic-lmp code (which loads the plugin) on 1 and 2 ranks,
alone and with the ZBL core overlaid."""

from __future__ import annotations

import os
import subprocess

import numpy as np
import pytest

from aiida_glassceramic.engines import lammps_scripts as scripts

from .conftest import ELEMENTS, assert_matches, reference
from .lammps_run import BIN, read_result, script, write_data
from .test_exactness import sheared_beta

NUMBERS = {1: 3, 2: 15, 3: 16}


def run_driver(folder, text: str, ranks: int) -> str:
    """``glassceramic-lmp`` as the workflows' code runs it, without LAMMPS_PLUGIN_PATH in the environment."""
    (folder / 'in.lmp').write_text(text)
    environment = {key: value for key, value in os.environ.items() if key != 'LAMMPS_PLUGIN_PATH'}
    environment['LD_LIBRARY_PATH'] = f'{BIN.parent / "lib"}:{environment.get("LD_LIBRARY_PATH", "")}'
    command = [str(BIN / 'glassceramic-lmp'), '-in', 'in.lmp', '-log', 'none']
    if ranks > 1:
        command = [str(BIN / 'mpiexec'), '-n', str(ranks), *command]
    done = subprocess.run(command, cwd=folder, env=environment, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr
    return done.stdout


def pair_block_script(path, core=None) -> str:
    lines = scripts.pair_style_block(ELEMENTS, str(path), core)
    text = script('structure.data', str(path), ' '.join(ELEMENTS))
    return text.replace(f'pair_style glassceramic\npair_coeff * * {path} Li P S\n', '\n'.join(lines) + '\n')


@pytest.mark.parametrize('ranks', [1, 2])
def test_driver_runs_the_pair_style(ranks, potential_files, tmp_path):
    model, path = potential_files['cos']
    write_data(sheared_beta(), tmp_path / 'structure.data', ELEMENTS)
    output = run_driver(tmp_path, pair_block_script(path), ranks)
    result = read_result(tmp_path, NUMBERS, output)
    assert_matches(result, reference(model, result.numbers, result.positions, result.cell))


def test_core_repulsion_overlay(potential_files, tmp_path):
    """hybrid/overlay glassceramic + zbl: the network's energy and forces plus those of pair_style zbl alone."""
    model, path = potential_files['cos']
    atoms = sheared_beta()
    atoms.positions[1] = atoms.positions[0] + [1.2, 0.0, 0.0]  # inside the core
    write_data(atoms, tmp_path / 'structure.data', ELEMENTS)
    core = (1.0, 1.6)
    result = read_result(tmp_path, NUMBERS, run_driver(tmp_path, pair_block_script(path, core), 1))
    zbl = ['pair_style zbl 1 1.6', *scripts.zbl_lines(ELEMENTS, core)]
    text = script('structure.data', str(path), ' '.join(ELEMENTS))
    text = text.replace(f'pair_style glassceramic\npair_coeff * * {path} Li P S\n', '\n'.join(zbl) + '\n')
    (tmp_path / 'zbl').mkdir()
    alone = read_result(
        tmp_path / 'zbl', NUMBERS, run_driver(tmp_path / 'zbl', text.replace('structure.data', '../structure.data'), 1)
    )
    expected = reference(model, result.numbers, result.positions, result.cell)
    assert alone.energy > 1.0  # the core acts
    expected = {key: expected[key] + getattr(alone, key) for key in ('energy', 'forces', 'virial', 'atom_energies')}
    assert_matches(result, expected)
    assert np.abs(alone.forces).max() > 1.0
