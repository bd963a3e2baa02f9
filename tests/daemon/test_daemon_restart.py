"""The daemon of `aiida-glassceramic demo`: started if it is not running, restarted if it started before the package
last changed (its workers import the package once, so they would go on running the earlier code)."""

from __future__ import annotations

import os
from pathlib import Path

from aiida_glassceramic.cli import package_changed, start_daemon


def circus_pid(client) -> str:
    return Path(client.circus_pid_file).read_text().strip()


def started_at(client, seconds: float) -> None:
    """Date the daemon's start (its circus PID file) to ``seconds`` since the epoch."""
    os.utime(client.circus_pid_file, (seconds, seconds))


def test_daemon_older_than_the_package_is_restarted(started_daemon_client):
    client = started_daemon_client
    before = circus_pid(client)
    started_at(client, package_changed() + 60)
    start_daemon()
    assert client.is_daemon_running
    assert circus_pid(client) == before, 'a daemon newer than the package is kept'

    started_at(client, package_changed() - 60)
    start_daemon()
    assert client.is_daemon_running
    assert circus_pid(client) != before, 'a daemon older than the package is restarted'
    assert Path(client.circus_pid_file).stat().st_mtime > package_changed()
