"""Bad input of the training CalcJob: refused before anything is stored or submitted, with the key and the fix."""

import dataclasses

import pytest
from aiida import orm
from aiida.common.exceptions import ValidationError
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.train import TrainCalculation, validate_training_sets
from aiida_glassceramic.data import TrainingSetData
from aiida_glassceramic.training_set import TrainingSet, TrainingSetError
from tests.calculations.lj_training_set import lj_training_set


def count(node_class) -> int:
    return orm.QueryBuilder().append(node_class).count()


def empty_training_set() -> TrainingSet:
    return lj_training_set(2, seed=0).subset([])


def test_training_set_without_structures_is_not_created(aiida_profile):
    before = count(TrainingSetData)
    with pytest.raises(TrainingSetError, match='training_set: holds no structure'):
        TrainingSetData(empty_training_set())
    with pytest.raises(ValidationError, match='holds no structure'):
        TrainingSetData().store()
    assert count(TrainingSetData) == before


def test_empty_training_set_is_refused_before_submission(train_code):
    before = count(orm.CalcJobNode), count(TrainingSetData)
    with pytest.raises(ValueError, match=r"training_sets: \['empty'\] hold no structure"):
        run_get_node(
            TrainCalculation,
            code=train_code,
            training_sets={'empty': TrainingSetData(), 'good': TrainingSetData(lj_training_set(3, seed=1))},
            parameters=orm.Dict({}),
        )
    assert (count(orm.CalcJobNode), count(TrainingSetData)) == before


def test_builder_check_of_the_work_chains(aiida_profile):
    """The function a builder calls to refuse empty training sets before anything is stored."""
    assert 'hold no structure' in validate_training_sets({'a': TrainingSetData()})
    assert 'at least one TrainingSetData' in validate_training_sets({})
    assert validate_training_sets({'a': TrainingSetData(lj_training_set(2, seed=1))}) is None


@pytest.mark.parametrize(
    ('parameters', 'key'),
    [
        ({'epochs': 'abc'}, "`epochs` is 'abc'; give a positive integer"),
        ({'learning_rate': '0.01'}, "`learning_rate` is '0.01'; give a positive number"),
        ({'cutoff': True}, '`cutoff` is True'),
        ({'hidden': ['10']}, '`hidden`'),
        ({'seed': -1}, '`seed`'),
        ({'strict': 'yes'}, "`strict` is 'yes'; give true or false"),
        ({'stress_weight': -1.0}, '`stress_weight` is -1.0; give a number >= 0'),
        ({'learning_rate_schedule': 'step'}, "`learning_rate_schedule` is 'step'; give one of"),
    ],
)
def test_values_of_the_wrong_type_are_refused(train_code, parameters, key):
    node = TrainingSetData(lj_training_set(4, seed=1))
    before = count(orm.CalcJobNode), count(TrainingSetData)
    with pytest.raises(ValueError, match=key):
        run_get_node(TrainCalculation, code=train_code, training_sets={'a': node}, parameters=orm.Dict(parameters))
    assert (count(orm.CalcJobNode), count(TrainingSetData)) == before


def test_strict_training_refuses_energies_per_atom_before_submission(train_code):
    """Energies per atom (cells of 16 and 32 atoms) fail the sanity checks: strict refuses them at validation."""
    small, large = lj_training_set(6, seed=1), lj_training_set(6, seed=2, repeat=(2, 1, 1))
    data = TrainingSet.merge(small, large)
    per_atom = TrainingSetData(dataclasses.replace(data, energies=data.energies / data.natoms))
    before = count(orm.CalcJobNode)
    with pytest.raises(ValueError, match=r'parameters.strict.*energies: .*give the total energy of each structure'):
        run_get_node(
            TrainCalculation,
            code=train_code,
            training_sets={'a': per_atom},
            parameters=orm.Dict({'strict': True}),
            metadata={'dry_run': True},
        )
    assert count(orm.CalcJobNode) == before
    _, node = run_get_node(
        TrainCalculation,
        code=train_code,
        training_sets={'a': TrainingSetData(data)},
        parameters=orm.Dict({'strict': True}),
        metadata={'dry_run': True},
    )
    assert 'folder' in node.dry_run_info


def test_stress_weight_without_stresses_is_refused_before_submission(train_code):
    data = lj_training_set(4, seed=1)
    labelled, unlabelled = TrainingSetData(data), TrainingSetData(dataclasses.replace(data, stresses=None))
    before = count(orm.CalcJobNode)
    with pytest.raises(ValueError, match=r'`stress_weight` is 1\.0 but some training structures carry no stress'):
        run_get_node(
            TrainCalculation,
            code=train_code,
            training_sets={'a': labelled, 'b': unlabelled},
            parameters=orm.Dict({'stress_weight': 1.0}),
        )
    assert count(orm.CalcJobNode) == before
