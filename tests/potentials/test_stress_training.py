"""Training on stresses: the virial term of the loss, its RMSE, and data without stresses refused by name."""

import dataclasses

import numpy as np
import pytest
from ase import units
from ase.calculators.emt import EMT

from aiida_glassceramic.potentials.calculator import NNPCalculator
from aiida_glassceramic.potentials.training import split_test, train
from aiida_glassceramic.potentials.training_parameters import TrainingParameterError, TrainingParameters
from aiida_glassceramic.training_set import TrainingSet
from tests.potentials.emt_cells import emt_structures
from tests.potentials.test_training import PARAMETERS

WITH_STRESS = {**PARAMETERS, 'epochs': 60, 'stress_weight': 10.0}


def _strained(count: int, seed: int, strain: float) -> list:
    """EMT cells expanded or compressed isotropically by ``strain`` (the equation of state away from the data)."""
    images = emt_structures(count, seed)
    for atoms in images:
        atoms.set_cell(atoms.cell.array * (1.0 + strain), scale_atoms=True)
        atoms.calc = EMT()
    return images


@pytest.fixture(scope='module')
def data() -> TrainingSet:
    return TrainingSet.from_atoms([*emt_structures(30, seed=0), *_strained(15, 1, -0.03), *_strained(15, 2, 0.03)])


@pytest.fixture(scope='module')
def trained(data):
    return {weight: train(data, {**WITH_STRESS, 'stress_weight': weight}) for weight in (0.0, 10.0)}


def _stress_rmse(model, images) -> float:
    """RMSE (GPa) of the potential's stress through its ASE calculator against EMT's."""
    errors = []
    for atoms in images:
        predicted = atoms.copy()
        predicted.calc = NNPCalculator(model)
        errors.append(predicted.get_stress() - atoms.get_stress())
    return float(np.sqrt(np.mean(np.square(errors)))) / units.GPa


def test_reported_stress_rmse_equals_the_calculators(data, trained):
    model, metrics = trained[10.0]
    _, test_set = split_test(data, TrainingParameters.from_dict(WITH_STRESS))
    images = [test_set.structure(index) for index in range(len(test_set))]
    assert metrics['n_test'] == len(images) == 12
    assert metrics['rmse_stress_test'] == pytest.approx(_stress_rmse(model, images), rel=1e-9)


def test_stress_term_fits_the_equation_of_state(trained):
    fresh = [*_strained(6, 7, -0.04), *_strained(6, 8, 0.04)]
    without, with_stress = (_stress_rmse(trained[weight][0], fresh) for weight in (0.0, 10.0))
    pressures = [np.mean(atoms.get_stress()[:3]) / units.GPa for atoms in fresh]
    assert np.ptp(pressures) > 5.0  # GPa: the strains span a real part of the equation of state
    assert with_stress < 0.7 * without, (with_stress, without)
    # energies and forces are still fitted
    assert trained[10.0][1]['rmse_energy_test'] < 2.0 * trained[0.0][1]['rmse_energy_test'] + 5.0


def test_stress_weight_without_stresses_is_refused(data):
    unlabelled = dataclasses.replace(data, stresses=None)
    with pytest.raises(TrainingParameterError, match=r'`stress_weight` is 10\.0 but some training structures carry'):
        train(unlabelled, WITH_STRESS)
    _, metrics = train(unlabelled, {**WITH_STRESS, 'stress_weight': 0.0, 'epochs': 1})
    assert 'rmse_stress_test' not in metrics
