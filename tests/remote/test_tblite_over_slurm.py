"""The embedded reference engine (``glassceramic.tblite``) through the daemon, sbatch and SSH, with faults injected.

References: tblite's own ASE calculator run in the test process (energies, forces, and which structure fails its
SCF), and SLURM's view of the job (which is cancelled with ``scancel`` mid-run).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.daemon.helpers import wait_for

MD_STEPS = 8


def li2s_cell(rattle: float = 0.05):
    """Antifluorite Li2S, conventional cell (Li8S4), rattled so that forces are not zero by symmetry."""
    from ase.build import bulk

    atoms = bulk('Li2S', 'fluorite', a=5.70, cubic=True)
    atoms.rattle(rattle, seed=1)
    return atoms


def li2s_primitive():
    """The 3-atom primitive cell of Li2S: with Gamma-only GFN1-xTB its SCF does not converge."""
    from ase.build import bulk

    return bulk('Li2S', 'fluorite', a=5.70)


def tblite_reference(atoms) -> tuple[float, np.ndarray] | None:
    """Energy and forces from tblite's ASE calculator, or None when its SCF does not converge."""
    from ase.calculators.calculator import CalculationFailed
    from tblite.ase import TBLite

    atoms = atoms.copy()
    atoms.calc = TBLite(method='GFN1-xTB', verbosity=0)
    try:
        return atoms.get_potential_energy(), atoms.get_forces()
    except CalculationFailed:
        return None


def tblite_builder(code, parameters: dict, **inputs):
    from aiida import orm
    from aiida.plugins import CalculationFactory

    builder = CalculationFactory('glassceramic.tblite').get_builder()
    builder.code = code
    builder.parameters = orm.Dict(parameters)
    for name, value in inputs.items():
        builder[name] = value
    builder.metadata.options.max_wallclock_seconds = 600
    return builder


@pytest.mark.timeout(240)
def test_single_points_over_slurm_exclude_the_unconverged_structure(tblite_on_slurm, submit_and_await):
    """Two structures labelled in one SLURM job: the converged one matches tblite run here; the one whose SCF fails
    (as it does here) is left out of the labels, reported by index, and flagged with exit code 400."""
    from aiida.plugins import CalculationFactory

    from aiida_glassceramic.calculations.reference_engine import structure_set

    good, bad = li2s_cell(), li2s_primitive()
    reference = tblite_reference(good)
    assert reference is not None
    assert tblite_reference(bad) is None, 'precondition: tblite must fail the SCF of the 3-atom Li2S cell'

    builder = tblite_builder(tblite_on_slurm, {'task': 'single_point'}, structures=structure_set([good, bad]))
    node = submit_and_await(builder, timeout=200)

    tblite = CalculationFactory('glassceramic.tblite')
    assert node.exit_status == tblite.exit_codes.ERROR_SCF_NOT_CONVERGED.status, node.exit_message
    assert node.outputs.misc['unconverged'] == [1]
    assert node.outputs.misc['num_structures'] == 2
    labels = node.outputs.labels.get_training_set()
    assert len(labels) == 1
    assert labels.energies[0] == pytest.approx(reference[0], abs=1e-5)
    np.testing.assert_allclose(labels.forces, reference[1], atol=1e-5)


@pytest.mark.timeout(300)
def test_md_cancelled_by_scancel_continues_from_its_restart(local_cluster, tblite_on_slurm, submit_and_await):
    """An MD job cancelled by SLURM ends with exit code 310 and its restart data; a CalcJob given that restart goes
    on from the step reached (no step runs twice) to the end."""
    from aiida import orm
    from aiida.engine import submit
    from aiida.plugins import CalculationFactory

    from aiida_glassceramic.runners.reference_engine import RESTART

    parameters = {
        'task': 'md',
        'md': {'thermostat': 'langevin', 'temperature': 300, 'timestep': 1.0, 'steps': MD_STEPS, 'interval': 1},
    }
    structure = orm.StructureData(ase=li2s_cell())
    node = submit(tblite_builder(tblite_on_slurm, parameters, structure=structure))
    wait_for(lambda: 'remote_folder' in node.outputs and node.get_job_id(), 120, 'the MD job was not submitted')
    restart_file = Path(node.outputs.remote_folder.get_remote_path()) / RESTART
    wait_for(restart_file.exists, 120, 'the MD job wrote no restart file')  # the cluster's scratch is on this host
    job_id = node.get_job_id()
    assert local_cluster.job_state(job_id) == 'RUNNING'
    local_cluster.slurm('scancel', job_id)
    node = submit_and_await(node, timeout=120)

    tblite = CalculationFactory('glassceramic.tblite')
    assert node.exit_status == tblite.exit_codes.ERROR_MD_INCOMPLETE.status, node.exit_message
    restart = node.outputs.restart
    reached = int(restart.get_array('step'))
    steps = node.outputs.trajectory.get_stepids()
    assert 1 <= reached < MD_STEPS
    assert reached in steps
    positions = node.outputs.trajectory.get_positions()[int(np.flatnonzero(steps == reached)[0])]
    np.testing.assert_allclose(positions, restart.get_array('positions'), atol=1e-6)

    builder = tblite_builder(tblite_on_slurm, parameters, structure=structure, restart=restart)
    continued = submit_and_await(builder, timeout=200)

    assert continued.is_finished_ok, continued.exit_message
    np.testing.assert_array_equal(continued.outputs.trajectory.get_stepids(), np.arange(reached + 1, MD_STEPS + 1))
    assert continued.outputs.misc['steps'] == MD_STEPS
