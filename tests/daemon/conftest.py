"""Fixtures of the daemon tests."""

import pytest

from tests.daemon.helpers import allow_slow_daemon_calls


@pytest.fixture(scope='session', autouse=True)
def slow_daemon_calls_allowed(aiida_profile):
    """Longer circus timeouts for the session's daemon client (created after this fixture)."""
    allow_slow_daemon_calls(aiida_profile)
