"""The training CalcJob: input validation, the files it writes, and a real training through AiiDA."""

import dataclasses
import json
from pathlib import Path

import matplotlib.image
import numpy as np
import pytest
from aiida import orm
from aiida.common.links import LinkType
from aiida.engine import run_get_node

from aiida_glassceramic.calculations.train import TrainCalculation
from aiida_glassceramic.data import NNPotentialData, TrainingSetData
from aiida_glassceramic.potentials.io import load_potential
from aiida_glassceramic.training_set import TrainingSet
from tests.calculations.lj_training_set import SMALL_DESCRIPTOR, lj_training_set


@pytest.fixture
def small_sets(aiida_profile):
    """Two stored training sets (6 and 4 structures)."""
    return TrainingSetData(lj_training_set(6, seed=1)).store(), TrainingSetData(lj_training_set(4, seed=2)).store()


@pytest.mark.parametrize(
    ('parameters', 'key'),
    [
        ({'epochs': 0}, '`epochs`'),
        ({'hidden': [10, -1]}, '`hidden`'),
        ({'hidden': [10.5]}, '`hidden`'),
        ({'epochs': 2.5}, '`epochs`'),
        ({'learning_rate': float('nan')}, '`learning_rate`'),
        ({'test_fraction': 1.2}, '`test_fraction`'),
        ({'descriptor': {'elements': ['Li'], 'cutoff': 5.0}}, '`descriptor`'),
        ({'dtype': 'float16'}, '`dtype`'),
        ({'cutoff_function': 'gaussian'}, '`cutoff_function`'),
        ({'cutoff': -7.0}, '`cutoff`'),
        ({'energy_weight': 0.0, 'force_weight': 0}, '`force_weight`'),
        ({'learnign_rate': 0.01}, '`learnign_rate`'),
        ({'descriptor': dict(SMALL_DESCRIPTOR, elements=['Li', 'S'])}, r"`descriptor.elements` lacks \['P'\]"),
    ],
)
def test_bad_parameters_are_refused_before_submission(train_code, small_sets, parameters, key):
    before = orm.QueryBuilder().append(orm.CalcJobNode).count()
    with pytest.raises(ValueError, match=key):
        run_get_node(
            TrainCalculation, code=train_code, training_sets={'a': small_sets[0]}, parameters=orm.Dict(parameters)
        )
    assert orm.QueryBuilder().append(orm.CalcJobNode).count() == before


def test_inputs_refused_before_submission(train_code, small_sets):
    with pytest.raises(ValueError, match='training_sets'):
        run_get_node(TrainCalculation, code=train_code, training_sets={}, parameters=orm.Dict({}))
    with pytest.raises(ValueError, match='max_test_rmse'):
        run_get_node(
            TrainCalculation,
            code=train_code,
            training_sets={'a': small_sets[0]},
            parameters=orm.Dict({}),
            max_test_rmse=orm.Dict({'energy_meV': 5.0}),
        )


def test_submission_files(train_code, small_sets):
    """A dry run writes the merged training set (sorted labels), the parameters and the command line."""
    first, second = small_sets
    parameters = {'epochs': 3, 'hidden': [4, 4], 'learning_rate': 0.01}
    _, node = run_get_node(
        TrainCalculation,
        code=train_code,
        training_sets={'b_second': second, 'a_first': first},
        parameters=orm.Dict(parameters),
        metadata={'dry_run': True},
    )
    folder = Path(node.dry_run_info['folder'])
    merged = TrainingSet.load_npz(folder / 'training_set.npz')
    expected = np.concatenate([first.get_array('energies'), second.get_array('energies')])
    np.testing.assert_array_equal(merged.energies, expected)
    np.testing.assert_array_equal(merged.positions[-16:], second.get_array('positions')[-16:])
    assert json.loads((folder / 'parameters.json').read_text()) == parameters
    script = (folder / '_aiidasubmit.sh').read_text()
    command = "'--training-set' 'training_set.npz' '--parameters' 'parameters.json' '--output-dir' '.'"
    assert f"{command}  > 'train.log' 2> 'train.err'" in script
    assert script.index('echo $? > exit_status') > script.index('--training-set')


def test_validation_knows_the_keys_of_the_training_script():
    """The rules cover every hyper-parameter and name the activations, dtypes and cut-off functions that exist."""
    from aiida_glassceramic.descriptors import parameters
    from aiida_glassceramic.potentials import model
    from aiida_glassceramic.potentials.training_parameters import (
        ACTIVATIONS,
        CUTOFF_FUNCTIONS,
        DTYPES,
        PARAMETER_RULES,
        TrainingParameters,
    )

    assert set(PARAMETER_RULES) == {field.name for field in dataclasses.fields(TrainingParameters)}
    assert set(ACTIVATIONS) == set(model.ACTIVATIONS)
    assert set(DTYPES) == set(model.DTYPES)
    assert set(CUTOFF_FUNCTIONS) == set(parameters.CUTOFF_FUNCTIONS)


