"""A throwaway PostgreSQL server: ``initdb`` + ``pg_ctl`` on a free loopback port, in a temp folder.

``initdb`` refuses to run as root, so under root (CI) the server runs as the unprivileged
``postgres`` user, in a folder that user owns (pytest's own temporary folders are 0700 under
root's). Used by the deployment tests and by ``bench/workers_bench.py``.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")


@dataclass(frozen=True)
class PostgresServer:
    port: int

    def url(self, database: str) -> str:
        # SQLAlchemy 2.1 would open a bare postgresql:// URL with psycopg 3.
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        """A new empty database; its SQLAlchemy URL."""
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)


def missing_binaries() -> list[str]:
    """The server binaries that are not on PATH."""
    return [name for name in SERVER_BINARIES if shutil.which(name) is None]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@contextmanager
def throwaway_postgres() -> Iterator[PostgresServer]:
    """Start a cluster, yield it, then stop it and delete its folder."""
    root = Path(tempfile.mkdtemp(prefix="silver-pg-"))
    run_as: list[str] = []
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ["runuser", "-u", "postgres", "--"]
    data, port = root / "data", _free_port()
    try:
        _run([*run_as, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"])
        # fsync off (-F): a throwaway cluster trades durability for speed.
        options = f"-p {port} -h 127.0.0.1 -k {root} -F -c max_connections=200"
        log = str(root / "server.log")
        _run([*run_as, "pg_ctl", "-D", str(data), "-o", options, "-l", log, "-w", "start"])
        yield PostgresServer(port)
    finally:
        if (data / "postmaster.pid").exists():
            _run([*run_as, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)
