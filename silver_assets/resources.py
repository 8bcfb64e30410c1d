"""Dagster resources shared by every domain: the project settings and the DuckDB session."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_duckdb import DuckDBResource

from silver_assets.audit import AuditLog
from silver_assets.settings import PATH_FIELDS, Settings
from silver_assets.snapshots import SnapshotStore


class SilverLakeResource(dg.ConfigurableResource):
    """Every setting of README: Configuration (locations, limits, alerting), as resource config.

    The fields mirror :class:`Settings` one to one; paths travel as strings.
    """

    lake_root: str
    state_path: str
    snapshot_root: str
    audit_root: str
    config_dir: str
    max_tickers: int = 5
    iv_rank_lookback_days: int = 180
    duckdb_threads: int = 4
    duckdb_memory_limit: str = "2GB"
    alert_webhook_url: str | None = None
    stale_after_minutes: int = 120
    sensor_interval_seconds: int = 30
    ui_base_url: str = "http://127.0.0.1:3000"

    @classmethod
    def from_settings(cls, settings: Settings) -> SilverLakeResource:
        values: dict[str, Any] = dataclasses.asdict(settings)
        config: dict[str, Any] = {
            k: str(v) if isinstance(v, Path) else v for k, v in values.items()
        }
        return cls(**config)

    @property
    def settings(self) -> Settings:
        values: dict[str, Any] = {
            field.name: getattr(self, field.name) for field in dataclasses.fields(Settings)
        }
        typed: dict[str, Any] = {k: Path(v) if k in PATH_FIELDS else v for k, v in values.items()}
        return Settings(**typed)

    @property
    def store(self) -> SnapshotStore:
        return SnapshotStore(Path(self.snapshot_root))

    @property
    def audit(self) -> AuditLog:
        return AuditLog(Path(self.audit_root))


def duckdb_resource(settings: Settings) -> DuckDBResource:
    """An in-memory DuckDB per step: nothing to lock, so readers are never blocked."""
    return DuckDBResource(
        database=":memory:",
        connection_config={
            "threads": settings.duckdb_threads,
            "memory_limit": settings.duckdb_memory_limit,
        },
    )


def default_resources(settings: Settings | None = None) -> dict[str, object]:
    """The resources every job needs, built from one settings object."""
    settings = settings or Settings.from_env()
    return {
        "silver": SilverLakeResource.from_settings(settings),
        "duckdb": duckdb_resource(settings),
    }
