"""Dagster resources shared by every domain: the project settings and the DuckDB session."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from dagster_duckdb import DuckDBResource

from silver_assets.audit import AuditLog
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore


class SilverLakeResource(dg.ConfigurableResource):
    """Where the lake, state file, snapshots and audit log live (SPEC §6)."""

    lake_root: str
    state_path: str
    snapshot_root: str
    audit_root: str
    config_dir: str
    iv_rank_lookback_days: int = 180
    max_tickers: int = 5

    @classmethod
    def from_settings(cls, settings: Settings) -> SilverLakeResource:
        return cls(
            lake_root=str(settings.lake_root),
            state_path=str(settings.state_path),
            snapshot_root=str(settings.snapshot_root),
            audit_root=str(settings.audit_root),
            config_dir=str(settings.config_dir),
            iv_rank_lookback_days=settings.iv_rank_lookback_days,
            max_tickers=settings.max_tickers,
        )

    @property
    def settings(self) -> Settings:
        return Settings(
            lake_root=Path(self.lake_root),
            state_path=Path(self.state_path),
            snapshot_root=Path(self.snapshot_root),
            audit_root=Path(self.audit_root),
            config_dir=Path(self.config_dir),
            iv_rank_lookback_days=self.iv_rank_lookback_days,
            max_tickers=self.max_tickers,
        )

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
