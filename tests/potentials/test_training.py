"""A real training on energies and forces of ASE's EMT potential, the console script and its exit codes."""

import json
import subprocess
import sys

import numpy as np
import pytest

from aiida_glassceramic.descriptors import AngularFunction, RadialFunction, SymmetryFunctionParameters
from aiida_glassceramic.potentials.calculator import NNPCalculator
from aiida_glassceramic.potentials.io import load_potential
from aiida_glassceramic.potentials.training import train
from aiida_glassceramic.training_set import TrainingSet
from tests.potentials.emt_cells import emt_structures

DESCRIPTOR = SymmetryFunctionParameters(
    ('Al', 'Cu'),
    4.5,
    tuple(RadialFunction(eta) for eta in (0.05, 0.2, 0.5, 1.0, 2.0)),
    tuple(AngularFunction(0.05, zeta, lam) for zeta in (1.0, 4.0) for lam in (-1.0, 1.0)),
).to_dict()
PARAMETERS = {
    'descriptor': DESCRIPTOR,
    'hidden': [10, 10],
    'epochs': 90,
    'patience': 40,
    'learning_rate': 0.01,
    'batch_size': 4,
    'energy_weight': 10.0,
    'force_weight': 1.0,
    'seed': 1,
}


def _emt_data(count: int, seed: int) -> TrainingSet:
    return TrainingSet.from_atoms(emt_structures(count, seed))


@pytest.fixture(scope='module')
def trained():
    data = _emt_data(40, seed=0)
    model, metrics = train(data, PARAMETERS)
    return data, model, metrics


def test_training_reaches_the_stated_accuracy(trained):
    data, model, metrics = trained
    spread = 1000 * np.std(data.energies / data.natoms)  # meV/atom, what a constant guess would give
    force_scale = 1000 * np.sqrt(np.mean(data.forces**2))
    # 32 of 40 in the training part, of which 3 validate (early stopping); the test set is never seen
    assert (metrics['n_train'], metrics['n_validation'], metrics['n_test']) == (29, 3, 8)
    assert metrics['rmse_energy_validation'] < spread
    assert metrics['rmse_energy_test'] < 10.0 < spread
    assert metrics['rmse_forces_test'] < 0.25 * force_scale
    # an independent structure, through the ASE calculator, against EMT itself
    fresh = _emt_data(1, seed=99).structure(0)
    reference = fresh.get_forces()
    fresh.calc = NNPCalculator(model)
    assert np.sqrt(np.mean((fresh.get_forces() - reference) ** 2)) < 0.3 * force_scale / 1000


def test_console_script_writes_potential_metrics_and_plot(tmp_path):
    _emt_data(6, seed=5).save_npz(tmp_path / 'set.npz')
    parameters = {**PARAMETERS, 'epochs': 2}
    (tmp_path / 'parameters.json').write_text(json.dumps(parameters))
    command = [
        sys.executable,
        '-m',
        'aiida_glassceramic.potentials.train_cli',
        '--training-set',
        'set.npz',
        '--parameters',
        'parameters.json',
        '--output-dir',
        'out',
    ]
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
    metrics = json.loads((tmp_path / 'out' / 'metrics.json').read_text())
    assert metrics['n_train'] + metrics['n_validation'] + metrics['n_test'] == 6 and metrics['epochs'] == 2
    assert metrics['n_validation'] >= 1
    assert (tmp_path / 'out' / 'parity.png').read_bytes()[:4] == b'\x89PNG'
    model = load_potential(tmp_path / 'out' / 'potential.pt')
    assert model.elements == ('Al', 'Cu') and model.metrics['n_train'] == metrics['n_train']
    (tmp_path / 'parameters.json').write_text(json.dumps({**parameters, 'learning_rate': -1}))
    result = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False)
    assert result.returncode == 2 and 'learning_rate' in result.stderr
