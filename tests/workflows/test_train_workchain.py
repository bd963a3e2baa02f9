"""The training work chain: protocols and the restart with a halved learning rate after a divergence."""

import pytest
from aiida.common.exceptions import InputValidationError
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.train import TrainCalculation, validate_parameters
from aiida_glassceramic.data import TrainingSetData
from aiida_glassceramic.workflows.train import TrainPotentialWorkChain
from tests.calculations.lj_training_set import SMALL_DESCRIPTOR, lj_training_set


@pytest.fixture
def training_set(aiida_profile):
    return TrainingSetData(lj_training_set(10, seed=7)).store()


def test_paper_protocol_is_the_study(train_code, training_set):
    """Section 2 of the method: 165-10-10-1 per element, 7 A, random 80/20 split, loss on energies and forces."""
    builder = TrainPotentialWorkChain.get_builder_from_protocol(train_code, [training_set], protocol='paper')
    parameters = builder.train.parameters.get_dict()
    validate_parameters(parameters)
    assert parameters['hidden'] == [10, 10]
    assert parameters['cutoff'] == 7.0
    assert parameters['test_fraction'] == 0.2
    assert parameters['energy_weight'] > 0
    assert parameters['force_weight'] > 0
    assert builder.train.training_sets['set_00'].uuid == training_set.uuid


def test_protocols_scale_down(train_code, training_set):
    assert set(TrainPotentialWorkChain.get_available_protocols()) == {'demo', 'demo_study', 'fast', 'paper'}
    built = {
        name: TrainPotentialWorkChain.get_builder_from_protocol(train_code, training_set, protocol=name)
        for name in ('demo', 'fast', 'paper')
    }
    epochs = [built[name].train.parameters['epochs'] for name in ('demo', 'fast', 'paper')]
    assert epochs == sorted(epochs)
    assert epochs[0] < epochs[2]
    for builder in built.values():
        validate_parameters(builder.train.parameters.get_dict())
    demo = built['demo'].train.parameters.get_dict()
    assert sum(demo['hidden']) < 20
    overridden = TrainPotentialWorkChain.get_builder_from_protocol(
        train_code,
        {'aimd': training_set},
        protocol='demo',
        overrides={'train': {'parameters': {'epochs': 3}, 'max_test_rmse': {'energy_meV_per_atom': 50.0}}},
    )
    assert overridden.train.parameters['epochs'] == 3
    assert overridden.train.parameters['cutoff'] == demo['cutoff']
    assert overridden.train.max_test_rmse['energy_meV_per_atom'] == 50.0
    with pytest.raises(InputValidationError, match='protocol `precise`'):
        TrainPotentialWorkChain.get_builder_from_protocol(train_code, training_set, protocol='precise')


def test_divergence_halves_the_learning_rate_once(train_code, training_set):
    """A learning rate so large that the loss overflows at once: one restart at half the rate, then a clear stop."""
    overrides = {
        'train': {
            'parameters': {'learning_rate': 1e200, 'epochs': 2, 'descriptor': SMALL_DESCRIPTOR},
            'metadata': {'options': {'max_wallclock_seconds': 300}},
        }
    }
    builder = TrainPotentialWorkChain.get_builder_from_protocol(
        train_code, training_set, protocol='demo', overrides=overrides
    )
    _, node = run_get_node(builder)
    assert node.exit_status == TrainPotentialWorkChain.exit_codes.ERROR_TRAINING_DIVERGED_AGAIN.status
    calculations = sorted(node.called, key=lambda child: child.ctime)
    assert len(calculations) == 2
    assert all(calc.exit_status == TrainCalculation.exit_codes.ERROR_TRAINING_DIVERGED.status for calc in calculations)
    assert 'diverged at epoch 1' in calculations[0].exit_message
    rates = [calc.inputs.parameters['learning_rate'] for calc in calculations]
    assert rates == [1e200, 5e199]
    assert calculations[1].inputs.training_sets__set_00.uuid == training_set.uuid
