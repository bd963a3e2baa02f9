"""The reference-data work chain with both engines, its failure handling and its input validation."""

from __future__ import annotations

import numpy as np
import pytest
from aiida import orm
from aiida.engine import run_get_node
from ase.calculators.lj import LennardJones
from tblite.ase import TBLite

from aiida_glassceramic.structures import read_crystal
from aiida_glassceramic.workflows.input_checks import InputValidationError
from aiida_glassceramic.workflows.reference_data import (
    ReferenceDataWorkChain,
    planned_counts,
)

TINY = {
    'conditions': {'defects': ['pristine'], 'temperatures': [900]},
    'md': {'steps': 8, 'snapshot_fraction': 0.25},
    'static': {'max_concurrent': 1, 'structures_per_job': 2},
}


def test_tblite_reference_data(tblite_code):
    """Tiny demo run: labels equal tblite's own GFN1-xTB and the snapshots are those of the stride."""
    builder = ReferenceDataWorkChain.get_builder_from_protocol(tblite_code, protocol='demo', overrides=TINY)
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    report = results['report'].get_dict()
    assert report['md_runs'] == 1
    assert report['snapshots'] == 2  # steps 4 and 8 of 8 at a 25 % fraction
    labels = results['training_set'].get_training_set()
    assert len(labels) == report['kept_after_screening'] == report['labelled'] == 2
    assert report['static_jobs'] == 1  # two structures per job
    atoms = labels.structure(1)
    atoms.calc = TBLite(method='GFN1-xTB', verbosity=0)
    np.testing.assert_allclose(labels.energies[1], atoms.get_potential_energy(), atol=1e-6)
    np.testing.assert_allclose(labels.forces[16:], atoms.get_forces(), atol=1e-5)
    # the potential training accepts the set
    from aiida_glassceramic.potentials.training import train

    _, metrics = train(labels, {'epochs': 2, 'batch_size': 1, 'hidden': (4,)}, test_set=labels)
    assert np.isfinite(metrics['rmse_energy_train'])


def test_vasp_reference_data_with_failures(vasp_code, potcar_family, stand_in_environment, tmp_path):
    """Stand-in VASP: killed AIMD continue with velocities (the stand-in kills every run started without them), an
    unconverged static point is excluded, a condition without output fails alone; parsed labels equal the stand-in's
    Lennard-Jones values."""
    stand_in_environment(
        kill_at_step=3, unconverged_static_natoms=15, no_output_natoms=13, markers=tmp_path, hold_natoms='15:13'
    )
    overrides = {
        'conditions': {'defects': ['pristine', 'li_vacancy', 'li2s_vacancy'], 'temperatures': [900]},
        'md': {'steps': 8, 'snapshot_fraction': 0.25, 'max_restarts': 1},
        'static': {'max_concurrent': 2},
        'vasp': {'max_iterations': 1, 'potential_family': potcar_family},
    }
    builder = ReferenceDataWorkChain.get_builder_from_protocol(
        vasp_code, protocol='demo', engine='vasp', overrides=overrides
    )
    results, node = run_get_node(builder)
    assert node.is_finished_ok, node.exit_message
    report = results['report'].get_dict()
    assert report['md_runs'] == 3
    assert report['md_failed'] == 1
    assert 'li2s_vacancy' in report['failed_conditions'][0]  # 13 atoms: the stand-in wrote nothing
    assert report['md_restarts'] == 2  # pristine and Li vacancy were killed at step 3 and continued
    assert report['snapshots'] == 4  # steps 4 and 8 of the two surviving conditions
    assert report['excluded'] == 2  # the 15-atom (Li vacancy) static points never converge
    assert report['md_jobs'] == 5 and report['static_jobs'] == 4
    aimd = [link.node for link in node.base.links.get_outgoing(link_label_filter='aimd').all()]
    static = [link.node for link in node.base.links.get_outgoing(link_label_filter='static').all()]
    calculations = [calc for job in aimd for calc in job.called]
    assert (len(aimd), len(static), len(calculations)) == (3, 4, 5)
    for label, jobs in (('aimd', aimd), ('static', static), ('aimd calculations', calculations)):
        assert max(in_flight_at_start(job, jobs) for job in jobs) == 2, f'{label}: at most max_concurrent in flight'
    # a sliding window: the pristine AIMD ends (killed and continued) and the 13-atom one takes its place while the
    # Li vacancy (15 atoms, held until a 13-atom run starts) still runs
    by_size = {len(job.inputs.structure.sites): job for job in aimd}
    assert by_size[13].ctime < by_size[15].mtime, 'the 13-atom AIMD waited for the Li vacancy: rounds, no window'
    labels = results['training_set'].get_training_set()
    assert labels.natoms.tolist() == [16, 16]
    calculator = LennardJones(sigma=1.8, epsilon=0.02, rc=4.5, smooth=True)
    for atoms, energy in zip(labels.to_atoms(), labels.energies, strict=True):
        reference = atoms.copy()
        reference.calc = calculator
        np.testing.assert_allclose(energy, reference.get_potential_energy(), atol=1e-7)
        np.testing.assert_allclose(atoms.get_forces(), reference.get_forces(), atol=1e-7)
        np.testing.assert_allclose(atoms.get_stress(), reference.get_stress(), atol=1e-7)


