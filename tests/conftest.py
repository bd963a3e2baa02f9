"""Test fixtures: a temporary AiiDA profile, SQLite + ZeroMQ by default or PostgreSQL + RabbitMQ.

``pytest --aiida-backend=psql`` runs the same tests on a PostgreSQL (127.0.0.1:5432) + RabbitMQ (127.0.0.1:5672)
profile. The profile and its configuration folder live in pytest's temporary directory, never in ``~/.aiida``:
``AIIDA_PATH`` points to a fresh folder before anything imports aiida (an import alone creates its configuration
folder).
"""

from __future__ import annotations

import atexit
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ['AIIDA_PATH'] = tempfile.mkdtemp(prefix='glassceramic-tests-aiida-')
atexit.register(shutil.rmtree, os.environ['AIIDA_PATH'], ignore_errors=True)

import pytest  # noqa: E402
from hypothesis import HealthCheck, settings  # noqa: E402

from tests.services import POSTGRES, RABBITMQ, create_database, drop_database  # noqa: E402

pytest_plugins = ['aiida.tools.pytest_fixtures']

# a bounded number of examples in the normal test command; derandomised (a fixed seed) in CI
settings.register_profile(
    'glassceramic',
    max_examples=60,
    deadline=None,
    derandomize=bool(os.environ.get('CI')),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    print_blob=True,
)
settings.load_profile('glassceramic')

BIN = Path(sys.executable).parent
CODE_PREPEND = f'export LD_LIBRARY_PATH={BIN.parent / "lib"}:$LD_LIBRARY_PATH\nexport OMP_NUM_THREADS=1'
PACKAGE_CODES = {
    'glassceramic-train': 'glassceramic.train',
    'glassceramic-tblite': 'glassceramic.tblite',
    'glassceramic-chgnet': 'glassceramic.chgnet',
    'glassceramic-sevennet': 'glassceramic.sevennet',
    'glassceramic-lmp': 'lammps.raw',
}

BACKENDS = {
    'sqlite': ('core.sqlite_dos', 'core.zeromq'),
    'psql': ('core.psql_dos', 'core.rabbitmq'),
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        '--aiida-backend',
        choices=sorted(BACKENDS),
        default=os.environ.get('AIIDA_TEST_BACKEND', 'sqlite'),
        help='AiiDA profile for the tests: sqlite (SQLite + ZeroMQ) or psql (PostgreSQL + RabbitMQ)',
    )


def pytest_report_header(config: pytest.Config) -> str:
    storage, broker = BACKENDS[config.getoption('--aiida-backend')]
    return f'AiiDA test profile: storage {storage}, broker {broker}'


AIIDA_FIXTURES = {
    'aiida_profile',
    'aiida_profile_clean',
    'aiida_localhost',
    'aiida_computer',
    'aiida_code',
    'aiida_code_installed',
    'started_daemon_client',
    'submit_and_await',
}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test that uses AiiDA (its module imports aiida, or it asks for a profile, computer, code or daemon
    fixture) so that ``-m aiida`` selects them for the second profile; aiida-core's autouse fixtures do not count."""
    for item in items:
        if _imports_aiida(item.module) or AIIDA_FIXTURES & _requested_fixtures(item):
            item.add_marker(pytest.mark.aiida)


def _imports_aiida(module) -> bool:
    return any(getattr(value, '__name__', '').split('.')[0] == 'aiida' for value in vars(module).values())


def _requested_fixtures(item: pytest.Item) -> set[str]:
    """The fixtures a test asks for, directly or through other fixtures, autouse fixtures left out."""
    info = getattr(item, '_fixtureinfo', None)
    if info is None:
        return set()
    seen, pending = set(), list(info.argnames)
    while pending:
        name = pending.pop()
        if name not in seen:
            seen.add(name)
            for definition in info.name2fixturedefs.get(name, ()):
                pending.extend(definition.argnames)
    return seen


@pytest.fixture(scope='session')
def aiida_profile(request, aiida_config, aiida_profile_factory) -> Iterator:
    """The session's AiiDA profile, with a broker so that the daemon works (overrides aiida-core's fixture)."""
    storage, broker = BACKENDS[request.config.getoption('--aiida-backend')]
    if storage == 'core.sqlite_dos':
        with aiida_profile_factory(aiida_config, broker_backend=broker) as profile:
            profile.set_option('daemon.timeout', 60)
            yield profile
        return

    name = f'glassceramic_test_{uuid.uuid4().hex[:12]}'
    storage_config = create_database(name)
    storage_config['repository_uri'] = (request.config._tmp_path_factory.mktemp('repository')).as_uri()
    broker_config = {
        'broker_protocol': 'amqp',
        'broker_username': 'guest',
        'broker_password': 'guest',
        'broker_host': RABBITMQ[0],
        'broker_port': RABBITMQ[1],
        'broker_virtual_host': '',
    }
    try:
        with aiida_profile_factory(
            aiida_config,
            storage_backend=storage,
            storage_config=storage_config,
            broker_backend=broker,
            broker_config=broker_config,
        ) as profile:
            profile.set_option('warnings.rabbitmq_version', False)
            profile.set_option('daemon.timeout', 60)
            yield profile
    finally:
        _close_storage()
        drop_database(name)


def _close_storage() -> None:
    from aiida.manage import get_manager

    get_manager().reset_profile()


@pytest.fixture
def package_code(aiida_code_installed) -> Callable:
    """Factory: the code on localhost of one of the package's console scripts (``PACKAGE_CODES``), labelled after
    it unless ``label`` is given."""

    def factory(executable: str, label: str | None = None):
        return aiida_code_installed(
            label=label or executable,
            filepath_executable=str(BIN / executable),
            default_calc_job_plugin=PACKAGE_CODES[executable],
            prepend_text=CODE_PREPEND,
        )

    return factory


@pytest.fixture
def train_code(package_code):
    return package_code('glassceramic-train')


@pytest.fixture
def tblite_code(package_code):
    return package_code('glassceramic-tblite')


@pytest.fixture
def nnp_code(package_code):
    """The ``glassceramic-lmp`` driver as a ``lammps.raw`` code."""
    return package_code('glassceramic-lmp')


@pytest.fixture(scope='session')
def services_address() -> dict[str, tuple[str, int]]:
    return {'postgres': POSTGRES, 'rabbitmq': RABBITMQ}


@pytest.fixture(autouse=True)
def _work_in_tmp_path(tmp_path, monkeypatch) -> None:
    """Run each test in its own folder, so that dry runs and output files never land in the checkout."""
    monkeypatch.chdir(tmp_path)