# bounds on the test RMSE of the real training below, against a Lennard-Jones reference whose test energies
# spread by ~6 meV/atom and whose force components have an RMS of ~330 meV/A
MAX_RMSE_ENERGY_MEV_PER_ATOM = 3.0
MAX_RMSE_FORCES_MEV_PER_A = 150.0
REAL_PARAMETERS = {
    'descriptor': SMALL_DESCRIPTOR,
    'hidden': [8, 8],
    'learning_rate': 0.02,
    'batch_size': 8,
    'epochs': 40,
    'patience': 40,
    'energy_weight': 100.0,
    'force_weight': 1.0,
    'test_fraction': 0.2,
    'validation_fraction': 0.1,
    'seed': 3,
}


def test_real_training_through_aiida(train_code, tmp_path):
    """Train on 30 LJ-labelled cells with glassceramic-train; check provenance and recompute the test RMSE."""
    data = lj_training_set(30, seed=0)
    sets = {'strained_a': data.subset(range(18)), 'strained_b': data.subset(range(18, 30))}
    nodes = {label: TrainingSetData(value).store() for label, value in sets.items()}
    bounds = {'energy_meV_per_atom': MAX_RMSE_ENERGY_MEV_PER_ATOM, 'forces_meV_per_A': MAX_RMSE_FORCES_MEV_PER_A}
    results, calc = run_get_node(
        TrainCalculation,
        code=train_code,
        training_sets=nodes,
        parameters=orm.Dict(REAL_PARAMETERS),
        max_test_rmse=orm.Dict(bounds),
    )
    assert calc.is_finished_ok, (calc.exit_status, calc.exit_message)
    metrics = results['metrics'].get_dict()
    assert metrics['n_train'] + metrics['n_validation'] == 24
    assert metrics['n_test'] == 6

    # provenance: training set -> calculation -> potential
    query = orm.QueryBuilder()
    query.append(TrainingSetData, filters={'id': {'in': [node.pk for node in nodes.values()]}}, tag='data')
    query.append(orm.CalcJobNode, with_incoming='data', tag='calc', project='id')
    query.append(NNPotentialData, with_incoming='calc', project='id')
    assert set(map(tuple, query.all())) == {(calc.pk, results['potential'].pk)}
    assert query.count() == 2  # one row per training set
    incoming = calc.base.links.get_incoming(link_type=LinkType.INPUT_CALC).all()
    assert {link.link_label: link.node.pk for link in incoming if link.link_label.startswith('training_sets')} == {
        f'training_sets__{label}': node.pk for label, node in nodes.items()
    }
    potential_node = results['potential']
    assert potential_node.base.links.get_incoming().one().node.pk == calc.pk
    assert potential_node.elements == ['Li', 'P', 'S']
    assert potential_node.cutoff == SMALL_DESCRIPTOR['cutoff']
    assert potential_node.metrics['rmse_energy_test'] == metrics['rmse_energy_test_meV_per_atom']

    # the exported file works without AiiDA: predictions on the held-out structures give the reported RMSE
    exported = potential_node.export(tmp_path)
    _, test = TrainingSet.merge(*sets.values()).split(1.0 - REAL_PARAMETERS['test_fraction'], REAL_PARAMETERS['seed'])
    energy_errors, force_errors = [], []
    for model in (potential_node.load(), load_potential(exported)):
        energy_errors, force_errors = [], []
        for atoms in test.to_atoms():
            energy, forces, _ = model.compute(atoms.numbers, atoms.positions, atoms.cell.array)
            energy_errors.append((energy - atoms.get_potential_energy()) / len(atoms))
            force_errors.append((forces - atoms.get_forces()).ravel())
        rmse_energy = 1000.0 * np.sqrt(np.mean(np.square(energy_errors)))
        rmse_forces = 1000.0 * np.sqrt(np.mean(np.square(np.concatenate(force_errors))))
        assert rmse_energy == pytest.approx(metrics['rmse_energy_test_meV_per_atom'], rel=1e-6)
        assert rmse_forces == pytest.approx(metrics['rmse_forces_test_meV_per_A'], rel=1e-6)
    # better than the trivial predictors (mean energy, zero forces) of the Lennard-Jones reference
    spread = 1000.0 * np.std(test.energies / test.natoms)
    assert rmse_energy < min(MAX_RMSE_ENERGY_MEV_PER_ATOM, 0.5 * spread)
    assert rmse_forces < min(MAX_RMSE_FORCES_MEV_PER_A, 0.5 * 1000.0 * np.sqrt(np.mean(test.forces**2)))

    with results['parity_plot'].as_path() as path:
        image = matplotlib.image.imread(path)
    assert image.shape[0] > 100
    assert image.shape[1] > image.shape[0]
    assert 'epoch' in calc.outputs.retrieved.base.repository.get_object_content('train.log')
