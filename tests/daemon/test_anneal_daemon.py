"""The chunked anneal submitted to the daemon, with the daemon stopped while a chunk's LAMMPS job runs.

What AiiDA does, and this test holds it to: the daemon's workers stop, but the LAMMPS job of the running chunk is a
process of its own (submitted through the computer's scheduler) and keeps running. After ``verdi daemon start`` the
work chains continue from their checkpoints and the chunk's CalcJob goes on waiting for the same job, then retrieves
and parses it: every chunk runs exactly once, and the result equals an uninterrupted run of the same anneal to float
precision.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from tests.daemon.helpers import daemon_down, wait_for
from tests.lammps_workflows.conftest import ELEMENTS, LMP, PAIR_COMMANDS, PREPEND
from tests.lammps_workflows.test_anneal import assert_same_trajectory

CHUNKS = 4
CHUNK_STEPS = 15000  # steps of 1 fs per chunk: 1 to 3 s of LAMMPS for 128 atoms on one core
LABELS = [f'chunk_{index:04d}' for index in range(CHUNKS)]


def overrides(chunk_steps: int) -> dict:
    """NPT at 600 K of CHUNKS * CHUNK_STEPS steps in chunks of ``chunk_steps``, a snapshot every CHUNK_STEPS."""
    return {
        'common': {'thermo_interval_steps': 1000},
        'anneal': {
            'temperature': 600.0,
            'pressure_bar': 1.0,
            'total_ps': CHUNKS * CHUNK_STEPS / 1000.0,
            'chunk_ps': chunk_steps / 1000.0,
            'snapshot_interval_ps': CHUNK_STEPS / 1000.0,
            'snapshot_start_ps': CHUNK_STEPS / 1000.0,
        },
    }


@pytest.fixture
def anneal_builder(aiida_profile, aiida_code_installed):
    """Factory: the anneal's builder with chunks of ``chunk_steps``."""
    from aiida import orm

    from aiida_glassceramic.structures import bundled_cif, read_crystal, supercell
    from aiida_glassceramic.workflows.anneal import AnnealWorkChain

    code = aiida_code_installed(
        label='lmp', filepath_executable=str(LMP), default_calc_job_plugin='lammps.raw', prepend_text=PREPEND
    )
    structure = orm.StructureData(ase=supercell(read_crystal(bundled_cif('beta')), [1, 2, 2]))
    potential = orm.Dict({'elements': ELEMENTS, 'commands': PAIR_COMMANDS})

    def factory(chunk_steps: int):
        return AnnealWorkChain.get_builder_from_protocol(
            code, structure, potential=potential, protocol='demo', overrides=overrides(chunk_steps)
        )

    return factory


def chunk_runs(node) -> dict[str, list]:
    """The LammpsBaseWorkChains the anneal called, per link label."""
    from aiida import orm

    runs: dict[str, list] = {}
    for link in node.base.links.get_outgoing(node_class=orm.WorkChainNode).all():
        runs.setdefault(link.link_label, []).append(link.node)
    return runs


def screen_output(calculation) -> str:
    """LAMMPS' screen output in the calculation's working directory so far (the computer is localhost)."""
    stdout = Path(calculation.outputs.remote_folder.get_remote_path()) / 'lammps.out'
    return stdout.read_text() if stdout.is_file() else ''


def running_job(node):
    """The CalcJob of a chunk after the first whose LAMMPS job is running now (thermo begun, no end), else None."""
    from aiida.common.datastructures import CalcJobState

    for label, runs in sorted(chunk_runs(node).items()):
        if label == LABELS[0] or not runs or not runs[0].called:
            continue
        calculation = runs[0].called[-1]
        if calculation.get_state() != CalcJobState.WITHSCHEDULER:
            continue
        text = screen_output(calculation)
        if 'Step' in text and 'Total wall time' not in text:
            return calculation
    return None


@pytest.mark.timeout(300)
def test_anneal_survives_a_daemon_restart(anneal_builder, started_daemon_client, submit_and_await):
    from aiida.engine import run_get_node, submit

    node = submit(anneal_builder(CHUNK_STEPS))
    wait_for(lambda: running_job(node) is not None, 120, f'AnnealWorkChain<{node.pk}> ran no second chunk')
    interrupted = running_job(node)
    job_id = interrupted.get_job_id()
    assert chunk_runs(node)[LABELS[0]][0].is_finished_ok
    with daemon_down(started_daemon_client):
        assert not node.is_terminated and not interrupted.is_terminated
        # the job goes on without the daemon and ends; the CalcJob cannot notice until the daemon is back
        wait_for(lambda: 'Total wall time' in screen_output(interrupted), 60, 'the LAMMPS job did not end')
        time.sleep(2)
        assert not interrupted.is_terminated
    node = submit_and_await(node, timeout=240)
    assert node.is_finished_ok, node.exit_message

    runs = chunk_runs(node)
    assert sorted(runs) == LABELS and all(len(runs[label]) == 1 for label in LABELS)  # each chunk launched once
    calculations = {label: runs[label][0].called for label in LABELS}
    assert all(len(calcs) == 1 and calcs[0].is_finished_ok for calcs in calculations.values())  # and run once
    # the job that ran while the daemon was down is the one that completed its chunk: same CalcJob, same job
    assert interrupted.pk in [calcs[0].pk for calcs in calculations.values()]
    assert interrupted.is_finished_ok and interrupted.get_job_id() == job_id

    # the same anneal, chunks included, without interruption: a chunk boundary changes the last bits of the arithmetic
    # (restart read, neighbour lists built anew), which 60000 steps of chaotic dynamics grow to differences of 1 % in
    # the box (measured), so one long chunk is no float-precision reference
    reference, reference_node = run_get_node(anneal_builder(CHUNK_STEPS))
    assert reference_node.is_finished_ok, reference_node.exit_message
    assert_same_trajectory(node.outputs, reference)
    assert sorted(node.outputs.snapshots) == [f'fs_{CHUNK_STEPS * (index + 1):012d}' for index in range(CHUNKS)]  # 1 fs
