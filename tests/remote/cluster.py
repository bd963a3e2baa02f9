"""A real single-node SLURM cluster reachable over SSH, started and stopped by the test set-up.

Everything lives in one temporary folder: its own munge key and socket, its own ``slurm.conf`` (passed through
``SLURM_CONF``, so ``/etc/slurm`` is never touched), and an ``sshd`` with its own configuration and keys that listens
on 127.0.0.1 only and hands ``SLURM_CONF`` to every session. All ports are free ones picked at start, so the cluster
never collides with another cluster or service on the same machine. Every daemon runs in the foreground as a child of
the test process, so :meth:`LocalCluster.stop` ends them all.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from tests.daemon.helpers import wait_for

SBIN = ('/usr/sbin', '/usr/bin', '/sbin', '/bin')
EXECUTABLES = (
    'munged',
    'mungekey',
    'munge',
    'slurmctld',
    'slurmd',
    'sbatch',
    'squeue',
    'scancel',
    'sinfo',
    'sshd',
    'ssh',
    'ssh-keygen',
)
FINISHED_JOB_RECORD_S = 3600  # slurmctld keeps a finished job's state and folder this long (SLURM's MinJobAge)
INSTALL_HINT = 'install them as root with `bash tests/install_system_packages.sh`'


class ClusterError(RuntimeError):
    """The local SLURM cluster or its SSH server could not be started."""


def find_executable(name: str) -> str | None:
    """The path of ``name`` on PATH or in the system binary folders (sshd and the SLURM daemons live in sbin)."""
    return shutil.which(name) or shutil.which(name, path=os.pathsep.join(SBIN))


def missing_executables() -> list[str]:
    return [name for name in EXECUTABLES if find_executable(name) is None]


def free_port() -> int:
    """A TCP port that nothing listens on now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@dataclass
