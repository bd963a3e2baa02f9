"""The LAMMPS work chains through the daemon, sbatch and SSH: a short melt-quench, and an anneal whose second chunk
is cancelled with ``scancel`` while LAMMPS steps it.

The inputs are built explicitly: ``parameters`` is the ``demo`` section of ``md.yaml`` (common settings merged in)
with this file's overrides, the potential the Lennard-Jones Li-P-S interaction of the LAMMPS workflow tests.
References: the step counts and NVT's fixed cell implied by the settings given, and SLURM's own record of each job.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.daemon.helpers import wait_for
from tests.lammps_workflows.conftest import ELEMENTS, PAIR_COMMANDS
from tests.remote.conftest import assert_ran_under_slurm

OPTIONS = {'resources': {'num_machines': 1, 'num_mpiprocs_per_machine': 1}, 'max_wallclock_seconds': 600}
MELT_QUENCH_STEPS = 400  # four stages of 100 steps of 1 fs
# steps of 1 fs per anneal chunk: 3 to 4 s of LAMMPS for 128 atoms on an idle core, long enough for the cancel
# (sent once LAMMPS is seen stepping, a poll of 0.2 s later) to find it still running
CHUNK_STEPS = 50000
THERMO_INTERVAL = 1000
STDOUT = 'lammps.out'


def parameters(section: str, overrides: dict) -> dict:
    """The ``section`` settings of md.yaml's ``demo`` protocol, its ``common`` ones merged in, then ``overrides``."""
    from aiida_glassceramic.protocols import load_protocol, recursive_merge

    settings = load_protocol('md.yaml', 'demo')
    common = {key: value for key, value in settings['common'].items() if key not in ('options', 'max_iterations')}
    return recursive_merge(recursive_merge(common, settings[section]), overrides)


def md_builder(workchain, code, section: str, overrides: dict):
    """``workchain`` on 128 atoms of beta-Li3PS4 with the Lennard-Jones potential and ``parameters(section, ...)``."""
    from aiida import orm

    from aiida_glassceramic.structures import bundled_cif, read_crystal, supercell

    builder = workchain.get_builder()
    builder.code = code
    builder.structure = orm.StructureData(ase=supercell(read_crystal(bundled_cif('beta')), [1, 2, 2]))
    builder.potential = orm.Dict({'elements': ELEMENTS, 'commands': PAIR_COMMANDS})
    builder.parameters = orm.Dict(parameters(section, overrides))
    builder.options = orm.Dict(OPTIONS)
    return builder


def lammps_calculations(node) -> list:
    """The CalcJobs that MD work chain ``node`` ran, at any depth, in order of creation."""
    from aiida import orm

    return sorted(
        (child for child in node.called_descendants if isinstance(child, orm.CalcJobNode)), key=lambda calc: calc.ctime
    )


def screen_output(calculation) -> str:
    """LAMMPS' screen output in the calculation's remote folder so far (the cluster's scratch is on this host)."""
    if 'remote_folder' not in calculation.outputs:
        return ''
    path = Path(calculation.outputs.remote_folder.get_remote_path()) / STDOUT
    return path.read_text(errors='replace') if path.is_file() else ''


def first_thermo_step(text: str) -> int | None:
    """The step of the first thermo row in LAMMPS screen output ``text`` (the row under the ``Step`` header)."""
    lines = text.split('\n')[:-1]  # whole lines only: the file may be in the middle of being written
    for header, line in enumerate(lines[:-1]):
        if line.split()[:1] == ['Step']:
            return int(lines[header + 1].split()[0])
    return None


def stepping_after_restart(calculation) -> bool:
    """LAMMPS read restart data and printed its first thermo row, and has not ended."""
    text = screen_output(calculation)
    return 'Reading restart file' in text and first_thermo_step(text) is not None and 'Total wall time' not in text


