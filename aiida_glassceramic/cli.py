"""``aiida-glassceramic``: set up a profile with the codes of the pipeline and run the demonstration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import click
from aiida.cmdline.params.types import LabelStringType

BIN = Path(sys.executable).parent
DAEMON_TIMEOUT = 120  # seconds for a daemon start or stop: workers finish their current step first
CODES = {
    'glassceramic-lmp': ('lammps.raw', 'LAMMPS driven by the neural network potential'),
    'glassceramic-train': ('glassceramic.train', 'training of the neural network potential'),
    'glassceramic-tblite': ('glassceramic.tblite', 'GFN1-xTB reference engine (tblite)'),
    'glassceramic-chgnet': ('glassceramic.chgnet', 'universal-potential reference engine (CHGNet, trained on PBE)'),
    'glassceramic-sevennet': ('glassceramic.sevennet', 'universal-potential reference engine (SevenNet-0, PBE)'),
}
EMBEDDED_ENGINES = {  # engine -> code on localhost
    'tblite': 'glassceramic-tblite',
    'chgnet': 'glassceramic-chgnet',
    'sevennet': 'glassceramic-sevennet',
}
STUDY = 'GlassCeramicWorkChain'
PROFILE_NAME = LabelStringType()  # the names `verdi profile` accepts: letters, digits, `_`, `-`, `.`


@click.group()
def main() -> None:
    """Machine-learning molecular dynamics of glass-ceramic solid electrolytes with AiiDA."""


@main.command()
@click.option(
    '--profile',
    'profile_name',
    type=PROFILE_NAME,
    default='glassceramic',
    show_default=True,
    help='Name of the profile.',
)
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
        status = subprocess.run(command, check=False).returncode
        if status != 0:
            raise click.ClickException(f'`{" ".join(command)}` failed (exit status {status}); see its message above')
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


OVERWRITE = click.option('--overwrite', is_flag=True, help='Replace files that exist already.')


@main.command()
@click.option(
    '--profile',
    'profile_name',
    type=PROFILE_NAME,
    default='glassceramic',
    show_default=True,
    help='Profile (made if missing).',
)
@click.option('--protocol', default='demo', show_default=True, type=click.Choice(['demo', 'fast', 'paper']))
@click.option('--output', type=click.Path(path_type=Path), default=None, help='Report folder [report-<PK>].')
@OVERWRITE
@click.option(
    '--timeout', type=click.IntRange(min=1), default=3600, show_default=True, help='Seconds to wait for the workflow.'
)
@click.option(
    '--reference-engine',
    type=click.Choice(sorted(EMBEDDED_ENGINES)),
    default=None,
    help="Reference engine on this computer [the protocol's; tblite where the protocol names VASP].",
)
@click.option(
    '--caching/--no-caching',
    default=None,
    help='Switch AiiDA caching of the profile on (a rerun reuses every finished calculation) or off [unchanged].',
)
def demo(
    *,
    profile_name: str,
    protocol: str,
    output: Path | None,
    overwrite: bool,
    timeout: int,
    reference_engine: str | None,
    caching: bool | None,
) -> None:
    """Submit the whole study on the bundled beta-Li3PS4 to the daemon, follow it and write its report."""
    import time

    from aiida import orm
    from aiida.engine import submit

    from .structures import read_crystal
    from .workflows.glassceramic import GlassCeramicWorkChain

    if output is not None:
        check_report_folder(output, overwrite)
    profile = ensure_profile(profile_name, postgres=False)
    if caching is not None:
        set_caching(profile, caching)
    computer = ensure_localhost()
    if reference_engine is None:
        reference_engine = GlassCeramicWorkChain.get_protocol_inputs(protocol)['reference_engine']
        reference_engine = reference_engine if reference_engine in EMBEDDED_ENGINES else 'tblite'
    codes = {
        'reference': ensure_code(EMBEDDED_ENGINES[reference_engine], computer),
        'train': ensure_code('glassceramic-train', computer),
        'lammps': ensure_code('glassceramic-lmp', computer),
    }
    builder = GlassCeramicWorkChain.get_builder_from_protocol(
        codes,
        orm.StructureData(ase=read_crystal('beta')),
        protocol=protocol,
        overrides={'reference_engine': reference_engine},
    )
    start_daemon()
    started = time.monotonic()
    node = submit(builder)
    click.echo(f'submitted {node.process_label}<{node.pk}> to the daemon ({protocol} protocol, {reference_engine})')
    follow(node, timeout)
    if not node.is_finished_ok:
        message = f'{node.process_label}<{node.pk}> ended with exit status {node.exit_status}: {node.exit_message}'
        raise click.ClickException(message)
    calculations = [child for child in node.called_descendants if isinstance(child, orm.CalcJobNode)]
    cached = sum(child.base.caching.is_created_from_cache for child in calculations)
    click.echo(
        f'{time.monotonic() - started:.0f} s from submission to the end; '
        f'{len(calculations)} calculations, {cached} of them taken from the cache'
    )
    for stage, seconds in stage_timings(node):
        click.echo(f'  {seconds:6.0f} s  {stage}')
    click.echo(f'report: {write_report_folder(node, output or Path(f"report-{node.pk}"), overwrite)}')


def set_caching(profile, enabled: bool) -> None:
    """Switch caching of ``profile`` on or off for every process; a running daemon restarts to take it up."""
    from aiida.engine.daemon.client import get_daemon_client
    from aiida.manage import get_config

    config = get_config()
    if config.get_option('caching.default_enabled', scope=profile.name) == enabled:
        return
    config.set_option('caching.default_enabled', enabled, scope=profile.name)
    config.store()
    client = get_daemon_client(profile.name)
    if client.is_daemon_running:
        restart_daemon(client)
    click.echo(f'caching {"on" if enabled else "off"} for profile `{profile.name}`')


@main.command()
@click.argument('pk', type=int)
@click.option('--profile', 'profile_name', default=None, help='Profile [default profile].')
@click.option('--output', type=click.Path(path_type=Path), default=None, help='Report folder [report-<PK>].')
@OVERWRITE
def report(pk: int, profile_name: str | None, output: Path | None, overwrite: bool) -> None:
    """Write the plots and the summary of a finished GlassCeramicWorkChain."""
    output = output or Path(f'report-{pk}')
    check_report_folder(output, overwrite)
    use_profile(profile_name)
    node = load_study(pk)
    click.echo(f'report: {write_report_folder(node, output, overwrite)}')


@main.group()
def potential() -> None:
    """Trained potentials."""


@potential.command('export')
@click.argument('pk', type=int)
@click.argument('path', type=click.Path(path_type=Path))
@click.option('--profile', 'profile_name', default=None, help='Profile [default profile].')
@click.option(
    '--format',
    'file_format',
    type=click.Choice(['torch', 'lammps']),
    default='torch',
    show_default=True,
    help='torch: the model file (potentials.io.load_potential); lammps: the file of pair_style glassceramic.',
)
@OVERWRITE
def potential_export(pk: int, path: Path, profile_name: str | None, file_format: str, overwrite: bool) -> None:
    """Write the potential node PK to PATH as its model file or as the file of LAMMPS' pair_style glassceramic."""
    from .data import NNPotentialData
    from .potentials.pair_style_file import PAIR_STYLE_FILENAME

    use_profile(profile_name)
    node = load_pk(pk)
    if not isinstance(node, NNPotentialData):
        raise click.BadParameter(
            f'node {pk} ({type(node).__name__}) is not a potential; give the PK of an NNPotentialData '
            '(e.g. the `potential` output of a training)',
            param_hint='PK',
        )
    if path.is_dir():
        path = path / (PAIR_STYLE_FILENAME if file_format == 'lammps' else node.filename)
    if not path.parent.is_dir():
        raise click.BadParameter(f'`{path}`: folder `{path.parent}` does not exist; create it first', param_hint='PATH')
    if path.exists() and not overwrite:
        raise click.BadParameter(f'`{path}` exists already; give another path or add --overwrite', param_hint='PATH')
    try:
        written = node.export_pair_style(path) if file_format == 'lammps' else node.export(path)
    except OSError as error:
        raise click.ClickException(f'cannot write `{path}`: {error.strerror or error}') from None
    click.echo(f'written: {written}')


