"""The training CalcJob (``glassceramic.train``) through the daemon, sbatch and SSH, on a tiny Lennard-Jones set.

References: the hyper-parameters given (elements, cut-off, size of the test split) and SLURM's own record of the job.
"""

from __future__ import annotations

import math

import pytest

from tests.calculations.lj_training_set import SMALL_DESCRIPTOR, lj_training_set
from tests.remote.conftest import assert_ran_under_slurm

STRUCTURES = 10
TEST_FRACTION = 0.2  # 2 of the 10 structures held out
PARAMETERS = {
    'descriptor': SMALL_DESCRIPTOR,
    'hidden': [4, 4],
    'learning_rate': 0.02,
    'batch_size': 4,
    'epochs': 3,
    'test_fraction': TEST_FRACTION,
    'validation_fraction': 0.1,
    'seed': 5,
}


@pytest.mark.timeout(240)
def test_training_runs_through_slurm(local_cluster, train_on_slurm, submit_and_await):
    """A few epochs on 10 cells: the potential comes back over SFTP, with a finite test RMSE on the held-out 2."""
    from aiida import orm
    from aiida.plugins import CalculationFactory

    from aiida_glassceramic.data import NNPotentialData, TrainingSetData

    builder = CalculationFactory('glassceramic.train').get_builder()
    builder.code = train_on_slurm
    builder.training_sets = {'lj': TrainingSetData(lj_training_set(STRUCTURES, seed=4))}
    builder.parameters = orm.Dict(PARAMETERS)
    builder.metadata.options.max_wallclock_seconds = 600
    node = submit_and_await(builder, timeout=200)

    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    assert_ran_under_slurm(node, local_cluster)
    potential = node.outputs.potential
    assert isinstance(potential, NNPotentialData)
    assert potential.elements == SMALL_DESCRIPTOR['elements']
    assert potential.cutoff == SMALL_DESCRIPTOR['cutoff']
    metrics = node.outputs.metrics.get_dict()
    assert metrics['n_test'] == round(TEST_FRACTION * STRUCTURES)
    assert math.isfinite(metrics['rmse_energy_test_meV_per_atom'])
    assert math.isfinite(metrics['rmse_forces_test_meV_per_A'])