def in_flight_at_start(job: orm.ProcessNode, jobs: list[orm.ProcessNode]) -> int:
    """How many of ``jobs`` had been submitted and not yet ended when ``job`` was submitted (itself included)."""
    return sum(other.ctime <= job.ctime < other.mtime for other in jobs)


def count_processes() -> int:
    return orm.QueryBuilder().append(orm.ProcessNode).count()


@pytest.mark.parametrize(
    ('case', 'match'),
    [
        ('no_lithium', 'has no Li'),
        (
            'element_beyond_the_engine',
            r'structures: element U \(Z = 92\) is beyond the elements of glassceramic-tblite',
        ),
        ('zero_temperature', 'temperature'),
        ('missing_potential_family', 'potential_family `NO_SUCH_FAMILY`'),
    ],
)
def test_bad_input_refused_before_submission(request, tblite_code, case, match):
    from ase.build import bulk

    code, arguments = tblite_code, {'protocol': 'demo'}
    if case == 'no_lithium':
        arguments['structures'] = {'rocksalt': bulk('NaCl', 'rocksalt', a=5.6, cubic=True)}
    elif case == 'element_beyond_the_engine':
        crystal = read_crystal('gamma')
        crystal[crystal.numbers.argmax()].symbol = 'U'
        arguments['structures'] = {'gamma': crystal}
    elif case == 'zero_temperature':
        arguments['overrides'] = {'conditions': {'temperatures': [500, 0]}}
    else:
        code = request.getfixturevalue('vasp_code')
        arguments.update(engine='vasp', overrides={'vasp': {'potential_family': 'NO_SUCH_FAMILY'}})
    before = count_processes()
    with pytest.raises(InputValidationError, match=match):
        ReferenceDataWorkChain.get_builder_from_protocol(code, **arguments)
    assert count_processes() == before


def test_process_validator_refuses_negative_temperature(tblite_code):
    builder = ReferenceDataWorkChain.get_builder_from_protocol(tblite_code, protocol='demo')
    parameters = builder.parameters.get_dict()
    parameters['conditions']['temperatures'] = [-300]
    builder.parameters = orm.Dict(parameters)
    before = count_processes()
    with pytest.raises(ValueError, match='temperature'):
        run_get_node(builder)
    assert count_processes() == before


def test_paper_protocol_counts():
    """The study's grid: 2 crystals x 2 cells x 3 strains x 3 defects x 6 temperatures, 50 000 steps, 5 %."""
    counts = planned_counts(ReferenceDataWorkChain.get_protocol_inputs('paper'), num_crystals=2, engine='vasp')
    assert counts['md_runs'] == 216
    assert counts['md_steps'] == 216 * 50000
    assert counts['static_points_at_most'] == 216 * 2500
    assert counts['static_jobs_at_most'] == 216 * 2500


def test_reference_cells_of_the_grid():
    """Li2S vacancy: 1 S and 2 Li removed (neutral); the 64-atom cell is the 32-atom one doubled along a."""
    from aiida_glassceramic.workflows.reference_functions import condition_models

    conditions = ReferenceDataWorkChain.get_protocol_inputs('paper')['conditions']
    models = condition_models(read_crystal('beta'), conditions)
    assert len(models) == 2 * 3 * 3
    formulas = {(d['cell_size'], d['defect']): a.get_chemical_formula(mode='metal') for d, a in models}
    assert formulas[(32, 'pristine')] == 'Li12P4S16'
    assert formulas[(32, 'li_vacancy')] == 'Li11P4S16'
    assert formulas[(32, 'li2s_vacancy')] == 'Li10P4S15'
    assert formulas[(64, 'li2s_vacancy')] == 'Li22P8S31'
    volumes = {(d['cell_size'], d['strain']): a.get_volume() for d, a in models if d['defect'] == 'pristine'}
    np.testing.assert_allclose(volumes[(32, 0.02)] / volumes[(32, 0.0)], 1.02**3)
    np.testing.assert_allclose(volumes[(64, 0.0)], 2 * volumes[(32, 0.0)])


def test_killed_vasp_quench_continues_from_the_temperature_reached(vasp_code, potcar_family, stand_in_environment):
    """Stand-in VASP, a quench 900 -> 300 K over 8 steps killed at step 3: the continuation runs the steps left from
    the temperature the ramp had reached (TEBEG), to the same end (TEEND)."""
    from aiida_glassceramic.engines.vasp import VASP

    stand_in_environment(kill_at_step=3)
    overrides = {'md': {'steps': 8, 'max_restarts': 1}, 'vasp': {'potential_family': potcar_family}}
    parameters = ReferenceDataWorkChain.get_protocol_inputs('demo', overrides)
    structure = orm.StructureData(ase=read_crystal('gamma'))
    options = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'withmpi': False}
    process, inputs = VASP.aimd(vasp_code, structure, (900.0, 300.0), 16, parameters, options)
    _, node = run_get_node(process, **inputs)
    assert node.is_finished_ok, node.exit_message
    killed, continued = sorted(node.called, key=lambda calc: calc.ctime)
    done = killed.outputs.trajectory.get_array('positions').shape[0]
    assert 0 < done < 8
    assert (killed.inputs.parameters['tebeg'], killed.inputs.parameters['teend']) == (900.0, 300.0)
    incar = continued.inputs.parameters.get_dict()
    assert incar['nsw'] == 8 - done
    assert incar['tebeg'] == pytest.approx(900.0 - 600.0 * done / 8)
    assert incar['teend'] == 300.0
