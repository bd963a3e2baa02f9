"""Helpers of the daemon tests: stop and restart the daemon around a running process, with bounded waits."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

DAEMON_TIMEOUT = 60  # seconds for a circus call (stopping waits for the workers' graceful shutdown)
KEEP_ALIVE_INTERVAL = 2.0  # seconds between re-declarations, well below kiwipy's 10 s test-queue expiry


def wait_for(condition: Callable[[], bool], timeout: float, what: str, log: Callable[[], str] = str) -> None:
    """Poll ``condition`` every 0.2 s; raise :class:`TimeoutError` saying ``what`` failed after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError(f'{what} within {timeout:.0f} s\n{log()}')
        time.sleep(0.2)


def allow_slow_daemon_calls(profile) -> None:
    """Give circus calls of ``profile`` :data:`DAEMON_TIMEOUT` seconds (default 20 s): a worker that stops while it
    runs processes shuts down gracefully, which on a loaded machine can take longer. Affects daemon clients created
    afterwards, e.g. the session's ``daemon_client`` fixture."""
    from aiida.manage import get_config

    get_config().set_option('daemon.timeout', DAEMON_TIMEOUT, scope=profile.name)


@contextmanager
def launch_queue_kept_alive(profile) -> Iterator[None]:
    """Keep a test profile's RabbitMQ launch queue (and the tasks in it) alive while no daemon worker consumes it.

    On a test profile kiwipy declares the launch queue non-durable with ``x-expires`` of 10 s, so a daemon that stays
    down longer than that would lose its process tasks; production profiles declare it durable without expiry.
    Re-declaring the queue with the same arguments renews its lease without touching the tasks. Does nothing for
    other brokers or profiles.
    """
    if profile.process_control_backend != 'core.rabbitmq' or not profile.is_test_profile:
        yield
        return

    import aio_pika
    from aiida.brokers.rabbitmq.utils import get_launch_queue_name
    from aiida.manage import get_manager
    from kiwipy.rmq import defaults

    url = get_manager().get_broker().get_url()
    name = get_launch_queue_name(f'aiida-{profile.uuid}')
    arguments = {'x-message-ttl': defaults.TASK_MESSAGE_TTL, 'x-expires': defaults.TEST_QUEUE_EXPIRES}
    stop = threading.Event()
    errors: list[BaseException] = []

    async def redeclare() -> None:
        connection = await aio_pika.connect(url, timeout=10)
        async with connection:
            channel = await connection.channel()
            while not stop.is_set():
                await channel.declare_queue(name, durable=False, arguments=arguments)
                await asyncio.sleep(KEEP_ALIVE_INTERVAL)

    def run() -> None:
        try:
            asyncio.run(redeclare())
        except BaseException as error:  # reported in the test's thread below
            errors.append(error)

    thread = threading.Thread(target=run, name='launch-queue-keep-alive', daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=KEEP_ALIVE_INTERVAL + 15)
    if errors:
        raise RuntimeError(f'could not keep the launch queue {name} alive: {errors[0]!r}') from errors[0]


@contextmanager
def daemon_down(daemon_client) -> Iterator[None]:
    """Stop the daemon on entry and start it again on exit, keeping the process tasks queued in between."""
    with launch_queue_kept_alive(daemon_client.profile):
        daemon_client.stop_daemon(wait=True, timeout=DAEMON_TIMEOUT)
        wait_for(lambda: not daemon_client.is_daemon_running, DAEMON_TIMEOUT, 'the daemon did not stop')
        try:
            yield
        finally:
            daemon_client.start_daemon(timeout=DAEMON_TIMEOUT)
            wait_for(lambda: daemon_client.is_daemon_running, DAEMON_TIMEOUT, 'the daemon did not start')