def use_profile(name: str | None) -> None:
    """Load the profile ``name`` (None: the default one); a missing one is a user error naming --profile."""
    from aiida import load_profile
    from aiida.common.exceptions import ConfigurationError

    try:
        load_profile(name, allow_switch=True)
    except ConfigurationError as error:
        hint = 'give one of `verdi profile list` or create it with `aiida-glassceramic setup --profile NAME`'
        raise click.BadParameter(f'{error}; {hint}', param_hint='--profile') from None


def load_pk(pk: int):
    """The node ``pk`` of the loaded profile; a missing one is a user error naming PK."""
    from aiida import orm
    from aiida.common.exceptions import NotExistent

    try:
        return orm.load_node(pk)
    except NotExistent:
        raise click.BadParameter(f'no node with PK {pk} in this profile', param_hint='PK') from None


def load_study(pk: int):
    """The node ``pk`` if it is a GlassCeramicWorkChain that finished ok; otherwise a user error naming PK."""
    from aiida import orm

    node = load_pk(pk)
    if not isinstance(node, orm.WorkChainNode) or node.process_label != STUDY:
        kind = node.process_label if isinstance(node, orm.ProcessNode) else type(node).__name__
        raise click.BadParameter(
            f'node {pk} ({kind}) is not a {STUDY}; give the PK of a study (see verdi process list -a)',
            param_hint='PK',
        )
    if not node.is_terminated:
        raise click.BadParameter(
            f'{STUDY}<{pk}> is {node.process_state.value}; wait until it has finished (verdi process status {pk})',
            param_hint='PK',
        )
    if not node.is_finished_ok:
        ending = f'exit status {node.exit_status}' if node.is_finished else node.process_state.value
        raise click.BadParameter(
            f'{STUDY}<{pk}> did not finish ok ({ending}); a report needs a finished study '
            f'(see why: verdi process report {pk})',
            param_hint='PK',
        )
    return node