class LocalCluster:
    """Munge, slurmctld, slurmd and sshd, all confined to :attr:`root`."""

    root: Path
    ssh_port: int = field(default_factory=free_port)
    slurmctld_port: int = field(default_factory=free_port)
    slurmd_port: int = field(default_factory=free_port)
    processes: list[subprocess.Popen] = field(default_factory=list)

    @classmethod
    def create(cls) -> LocalCluster:
        """A cluster in a fresh folder under the system temp dir (the munge user must be able to reach its socket)."""
        if os.geteuid() != 0:
            raise ClusterError('the local SLURM cluster needs root (munged runs as user munge, SlurmUser=root)')
        missing = missing_executables()
        if missing:
            raise ClusterError(f'missing executables of the test cluster: {", ".join(missing)}; {INSTALL_HINT}')
        root = Path(tempfile.mkdtemp(prefix='gc-cluster-'))
        root.chmod(0o755)
        return cls(root=root)

    @property
    def slurm_conf(self) -> Path:
        return self.root / 'slurm' / 'slurm.conf'

    @property
    def client_key(self) -> Path:
        return self.root / 'ssh' / 'client_key'

    @property
    def munge_socket(self) -> Path:
        return self.root / 'munge' / 'munge.socket'

    @property
    def env(self) -> dict[str, str]:
        """The environment of a SLURM client command on this cluster."""
        return {**os.environ, 'SLURM_CONF': str(self.slurm_conf)}

    def start(self) -> None:
        """Start munged, slurmctld, slurmd and sshd; return once a job can be submitted over SSH."""
        try:
            self._start_munge()
            self._start_slurm()
            self._start_sshd()
        except BaseException as error:
            self.stop()
            if isinstance(error, (TimeoutError, OSError, subprocess.SubprocessError)):
                raise ClusterError(str(error)) from error
            raise

    def stop(self) -> None:
        """Cancel every job, end every daemon (terminate, then kill after 10 s) and remove the folder."""
        if self.slurm_conf.is_file() and self.processes:
            self.slurm('scancel', '--user', 'root', check=False)
            try:
                wait_for(lambda: not self.slurm('squeue', '-h', '-o', '%i', check=False).strip(), 10, 'jobs ended')
            except TimeoutError:
                pass
        for process in reversed(self.processes):
            process.terminate()
        for process in reversed(self.processes):
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        self.processes.clear()
        shutil.rmtree(self.root, ignore_errors=True)

    def slurm(self, *command: str, check: bool = True) -> str:
        """Run a SLURM client command (squeue, scancel, ...) on this cluster and return its stdout."""
        result = subprocess.run(
            [find_executable(command[0]), *command[1:]],
            env=self.env,
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if check and result.returncode != 0:
            raise ClusterError(f'`{" ".join(command)}` failed: {result.stderr.strip()}')
        return result.stdout

    def job_state(self, job_id: str) -> str | None:
        """The SLURM state of a job (``PENDING``, ``RUNNING``, ...), or None once it has left the queue."""
        state = self.slurm('squeue', '-h', '-j', job_id, '-o', '%T', check=False).strip()
        return state or None

    def job_record(self, job_id: str) -> tuple[str, str] | None:
        """SLURM's own record of a job, finished ones included: its state (``COMPLETED``, ``CANCELLED``, ...) and
        working directory, or None when SLURM knows no such job."""
        record = self.slurm('squeue', '-h', '-t', 'all', '-j', job_id, '-o', '%T|%Z', check=False).strip()
        if not record:
            return None
        state, workdir = record.split('|', 1)
        return state, workdir

    def ssh_command(self, *command: str) -> list[str]:
        """An ``ssh`` command line that runs ``command`` on the cluster, failing at once if the key is refused."""
        return [
            find_executable('ssh'),
            *('-p', str(self.ssh_port), '-i', str(self.client_key)),
            *('-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', '-o', 'IdentitiesOnly=yes'),
            *('-o', 'StrictHostKeyChecking=no', '-o', 'UserKnownHostsFile=/dev/null', '-o', 'LogLevel=ERROR'),
            'root@127.0.0.1',
            *command,
        ]

    def _spawn(self, log: Path, *command: str, **kwargs) -> subprocess.Popen:
        with log.open('ab') as handle:
            process = subprocess.Popen(
                [find_executable(command[0]), *command[1:]],
                stdin=subprocess.DEVNULL,
                stdout=handle,
                stderr=subprocess.STDOUT,
                **kwargs,
            )
        self.processes.append(process)
        return process

    def _logs(self, *names: str) -> Callable[[], str]:
        def read() -> str:
            texts = []
            for name in names:
                path = self.root / name
                if path.is_file():
                    texts.append(f'--- {name}\n' + '\n'.join(path.read_text(errors='replace').splitlines()[-20:]))
            return '\n'.join(texts)

        return read

    def _start_munge(self) -> None:
        folder = self.root / 'munge'
        folder.mkdir()
        key = folder / 'munge.key'
        subprocess.run([find_executable('mungekey'), '--create', '--keyfile', str(key)], check=True, timeout=30)
        shutil.chown(folder, 'munge', 'munge')
        shutil.chown(key, 'munge', 'munge')
        folder.chmod(0o711)  # munged requires the socket's folder to be searchable by all
        self._spawn(
            folder / 'munged.out',
            'munged',
            '--foreground',
            f'--socket={self.munge_socket}',
            f'--key-file={key}',
            f'--log-file={folder / "munged.log"}',
            f'--pid-file={folder / "munged.pid"}',
            f'--seed-file={folder / "munged.seed"}',
            user='munge',
            group='munge',
            extra_groups=[],
        )

        def answers() -> bool:
            command = [find_executable('munge'), '-n', '-S', str(self.munge_socket)]
            return subprocess.run(command, capture_output=True, timeout=10, check=False).returncode == 0

        wait_for(answers, 15, 'munged did not answer', self._logs('munge/munged.out', 'munge/munged.log'))

    def _start_slurm(self) -> None:
        folder = self.root / 'slurm'
        for name in ('state', 'spool'):
            (folder / name).mkdir(parents=True)
        node = subprocess.run([find_executable('slurmd'), '-C'], capture_output=True, text=True, timeout=30, check=True)
        node_line = node.stdout.splitlines()[0]
        self.slurm_conf.write_text(
            '\n'.join(
                (
                    'ClusterName=glassceramic',
                    f'SlurmctldHost={socket.gethostname().split(".")[0]}(127.0.0.1)',
                    f'SlurmctldPort={self.slurmctld_port}',
                    f'SlurmdPort={self.slurmd_port}',
                    'SlurmUser=root',
                    'SlurmdUser=root',
                    'AuthType=auth/munge',
                    'CredType=cred/munge',
                    f'AuthInfo=socket={self.munge_socket}',
                    f'StateSaveLocation={folder / "state"}',
                    f'SlurmdSpoolDir={folder / "spool"}',
                    f'SlurmctldPidFile={folder / "slurmctld.pid"}',
                    f'SlurmdPidFile={folder / "slurmd.pid"}',
                    f'SlurmctldLogFile={folder / "slurmctld.log"}',
                    f'SlurmdLogFile={folder / "slurmd.log"}',
                    'ProctrackType=proctrack/linuxproc',
                    'TaskPlugin=task/none',
                    'SelectType=select/cons_tres',
                    'SelectTypeParameters=CR_Core',
                    'AccountingStorageType=accounting_storage/none',
                    'JobAcctGatherType=jobacct_gather/none',
                    'JobCompType=jobcomp/none',
                    'MpiDefault=none',
                    'ReturnToService=2',
                    'KillWait=2',
                    f'MinJobAge={FINISHED_JOB_RECORD_S}',
                    f'{node_line} NodeAddr=127.0.0.1',
                    'PartitionName=debug Nodes=ALL Default=YES MaxTime=INFINITE State=UP',
                    '',
                )
            )
        )
        config = ('-f', str(self.slurm_conf))
        self._spawn(folder / 'slurmctld.out', 'slurmctld', '-D', '-c', *config, env=self.env)
        self._spawn(folder / 'slurmd.out', 'slurmd', '-D', *config, env=self.env)

        def idle() -> bool:
            return self.slurm('sinfo', '-h', '-o', '%T', check=False).strip() == 'idle'

        logs = self._logs('slurm/slurmctld.out', 'slurm/slurmctld.log', 'slurm/slurmd.out', 'slurm/slurmd.log')
        wait_for(idle, 30, 'the SLURM node did not become idle', logs)

    def _start_sshd(self) -> None:
        folder = self.root / 'ssh'
        folder.mkdir(mode=0o700)
        keygen = find_executable('ssh-keygen')
        for key in (folder / 'host_key', self.client_key):
            subprocess.run([keygen, '-q', '-t', 'ed25519', '-N', '', '-f', str(key)], check=True, timeout=30)
        shutil.copy(f'{self.client_key}.pub', folder / 'authorized_keys')
        config = folder / 'sshd_config'
        config.write_text(
            '\n'.join(
                (
                    f'Port {self.ssh_port}',
                    'ListenAddress 127.0.0.1',
                    f'HostKey {folder / "host_key"}',
                    f'PidFile {folder / "sshd.pid"}',
                    f'AuthorizedKeysFile {folder / "authorized_keys"}',
                    'PubkeyAuthentication yes',
                    'PasswordAuthentication no',
                    'KbdInteractiveAuthentication no',
                    'PermitRootLogin prohibit-password',
                    'UsePAM no',
                    'StrictModes no',
                    f'SetEnv SLURM_CONF={self.slurm_conf}',
                    'Subsystem sftp internal-sftp',
                    '',
                )
            )
        )
        Path('/run/sshd').mkdir(parents=True, exist_ok=True)  # sshd's privilege separation folder
        self._spawn(folder / 'sshd.out', 'sshd', '-D', '-f', str(config), '-E', str(folder / 'sshd.log'))

        def logs_in() -> bool:
            command = self.ssh_command('sinfo', '-h', '-o', '%T')
            result = subprocess.run(command, capture_output=True, text=True, timeout=15, check=False)
            return result.returncode == 0 and result.stdout.strip() == 'idle'

        wait_for(logs_in, 20, 'key login over SSH did not reach SLURM', self._logs('ssh/sshd.out', 'ssh/sshd.log'))
