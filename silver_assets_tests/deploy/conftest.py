"""A throwaway PostgreSQL server for the deployment tests, and a DAGSTER_HOME pointing at it.

The session starts one cluster (``initdb`` + ``pg_ctl``) on a free loopback port in a temporary
folder and stops it at the end; each test gets its own fresh database. ``initdb`` refuses to run
as root, so under root (CI) the server runs as the unprivileged ``postgres`` user in a folder
that user owns. Without the server binaries the tests skip and name what is missing, unless
``SILVER_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns that into a failure.
"""

from __future__ import annotations

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.conftest import settings_env
from silver_assets_tests.test_webserver_e2e import _free_port

BIN = Path(sys.executable).parent
SERVER_BINARIES = ("initdb", "pg_ctl", "postgres")
REQUIRE_ENV = "SILVER_REQUIRE_POSTGRES"
DEPLOY_INSTANCE = PROJECT_ROOT / "deploy" / "dagster.yaml"


@dataclass(frozen=True)
class PostgresServer:
    port: int
    run_as: tuple[str, ...]

    def url(self, database: str) -> str:
        return f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str) -> str:
        import psycopg2

        connection = psycopg2.connect(host="127.0.0.1", port=self.port, user="postgres")
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute(f'CREATE DATABASE "{name}"')
        connection.close()
        return self.url(name)


def _run(command: list[str]) -> None:
    done = subprocess.run(command, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    missing = [name for name in SERVER_BINARIES if shutil.which(name) is None]
    if missing:
        reason = f"PostgreSQL server binaries not on PATH: {', '.join(missing)}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
        pytest.skip(reason)
    # pytest's own tmp folders are 0700 under root's; the server user needs one it owns.
    root = Path(tempfile.mkdtemp(prefix="silver-pg-"))
    run_as: tuple[str, ...] = ()
    if os.geteuid() == 0:
        user = pwd.getpwnam("postgres")
        os.chown(root, user.pw_uid, user.pw_gid)
        run_as = ("runuser", "-u", "postgres", "--")
    data, port = root / "data", _free_port()
    try:
        _run([*run_as, "initdb", "-D", str(data), "-U", "postgres", "--auth=trust", "--no-sync"])
        # fsync off: a throwaway cluster trades durability for speed.
        options = f"-p {port} -h 127.0.0.1 -k {root} -F -c max_connections=200"
        _run(
            [*run_as, "pg_ctl", "-D", str(data), "-o", options, "-l", str(root / "log"), "-w"]
            + ["start"]
        )
        yield PostgresServer(port, run_as)
    finally:
        if (data / "postmaster.pid").exists():
            _run([*run_as, "pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop"])
        shutil.rmtree(root, ignore_errors=True)


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> str:
    """A fresh, empty database on the session's server."""
    return postgres_server.create_database(f"silver_{os.getpid()}_{next(_databases)}")


@pytest.fixture
def postgres_home(tmp_path: Path) -> Path:
    """A DAGSTER_HOME holding deploy/dagster.yaml (Postgres storage, queued runs)."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    shutil.copy(DEPLOY_INSTANCE, home / "dagster.yaml")
    return home


def deploy_env(settings: Settings, home: Path, postgres_url: str, **extra: str) -> dict[str, str]:
    """The environment of a process on the Postgres deployment."""
    return {
        **os.environ,
        **settings_env(settings),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": postgres_url,
        **extra,
    }


def silver_assets(*args: str, env: dict[str, str], timeout: float = 600):
    """Run the real CLI; the completed process."""
    return subprocess.run(
        [str(BIN / "silver-assets"), *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
