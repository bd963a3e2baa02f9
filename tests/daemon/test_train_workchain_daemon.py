"""The training work chain submitted to the daemon and carried through a daemon stop and restart.

The case: a learning rate so large that the loss overflows in the first epoch. The work chain must run its
calculation, halve the learning rate once, run again, and stop with exit code 410: exactly two calculations, whatever
moment the daemon was stopped at.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.daemon.helpers import daemon_down, wait_for

DIVERGING_RATE = 1e200


@pytest.fixture
def train_code(aiida_code_installed):
    executable = shutil.which('glassceramic-train') or str(Path(sys.executable).parent / 'glassceramic-train')
    return aiida_code_installed(filepath_executable=executable, default_calc_job_plugin='glassceramic.train')


@pytest.fixture
def diverging_training(aiida_profile, train_code):
    from aiida_glassceramic.data import TrainingSetData
    from aiida_glassceramic.workflows.train import TrainPotentialWorkChain
    from tests.calculations.lj_training_set import SMALL_DESCRIPTOR, lj_training_set

    training_set = TrainingSetData(lj_training_set(10, seed=7)).store()
    overrides = {
        'train': {
            'parameters': {'learning_rate': DIVERGING_RATE, 'epochs': 2, 'descriptor': SMALL_DESCRIPTOR},
            'metadata': {'options': {'max_wallclock_seconds': 300, 'environment_variables': {'OMP_NUM_THREADS': '1'}}},
        }
    }
    return TrainPotentialWorkChain.get_builder_from_protocol(
        train_code, training_set, protocol='demo', overrides=overrides
    )


def assert_halved_once(node) -> None:
    """Exit 410 after exactly two diverged calculations, the second at half the learning rate of the first."""
    from aiida_glassceramic.calculations.train import TrainCalculation
    from aiida_glassceramic.workflows.train import TrainPotentialWorkChain

    diverged_again = TrainPotentialWorkChain.exit_codes.ERROR_TRAINING_DIVERGED_AGAIN.status
    diverged = TrainCalculation.exit_codes.ERROR_TRAINING_DIVERGED.status
    assert node.exit_status == diverged_again, node.exit_message
    calculations = sorted(node.called, key=lambda child: child.ctime)
    assert [calc.exit_status for calc in calculations] == [diverged, diverged]
    assert [calc.inputs.parameters['learning_rate'] for calc in calculations] == [DIVERGING_RATE, DIVERGING_RATE / 2]


@pytest.mark.timeout(300)
def test_training_work_chain_survives_a_daemon_restart(diverging_training, started_daemon_client, submit_and_await):
    """The daemon is stopped while the first calculation is under way and started again; the work chain resumes
    from its checkpoint and no calculation is run twice."""
    from aiida.engine import submit

    node = submit(diverging_training)
    wait_for(lambda: len(node.called) > 0, 120, f'WorkChain<{node.pk}> launched no calculation')
    with daemon_down(started_daemon_client):
        assert not node.is_terminated
    node = submit_and_await(node, timeout=240)
    assert_halved_once(node)
