"""The deployment tests' PostgreSQL server, and a DAGSTER_HOME pointing at it.

The session starts one throwaway cluster (:mod:`.postgres`) and stops it at the end; each test
gets its own fresh database. Without the server binaries the tests skip and name what is
missing, unless ``SILVER_REQUIRE_POSTGRES=1`` (set by ``.ci/run``) turns that into a failure.
"""

from __future__ import annotations

import itertools
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.conftest import run_command
from silver_assets_tests.deploy.postgres import (
    PostgresServer,
    missing_binaries,
    throwaway_postgres,
)

REQUIRE_ENV = "SILVER_REQUIRE_POSTGRES"
DEPLOY_INSTANCE = PROJECT_ROOT / "deploy" / "dagster.yaml"


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    missing = missing_binaries()
    if missing:
        reason = f"PostgreSQL server binaries not on PATH: {', '.join(missing)}"
        if os.environ.get(REQUIRE_ENV) == "1":
            pytest.fail(f"{reason} ({REQUIRE_ENV}=1)")
        pytest.skip(reason)
    with throwaway_postgres() as server:
        yield server


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
        **settings.environment(),
        "DAGSTER_HOME": str(home),
        "DAGSTER_PG_URL": postgres_url,
        **extra,
    }


def silver_assets(*args: str, env: dict[str, str], timeout: float = 600):
    """Run the real CLI; the completed process."""
    return run_command("silver-assets", *args, env=env, timeout=timeout)


def open_instance(monkeypatch: pytest.MonkeyPatch, env: dict[str, str]) -> dg.DagsterInstance:
    """The instance of the processes started with ``env``, opened in this process."""
    for key in ("DAGSTER_HOME", "DAGSTER_PG_URL"):
        monkeypatch.setenv(key, env[key])
    return dg.DagsterInstance.get()