@pytest.mark.timeout(240)
def test_melt_quench_runs_through_slurm(local_cluster, lammps_on_slurm, submit_and_await):
    """400 steps of NVT melt-quench: the glass and its thermo series come back, the cell is that of the start."""
    from aiida_glassceramic.workflows.melt_quench import MeltQuenchWorkChain

    rate = 12000.0  # K/ps: 300 -> 1500 K and back in 0.1 ps each
    overrides = {'t_initial': 300.0, 't_melt': 1500.0, 't_final': 300.0, 'melt_hold_ps': 0.1, 'final_hold_ps': 0.1}
    overrides |= {'heating_rate_k_per_ps': rate, 'cooling_rate_k_per_ps': rate, 'thermo_interval_steps': 20}
    builder = md_builder(MeltQuenchWorkChain, lammps_on_slurm, 'melt_quench', overrides)
    node = submit_and_await(builder, timeout=200)

    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    calculations = lammps_calculations(node)
    assert calculations
    for calculation in calculations:
        assert_ran_under_slurm(calculation, local_cluster)
    start, glass = builder.structure.get_ase(), node.outputs.structure.get_ase()
    assert glass.get_chemical_symbols() == start.get_chemical_symbols()
    np.testing.assert_allclose(glass.cell[:], start.cell[:], atol=1e-6)  # NVT
    steps = node.outputs.thermo.get_array('step')
    assert steps[0] == 0 and steps[-1] == MELT_QUENCH_STEPS
    assert np.isfinite(node.outputs.thermo.get_array('temp')).all()


@pytest.mark.timeout(300)
def test_anneal_chunk_cancelled_by_scancel_is_rerun_from_its_restart(local_cluster, lammps_on_slurm, submit_and_await):
    """Two NPT chunks; the second one's job is cancelled once its LAMMPS read the first one's restart data and steps.
    The work chain runs that chunk again from the same restart data and ends with the whole, unbroken series."""
    from aiida.engine import submit

    from aiida_glassceramic.workflows.anneal import AnnealWorkChain

    chunk_ps = CHUNK_STEPS / 1000.0
    overrides = {'temperature': 600.0, 'pressure_bar': 1.0, 'total_ps': 2 * chunk_ps, 'chunk_ps': chunk_ps}
    overrides |= {'snapshot_interval_ps': chunk_ps, 'snapshot_start_ps': chunk_ps}
    overrides |= {'thermo_interval_steps': THERMO_INTERVAL}
    node = submit(md_builder(AnnealWorkChain, lammps_on_slurm, 'anneal', overrides))

    def stepping_chunk():
        return next((calc for calc in lammps_calculations(node) if stepping_after_restart(calc)), None)

    wait_for(lambda: stepping_chunk() is not None, 150, f'AnnealWorkChain<{node.pk}>: no chunk seen stepping')
    cancelled = stepping_chunk()
    job_id = cancelled.get_job_id()
    assert local_cluster.job_state(job_id) == 'RUNNING'
    local_cluster.slurm('scancel', job_id)
    node = submit_and_await(node, timeout=200)

    assert node.is_finished_ok, (node.exit_status, node.exit_message)
    first, cancelled_run, rerun = lammps_calculations(node)
    assert cancelled_run.pk == cancelled.pk
    assert_ran_under_slurm(first, local_cluster)
    assert_ran_under_slurm(cancelled, local_cluster, state='CANCELLED')
    assert_ran_under_slurm(rerun, local_cluster)
    # both runs of the second chunk start from the restart data the first chunk wrote at its last step
    cut, whole = screen_output(cancelled), screen_output(rerun)
    assert first_thermo_step(cut) == first_thermo_step(whole) == CHUNK_STEPS
    assert 'Reading restart file' in whole
    assert 'Total wall time' not in cut and 'Total wall time' in whole

    steps = node.outputs.thermo.get_array('step')
    np.testing.assert_array_equal(steps, np.arange(0, 2 * CHUNK_STEPS + 1, THERMO_INTERVAL))
    assert len(node.outputs.snapshots) == 2  # one at the end of each chunk
    assert len(node.outputs.structure.sites) == len(node.inputs.structure.sites)