def check_report_folder(folder: Path, overwrite: bool) -> None:
    """Refuse a report folder in a missing folder, one that is a file, or one with files unless ``overwrite``."""
    if not folder.absolute().parent.is_dir():
        raise click.BadParameter(
            f'`{folder}`: folder `{folder.parent}` does not exist; create it first', param_hint='--output'
        )
    if folder.exists() and not folder.is_dir():
        raise click.BadParameter(f'`{folder}` is a file; give a folder', param_hint='--output')
    if folder.is_dir() and any(folder.iterdir()) and not overwrite:
        raise click.BadParameter(
            f'`{folder}` holds files already; give another folder or add --overwrite', param_hint='--output'
        )


def start_daemon(workers: int = 2) -> None:
    """Start the daemon of the loaded profile, or restart it if this package changed after it started: its workers
    import the package once, so they would go on running the earlier code."""
    from aiida.engine.daemon.client import get_daemon_client

    client = get_daemon_client()
    if not client.is_daemon_running:
        client.start_daemon(number_workers=workers, timeout=DAEMON_TIMEOUT)
    elif Path(client.circus_pid_file).stat().st_mtime < package_changed():
        click.echo('aiida_glassceramic changed after the daemon started: restarting the daemon')
        restart_daemon(client, workers)


def restart_daemon(client, workers: int = 2) -> None:
    """Stop the daemon of ``client``, wait until its PID file is gone (the workers end their processes' steps
    first), then start it again."""
    import time

    client.stop_daemon(wait=True, timeout=DAEMON_TIMEOUT)
    deadline = time.monotonic() + DAEMON_TIMEOUT
    while client.is_daemon_running:
        if time.monotonic() > deadline:
            raise click.ClickException(f'the daemon of `{client.profile.name}` did not stop in {DAEMON_TIMEOUT} s')
        time.sleep(0.2)
    client.start_daemon(number_workers=workers, timeout=DAEMON_TIMEOUT)


def package_changed() -> float:
    """The latest modification time (epoch seconds) of the package's modules and protocol files."""
    files = Path(__file__).parent.rglob('*')
    return max(path.stat().st_mtime for path in files if path.suffix in ('.py', '.yaml'))


def follow(node, timeout: float, interval: float = 10.0) -> None:
    """Print the running steps of ``node`` until it terminates or ``timeout`` seconds pass."""
    import time

    start, last = time.monotonic(), ''
    while not node.is_terminated:
        if time.monotonic() - start > timeout:
            raise click.ClickException(f'{node.process_label}<{node.pk}> still running after {timeout} s')
        active = sorted({label or process for label, process in _active(node)})
        line = f'[{time.monotonic() - start:6.0f} s] running: {", ".join(active) or node.process_state.value}'
        if line.split('] ', 1)[1] != last:
            click.echo(line)
            last = line.split('] ', 1)[1]
        time.sleep(interval)
    click.echo(f'{node.process_label}<{node.pk}> {node.process_state.value}, exit status {node.exit_status}')


def stage_timings(node) -> list[tuple[str, float]]:
    """Wall seconds of each work chain ``node`` called (creation to last change, in order of creation; stages that ran
    side by side overlap), then of its calculation functions together as ``analysis``."""
    from aiida import orm

    from .provenance import stage_name

    def seconds(child) -> float:
        return (child.mtime - child.ctime).total_seconds()

    children = sorted(node.called, key=lambda child: child.ctime)
    stages = [(stage_name(child), seconds(child)) for child in children if isinstance(child, orm.WorkChainNode)]
    functions = [seconds(child) for child in children if isinstance(child, orm.CalcFunctionNode)]
    return [*stages, ('analysis', sum(functions))] if functions else stages


def _active(node) -> list[tuple[str, str]]:
    """(label, process label) of the calculations called by ``node``, at any depth, that are running or waiting."""
    from aiida import orm

    return [
        (child.label, child.process_label)
        for child in node.called_descendants
        if isinstance(child, orm.CalcJobNode) and not child.is_terminated
    ]


def write_report_folder(node, folder: Path, overwrite: bool) -> Path:
    """Write the report into a scratch folder beside ``folder`` and move its files there once all are written, so
    that a failure leaves no half-made report; returns the path of the HTML page."""
    import tempfile

    from .report import write_report

    check_report_folder(folder, overwrite)
    with tempfile.TemporaryDirectory(dir=folder.parent, prefix=f'.{folder.name}-') as scratch:
        page = write_report(node, scratch)
        folder.mkdir(exist_ok=True)
        for path in Path(scratch).iterdir():
            path.replace(folder / path.name)
    return folder / page.name
