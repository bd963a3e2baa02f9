"""The PostgreSQL and RabbitMQ services of the production-like test profile.

``python -m tests.services`` exits 0 when both answer, 1 otherwise (used by the test command).
"""

from __future__ import annotations

import socket
import sys

POSTGRES = ('127.0.0.1', 5432)
RABBITMQ = ('127.0.0.1', 5672)


def answers(address: tuple[str, int], timeout: float = 2.0) -> bool:
    """Whether something accepts TCP connections at ``address``."""
    try:
        with socket.create_connection(address, timeout=timeout):
            return True
    except OSError:
        return False


def _admin_connection():
    import psycopg

    return psycopg.connect(host=POSTGRES[0], port=POSTGRES[1], user='postgres', dbname='postgres', autocommit=True)


def create_database(name: str) -> dict:
    """Create an empty database on the running PostgreSQL (trust authentication) and return its storage config."""
    from psycopg import sql

    with _admin_connection() as connection:
        connection.execute(sql.SQL('CREATE DATABASE {}').format(sql.Identifier(name)))
    return {
        'database_engine': 'postgresql_psycopg',
        'database_hostname': POSTGRES[0],
        'database_port': POSTGRES[1],
        'database_username': 'postgres',
        'database_password': '',
        'database_name': name,
    }


def drop_database(name: str) -> None:
    from psycopg import sql

    with _admin_connection() as connection:
        connection.execute(sql.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(sql.Identifier(name)))


if __name__ == '__main__':
    missing = [name for name, address in (('PostgreSQL', POSTGRES), ('RabbitMQ', RABBITMQ)) if not answers(address)]
    if missing:
        print(f'not answering: {", ".join(missing)}')
    sys.exit(1 if missing else 0)
