"""CalcJobs on a real SLURM reached over SSH: submission, retrieval, scheduler kills and daemon restarts.

The CalcJob is aiida-core's ``core.arithmetic.add`` (code ``/bin/bash``): its sum is known exactly, and the job
writes ``$SLURM_JOB_ID`` (set by SLURM itself) to a file that is retrieved, so every test can check independently
that the job ran under sbatch, which job it was, and how many times it ran.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.daemon.helpers import daemon_down, wait_for

JOB_LOG = 'slurm_jobs.txt'
SCHEDULER_STDERR = '_scheduler-stderr.txt'


def add_builder(code, x: int, y: int, sleep: int | None = None, gate: Path | None = None):
    """``x + y`` on ``code``; the job appends its SLURM job id to :data:`JOB_LOG`, which is retrieved. With ``gate``,
    the job ends only once that file exists (the test opens it on an event, never after a time)."""
    from aiida import orm
    from aiida.plugins import CalculationFactory

    builder = CalculationFactory('core.arithmetic.add').get_builder()
    builder.code = code
    builder.x = orm.Int(x)
    builder.y = orm.Int(y)
    wait = f'until [ -e {gate} ]; do sleep 0.1; done\n' if gate else ''
    builder.metadata.options.append_text = f'{wait}echo "$SLURM_JOB_ID" >> {JOB_LOG}'
    builder.metadata.options.additional_retrieve_list = [JOB_LOG, SCHEDULER_STDERR]
    builder.metadata.options.max_wallclock_seconds = 600
    if sleep is not None:
        builder.metadata.options.sleep = sleep
    return builder


def job_ids_in_log(node) -> list[str]:
    """The SLURM job ids the job wrote, one per execution of the job script (the retrieval also keeps the scheduler's
    stderr, where SLURM reports kills and which AiiDA's SLURM plugin inspects)."""
    return node.outputs.retrieved.base.repository.get_object_content(JOB_LOG).split()


def running_job_id(node, cluster, timeout: float = 60) -> str:
    """Wait until SLURM runs the CalcJob's job script, and return the job id.

    SLURM says RUNNING from the allocation on, before the script starts; the script has started once it created the
    code's stdout file in the remote working directory (on this host, as the cluster is local).
    """
    wait_for(lambda: node.get_job_id() is not None, timeout, f'no job id for CalcJob<{node.pk}>')
    job_id = node.get_job_id()
    wait_for(lambda: cluster.job_state(job_id) == 'RUNNING', timeout, f'job {job_id} never ran')
    stdout = Path(node.outputs.remote_folder.get_remote_path()) / node.get_option('output_filename')
    wait_for(stdout.exists, timeout, f'the script of job {job_id} did not start')
    return job_id


def test_verdi_computer_test_passes(aiida_profile, slurm_computer):
    """``verdi computer test`` (connection, squeue, remote user, temp file, login shell) passes on the computer."""
    verdi = Path(sys.executable).parent / 'verdi'
    result = subprocess.run(
        [str(verdi), '-p', aiida_profile.name, 'computer', 'test', slurm_computer.label],
        capture_output=True,
        text=True,
        timeout=120,
        env=os.environ,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'tests succeeded' in result.stdout, result.stdout
    assert '[Failed]' not in result.stdout, result.stdout


@pytest.mark.timeout(180)
def test_calcjob_runs_through_sbatch_and_is_retrieved_over_ssh(slurm_computer, bash_on_slurm):
    """Blocking ``run`` (as ``verdi run``): the job goes through sbatch, the result comes back over SFTP."""
    from aiida.engine import run_get_node

    results, node = run_get_node(add_builder(bash_on_slurm, 17, 25))

    assert node.is_finished_ok, node.exit_message
    assert results['sum'].value == 42
    assert node.computer.scheduler_type == 'core.slurm'
    assert node.computer.transport_type == 'core.ssh'
    assert job_ids_in_log(node) == [node.get_job_id()]


@pytest.mark.timeout(180)
def test_daemon_submits_calcjob_to_slurm(slurm_computer, bash_on_slurm, submit_and_await):
    """The daemon submits, polls SLURM over SSH, retrieves and parses."""
    node = submit_and_await(add_builder(bash_on_slurm, 1000, -1), timeout=120)

    assert node.is_finished_ok, node.exit_message
    assert node.outputs.sum.value == 999
    assert job_ids_in_log(node) == [node.get_job_id()]


@pytest.mark.timeout(180)
def test_job_cancelled_by_scheduler_ends_with_exit_code(local_cluster, slurm_computer, bash_on_slurm, submit_and_await):
    """``scancel`` on a running job: the CalcJob is retrieved and ends with the parser's exit code, no exception."""
    from aiida.engine import submit
    from aiida.plugins import CalculationFactory

    node = submit(add_builder(bash_on_slurm, 1, 2, sleep=120))
    job_id = running_job_id(node, local_cluster)
    local_cluster.slurm('scancel', job_id)
    node = submit_and_await(node, timeout=120)

    add = CalculationFactory('core.arithmetic.add')
    assert node.exit_status == add.exit_codes.ERROR_INVALID_OUTPUT.status, (node.exit_status, node.exit_message)
    assert 'sum' not in node.outputs
    stderr = node.outputs.retrieved.base.repository.get_object_content(SCHEDULER_STDERR)
    assert f'JOB {job_id} ON' in stderr
    assert 'CANCELLED' in stderr


@pytest.mark.timeout(240)
def test_daemon_stopped_while_job_runs_then_restarted(
    local_cluster, slurm_computer, bash_on_slurm, *, started_daemon_client, submit_and_await, tmp_path
):
    """The daemon goes down while the job runs, and the job ends meanwhile; once the daemon is back the CalcJob
    picks up that same job, retrieves and parses it, and the job script ran exactly once."""
    from aiida.engine import submit

    daemon = started_daemon_client
    gate = tmp_path / 'release'
    node = submit(add_builder(bash_on_slurm, 20, 22, gate=gate))
    job_id = running_job_id(node, local_cluster)

    with daemon_down(daemon):
        assert not node.is_terminated
        gate.touch()  # the job ends only now, with the daemon down
        wait_for(lambda: local_cluster.job_state(job_id) is None, 60, f'job {job_id} did not end without the daemon')
        assert not node.is_terminated

    node = submit_and_await(node, timeout=120)

    assert node.is_finished_ok, node.exit_message
    assert node.outputs.sum.value == 42
    assert node.get_job_id() == job_id
    assert job_ids_in_log(node) == [job_id]
