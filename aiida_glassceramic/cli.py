"""``aiida-glassceramic``: set up a profile with the codes of the pipeline and run the demonstration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click

BIN = Path(sys.executable).parent
CODES = {
    'glassceramic-lmp': ('lammps.raw', 'LAMMPS driven by the neural network potential'),
    'glassceramic-train': ('glassceramic.train', 'training of the neural network potential'),
    'glassceramic-tblite': ('glassceramic.tblite', 'GFN1-xTB reference engine (tblite)'),
}


@click.group()
def main() -> None:
    """Machine-learning molecular dynamics of glass-ceramic solid electrolytes with AiiDA."""


@main.command()
@click.option('--profile', 'profile_name', default='glassceramic', show_default=True, help='Name of the profile.')
@click.option('--postgres', is_flag=True, help='PostgreSQL storage and RabbitMQ instead of SQLite and ZeroMQ.')
def setup(profile_name: str, postgres: bool) -> None:
    """Create the profile, the localhost computer and the codes if missing (safe to run again)."""
    profile = ensure_profile(profile_name, postgres)
    computer = ensure_localhost()
    for label in CODES:
        ensure_code(label, computer)
    click.echo(f'profile `{profile.name}` ready: computer `{computer.label}`, codes {", ".join(CODES)}')


def ensure_profile(name: str, postgres: bool):
    """Load profile ``name``, creating it with ``verdi presto`` if it does not exist."""
    from aiida import load_profile
    from aiida.manage.configuration import get_config

    if name not in get_config(create=True).profile_names:
        command = [str(BIN / 'verdi'), 'presto', '--profile-name', name]
        command += ['--use-postgres'] if postgres else ['--use-zeromq']
        subprocess.run(command, check=True)
        from aiida.manage.configuration import reset_config

        reset_config()
    return load_profile(name, allow_switch=True)


def ensure_localhost():
    """The ``localhost`` computer (``core.local`` transport, ``core.direct`` scheduler)."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_computer('localhost')
    except NotExistent:
        import tempfile

        computer = orm.Computer(
            label='localhost',
            hostname='localhost',
            transport_type='core.local',
            scheduler_type='core.direct',
            workdir=str(Path(tempfile.gettempdir()) / 'aiida_glassceramic_work'),
        ).store()
        computer.set_minimum_job_poll_interval(1.0)
        computer.configure()
        return computer


def ensure_code(label: str, computer):
    """An installed code for one of the package's console scripts, run with this environment's libraries."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_code(f'{label}@{computer.label}')
    except NotExistent:
        executable = shutil.which(label, path=str(BIN)) or str(BIN / label)
        plugin, description = CODES[label]
        code = orm.InstalledCode(
            label=label,
            computer=computer,
            filepath_executable=executable,
            default_calc_job_plugin=plugin,
            description=description,
            prepend_text=f'export LD_LIBRARY_PATH={BIN.parent / "lib"}:$LD_LIBRARY_PATH\nexport OMP_NUM_THREADS=1',
        )
        return code.store()
