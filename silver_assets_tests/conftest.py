"""Shared fixtures: a small SYNTHETIC demo lake, and the same lake fully materialized.

Every path lives under pytest's temporary directory, and the environment is pointed at it, so
tests never touch the project's own data/, logs/ or dagster_home/.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from silver_assets.automation.runs import DatasetRun, run_dataset
from silver_assets.definitions import build_defs
from silver_assets.lake.generator import generate_lake
from silver_assets.partitions import anchor_keys
from silver_assets.settings import PROJECT_ROOT, Settings
from silver_assets_tests.s3 import moto_s3

# The virtualenv's scripts: silver-assets, dg, dagster.
BIN = Path(sys.executable).parent

DEMO_DAYS = 12
DEMO_TICKERS = ("SPY", "QQQ", "IWM", "GLD")


def run_command(
    program: str, *args: str, env: dict[str, str], stdin: str | None = None, timeout: float = 600
) -> subprocess.CompletedProcess[str]:
    """Run one of the virtualenv's commands from the project root; the completed process."""
    return subprocess.run(
        [str(BIN / program), *args],
        env=env,
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        input=stdin,
        timeout=timeout,
    )


def make_settings(root: Path, **overrides) -> Settings:
    """Settings whose every location is under ``root``."""
    values = {
        "lake_root": root / "silver",
        "state_path": root / "state" / "collect_data_state.json",
        "snapshot_root": root / "snapshots",
        "audit_root": root / "logs",
        "config_dir": PROJECT_ROOT / "config",
    }
    return Settings(**{**values, **overrides})


def build_lake(root: Path, days: int = DEMO_DAYS, **overrides) -> Settings:
    settings = make_settings(root, **overrides)
    generate_lake(
        settings.lake_root,
        days=days,
        seed=11,
        tickers=DEMO_TICKERS,
        state_path=settings.state_path,
        progress=False,
    )
    return settings


def materialize_all(settings: Settings, instance: dg.DagsterInstance) -> dict[str, DatasetRun]:
    defs = build_defs(settings)
    return {
        dataset: run_dataset(defs, instance, dataset, anchor_keys(dataset, settings, history=True))
        for dataset in ("options", "macro", "gpr")
    }


@dataclass
class Materialized:
    settings: Settings
    instance: dg.DagsterInstance
    runs: dict[str, DatasetRun]


@pytest.fixture(scope="session")
def materialized(tmp_path_factory) -> Materialized:
    """A 12-day, 4-ticker demo lake with every anchor materialized on an ephemeral instance."""
    settings = build_lake(tmp_path_factory.mktemp("materialized"))
    instance = dg.DagsterInstance.ephemeral()
    runs = materialize_all(settings, instance)
    assert all(run.success for run in runs.values()), runs
    return Materialized(settings, instance, runs)


@pytest.fixture
def use_settings(monkeypatch):
    """Point the environment at a settings object (for code that reads Settings.from_env)."""

    def apply(settings: Settings) -> Settings:
        for key, value in settings.environment().items():
            monkeypatch.setenv(key, value)
        return settings

    return apply


@pytest.fixture(scope="session")
def s3_env() -> Iterator[dict[str, str]]:
    """moto's S3 server on 127.0.0.1 for the session; the AWS variables point at it."""
    with moto_s3() as env:
        yield env
