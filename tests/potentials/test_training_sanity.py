"""Sanity checks of training data against a Lennard-Jones set built here (ASE's calculator): clean it passes without a
word; given per atom, in meV/A or with atoms on top of each other it is flagged, and ``strict`` refuses it. Also the
bad input of ``glassceramic-train``: one line on stderr naming the file or key, exit code 2, nothing written."""

from __future__ import annotations

import dataclasses
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from ase.build import bulk
from ase.calculators.lj import LennardJones

from aiida_glassceramic.potentials.data_checks import TrainingDataError, check_training_data
from aiida_glassceramic.potentials.training import train
from aiida_glassceramic.training_set import TrainingSet

FAST = {'hidden': [4], 'epochs': 1, 'cutoff': 5.0}


@pytest.fixture(scope='module')
def clean() -> TrainingSet:
    """Ar/Kr fcc cells of 32, 48 and 72 atoms, rattled; each followed by a copy displaced by ~0.01 A."""
    rng = np.random.default_rng(0)
    images = []
    for repeat in [(2, 2, 2), (3, 2, 2), (3, 3, 2)] * 2:
        atoms = bulk('Ar', 'fcc', a=5.3, cubic=True).repeat(repeat)
        atoms.numbers[rng.choice(len(atoms), len(atoms) // 4, replace=False)] = 36
        atoms.rattle(0.1, seed=int(rng.integers(1000)))
        for displaced in (False, True):
            image = atoms.copy()
            if displaced:
                image.positions += rng.normal(0.0, 0.01, image.positions.shape)
            image.calc = LennardJones(sigma=3.4, epsilon=0.0104, rc=8.0, smooth=True)
            images.append(image)
    return TrainingSet.from_atoms(images)


def moved(data: TrainingSet, atom: int, onto: int, distance: float) -> TrainingSet:
    """``data`` with ``atom`` put ``distance`` A from atom ``onto`` (both in the first structure)."""
    positions = data.positions.copy()
    positions[atom] = positions[onto] + [distance, 0.0, 0.0]
    return dataclasses.replace(data, positions=positions)


def test_clean_data_pass_without_warnings(clean):
    assert check_training_data(clean) == []


def test_energies_per_atom_are_flagged(clean):
    warnings = check_training_data(dataclasses.replace(clean, energies=clean.energies / clean.natoms))
    assert any(line.startswith('energies: ') and 'give the total energy of each structure' in line for line in warnings)
    # and the energy changes of the displaced copies are ~1/N of the work of the forces
    assert any(line.startswith('forces: ') for line in warnings)


def test_forces_in_mev_per_angstrom_are_flagged(clean):
    (warning,) = check_training_data(dataclasses.replace(clean, forces=1000.0 * clean.forces))
    assert warning.startswith('forces: ') and '(not meV/A)' in warning
    factor = float(warning.split('forces look ')[1].split(' times')[0])
    assert factor == pytest.approx(1000.0, rel=0.05)


def test_forces_with_the_sign_of_the_gradient_are_flagged(clean):
    (warning,) = check_training_data(dataclasses.replace(clean, forces=-clean.forces))
    assert 'energy gradients' in warning


def test_energies_of_two_methods_are_flagged(clean):
    """Half of the structures 30 eV/atom lower, as with another method's reference energies."""
    shifted = clean.energies - 30.0 * clean.natoms * (np.arange(len(clean)) % 2)
    warnings = check_training_data(dataclasses.replace(clean, energies=shifted))
    assert any('scatter by' in line and 'one method' in line for line in warnings)


def test_atoms_on_top_of_each_other_are_flagged(clean):
    (warning,) = check_training_data(moved(clean, 1, 0, 0.3))
    assert warning.startswith('positions: 1 structure(s) (0) have atoms closer than 0.5 A')
    assert 'shortest 0.3 A' in warning


def test_a_pair_far_closer_than_elsewhere_is_flagged(clean):
    nearest = min(np.linalg.norm(clean.positions[1:32] - clean.positions[0], axis=1))
    (warning,) = check_training_data(moved(clean, 1, 0, 1.6))
    assert 'far closer than in the other structures' in warning and '1.6 A in structure 0' in warning
    assert nearest > 3.0  # the rattled fcc cell has no pair that close


def test_training_records_the_warnings(clean):
    _, metrics = train(clean, FAST)
    assert metrics['warnings'] == []
    lines = []
    _, metrics = train(dataclasses.replace(clean, forces=1000.0 * clean.forces), FAST, log=lines.append)
    assert len(metrics['warnings']) == 1 and f'warning: {metrics["warnings"][0]}' in lines


def test_strict_training_refuses(clean):
    with pytest.raises(TrainingDataError, match=r'refused \(strict\): forces: .*set `strict` to false'):
        train(dataclasses.replace(clean, forces=1000.0 * clean.forces), {**FAST, 'strict': True})


def run_script(folder: Path, parameters: dict | str | None, data: TrainingSet | None = None):
    """``glassceramic-train`` on ``data`` (saved as set.npz) and ``parameters`` (a dict as JSON, a string as it is)."""
    if data is not None:
        data.save_npz(folder / 'set.npz')
    command = [sys.executable, '-m', 'aiida_glassceramic.potentials.train_cli', '--training-set', 'set.npz']
    if parameters is not None:
        text = parameters if isinstance(parameters, str) else json.dumps(parameters)
        (folder / 'parameters.json').write_text(text)
        command += ['--parameters', 'parameters.json']
    return subprocess.run(
        [*command, '--output-dir', 'out'], cwd=folder, capture_output=True, text=True, check=False, timeout=300
    )


def assert_refused(result: subprocess.CompletedProcess, folder: Path, *parts: str) -> None:
    assert result.returncode == 2, result.stderr
    (line,) = result.stderr.strip().splitlines()
    assert line.startswith('glassceramic-train: bad input: ')
    for part in parts:
        assert part in line
    assert not (folder / 'out').exists()


@pytest.mark.parametrize(
    ('parameters', 'parts'),
    [
        ({'epochs': 'abc'}, ("`epochs` is 'abc'", 'give a positive integer')),
        ({'learning_rate': '0.01'}, ("`learning_rate` is '0.01'", 'give a positive number')),
        ({'batch_size': 0}, ('`batch_size` is 0',)),
        ({'strict': 1}, ('`strict` is 1', 'true or false')),
        ({'learning_rate_schedule': 'linear'}, ("`learning_rate_schedule` is 'linear'", "['constant', 'cosine']")),
        ({'epoch': 3}, ('unknown key `epoch`',)),
        ('[1, 2]', ('--parameters `parameters.json`: must hold a JSON object',)),
        ('{"epochs": ', ('--parameters `parameters.json`: not valid JSON',)),
    ],
)
def test_script_refuses_bad_parameters(tmp_path, clean, parameters, parts):
    assert_refused(run_script(tmp_path, parameters, clean.subset(range(4))), tmp_path, *parts)


def test_script_refuses_bad_training_sets(tmp_path, clean):
    assert_refused(run_script(tmp_path, FAST), tmp_path, '--training-set `set.npz`')
    assert_refused(run_script(tmp_path, FAST, clean.subset([])), tmp_path, 'holds no structure')
    (tmp_path / 'set.npz').write_text('not an archive')
    assert_refused(run_script(tmp_path, FAST), tmp_path, '--training-set `set.npz`: not a training set')
    arrays = clean.subset(range(4)).arrays()
    arrays['positions'][3, 1] = np.nan
    np.savez(tmp_path / 'set.npz', **arrays)
    assert_refused(run_script(tmp_path, FAST), tmp_path, '`positions`: contains NaN')


def test_script_refuses_data_that_fail_the_checks_when_strict(tmp_path, clean):
    corrupted = dataclasses.replace(clean, forces=1000.0 * clean.forces)
    assert_refused(run_script(tmp_path, {**FAST, 'strict': True}, corrupted), tmp_path, 'forces look', 'meV/A')
    result = run_script(tmp_path, FAST, corrupted)
    assert result.returncode == 0, result.stderr
    (warning,) = json.loads((tmp_path / 'out' / 'metrics.json').read_text())['warnings']
    assert warning.startswith('forces: ') and f'warning: {warning}' in result.stdout
