"""The training work chain submitted to the daemon, with the daemon stopped after its handler acted, while the second
calculation runs: what the handler decided must survive in the work chain's checkpoint.

Two real trainings:
- one that diverges once (its loss overflows) and trains at half the learning rate: the rate is found here, by
  bisection on the same data, as 1.5 times the smallest rate that diverges;
- one that diverges at any rate the handler can reach (1e200): exactly two calculations, then exit 410.

The stop is triggered by an event (the second job reaching its gate), never by a time budget: each job waits at a
gate (a file this test creates) before it trains, so the second job is still running while the daemon is down. The
work chain is then at rest, waiting for that job; a stop while it submits a job would test the broker, not the
handler.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from tests.calculations.lj_training_set import SMALL_DESCRIPTOR, lj_training_set
from tests.daemon.helpers import daemon_down, wait_for

TRAINING = {'hidden': [8, 8], 'cutoff': 5.0, 'batch_size': 8, 'epochs': 2, 'descriptor': SMALL_DESCRIPTOR}
ALWAYS_DIVERGING_RATE = 1e200


def parameters(learning_rate: float) -> dict:
    """The demo protocol's training parameters with the test's overrides."""
    from aiida_glassceramic.workflows.train import TrainPotentialWorkChain

    overrides = {'train': {'parameters': {**TRAINING, 'learning_rate': learning_rate}}}
    return TrainPotentialWorkChain.get_protocol_inputs('demo', overrides)['train']['parameters']


def diverges(learning_rate: float) -> bool:
    """Whether the training of the test's data diverges at ``learning_rate`` (the run the calculation makes)."""
    from aiida_glassceramic.potentials.training import TrainingDivergedError, train

    try:
        train(lj_training_set(10, seed=7), parameters(learning_rate))
    except TrainingDivergedError:
        return True
    return False


def rate_that_diverges_once() -> float:
    """1.5 times the divergence threshold: diverges, while half of it trains (both checked)."""
    low, high = 0.0, 200.0  # log10 of the rate; 1e0 trains, 1e200 diverges
    assert not diverges(1.0) and diverges(10.0**high)
    while high - low > 0.02:
        middle = 0.5 * (low + high)
        low, high = (low, middle) if diverges(10.0**middle) else (middle, high)
    rate = 1.5 * 10.0**high
    assert diverges(rate) and not diverges(rate / 2), 'no rate that diverges once on this data'
    return rate


@pytest.fixture
def train_code(aiida_code_installed):
    executable = shutil.which('glassceramic-train') or str(Path(sys.executable).parent / 'glassceramic-train')
    return aiida_code_installed(filepath_executable=executable, default_calc_job_plugin='glassceramic.train')


@pytest.fixture
def gated_training(aiida_profile, train_code, tmp_path):
    """Factory: a training work chain at ``learning_rate`` whose n-th job waits for ``gates/release-<n>``."""
    from aiida_glassceramic.data import TrainingSetData
    from aiida_glassceramic.workflows.train import TrainPotentialWorkChain

    gates = tmp_path / 'gates'
    gates.mkdir()
    (gates / 'release-0').touch()
    gate = (
        f'n=$(ls {gates} | grep -c started); touch {gates}/started-$n\n'
        f'until [ -e {gates}/release-$n ]; do sleep 0.1; done'
    )
    training_set = TrainingSetData(lj_training_set(10, seed=7)).store()

    def factory(learning_rate: float):
        overrides = {
            'train': {
                'parameters': {**TRAINING, 'learning_rate': learning_rate},
                'metadata': {
                    'options': {
                        'max_wallclock_seconds': 300,
                        'environment_variables': {'OMP_NUM_THREADS': '1'},
                        'prepend_text': gate,
                    }
                },
            }
        }
        builder = TrainPotentialWorkChain.get_builder_from_protocol(
            train_code, training_set, protocol='demo', overrides=overrides
        )
        return builder, gates

    return factory


def progress(node) -> str:
    """The work chain's report and its children's states, for a test that times out."""
    from aiida import orm

    children = [f'{child.process_label}<{child.pk}>: {child.process_state}' for child in calculations(node)]
    logs = [log.message for log in orm.Log.collection.get_logs_for(node)]
    return '\n'.join([f'state: {node.process_state}', *children, *logs])


def run_with_daemon_stop(builder, gates: Path, daemon_client, submit_and_await):
    """Submit; once the handler has acted, stop the daemon while the second job waits at its gate."""
    from aiida.engine import submit

    node = submit(builder)
    wait_for((gates / 'started-1').exists, 240, f'WorkChain<{node.pk}>: no second job started', lambda: progress(node))
    with daemon_down(daemon_client):
        second = calculations(node)[-1]
        assert not second.is_terminated, 'the second calculation ended before the daemon stopped'
    (gates / 'release-1').touch()
    (gates / 'release-2').touch()  # a third job, if a broken handler launched one, runs too
    return submit_and_await(node, timeout=240)


def calculations(node) -> list:
    return sorted(node.called, key=lambda child: child.ctime)


@pytest.mark.timeout(400)
def test_divergence_then_training_at_half_the_rate(gated_training, started_daemon_client, submit_and_await):
    from aiida_glassceramic.calculations.train import TrainCalculation

    rate = rate_that_diverges_once()
    node = run_with_daemon_stop(*gated_training(rate), started_daemon_client, submit_and_await)
    assert node.is_finished_ok, node.exit_message
    first, second = calculations(node)
    assert first.exit_status == TrainCalculation.exit_codes.ERROR_TRAINING_DIVERGED.status
    assert second.is_finished_ok
    rates = [first.inputs.parameters['learning_rate'], second.inputs.parameters['learning_rate']]
    assert rates == pytest.approx([rate, rate / 2], rel=1e-12)
    assert node.outputs.potential.uuid == second.outputs.potential.uuid


@pytest.mark.timeout(400)
def test_second_divergence_ends_with_410(gated_training, started_daemon_client, submit_and_await):
    """The handler's 'already halved' must come back from the checkpoint: exactly two calculations, then 410."""
    from aiida_glassceramic.calculations.train import TrainCalculation
    from aiida_glassceramic.workflows.train import TrainPotentialWorkChain

    node = run_with_daemon_stop(*gated_training(ALWAYS_DIVERGING_RATE), started_daemon_client, submit_and_await)
    assert node.exit_status == TrainPotentialWorkChain.exit_codes.ERROR_TRAINING_DIVERGED_AGAIN.status, (
        node.exit_message
    )
    diverged = TrainCalculation.exit_codes.ERROR_TRAINING_DIVERGED.status
    assert [calc.exit_status for calc in calculations(node)] == [diverged, diverged]
    rates = [calc.inputs.parameters['learning_rate'] for calc in calculations(node)]
    assert rates == [ALWAYS_DIVERGING_RATE, ALWAYS_DIVERGING_RATE / 2]
