"""One settings object for every location and limit (README: Configuration), from the environment.

Relative paths resolve against the project root (the folder holding ``pyproject.toml``), so the
pipeline, the CLI and the query resource agree on where things are, whatever the working directory.
The lake, the snapshots and the state file may also be ``s3://bucket/prefix`` URLs
(:mod:`silver_assets.storage`); the audit log and the config folder are always local.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from silver_assets.storage import Location, location

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def _path(env: str, default: str) -> Path:
    raw = Path(os.environ.get(env) or default).expanduser()
    return raw if raw.is_absolute() else PROJECT_ROOT / raw


def _location(env: str, default: str) -> Location:
    return location(os.environ.get(env) or default, base=PROJECT_ROOT)


def _int(env: str, default: int) -> int:
    raw = os.environ.get(env)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise ValueError(f"{env} must be an integer, got {raw!r}") from exc
    if value < 1:
        raise ValueError(f"{env} must be at least 1, got {value}")
    return value


PATH_FIELDS = frozenset({"lake_root", "state_path", "snapshot_root", "audit_root", "config_dir"})
# The path settings that may be s3:// URLs; the audit log and the config folder are local.
LOCATION_FIELDS = frozenset({"lake_root", "state_path", "snapshot_root"})


@dataclass(frozen=True)
class Settings:
    """Locations and limits. Build with :meth:`from_env`; tests pass explicit paths."""

    lake_root: Location
    state_path: Location
    snapshot_root: Location
    audit_root: Path
    config_dir: Path
    max_tickers: int = 5
    iv_rank_lookback_days: int = 180
    duckdb_threads: int = 4
    duckdb_memory_limit: str = "2GB"
    alert_webhook_url: str | None = None
    stale_after_minutes: int = 120
    sensor_interval_seconds: int = 30
    ui_base_url: str = "http://127.0.0.1:3000"

    @classmethod
    def from_env(cls) -> Settings:
        return cls(
            lake_root=_location("SILVER_LAKE_ROOT", "data/silver"),
            state_path=_location("SILVER_STATE_PATH", "config/runtime/collect_data_state.json"),
            snapshot_root=_location("SILVER_SNAPSHOT_ROOT", "data/snapshots"),
            audit_root=_path("SILVER_AUDIT_ROOT", "logs"),
            config_dir=_path("SILVER_CONFIG_DIR", "config"),
            max_tickers=_int("SILVER_MAX_TICKERS", 5),
            iv_rank_lookback_days=_int("IV_RANK_LOOKBACK_DAYS", 180),
            duckdb_threads=_int("SILVER_DUCKDB_THREADS", 4),
            duckdb_memory_limit=os.environ.get("SILVER_DUCKDB_MEMORY_LIMIT") or "2GB",
            alert_webhook_url=os.environ.get("SILVER_ALERT_WEBHOOK_URL") or None,
            stale_after_minutes=_int("SILVER_STALE_AFTER_MINUTES", 120),
            sensor_interval_seconds=_int("SILVER_SENSOR_INTERVAL_SECONDS", 30),
            ui_base_url=os.environ.get("SILVER_UI_BASE_URL") or "http://127.0.0.1:3000",
        )

    def environment(self) -> dict[str, str]:
        """The environment variables that make :meth:`from_env` return these locations and
        limits, for a child process (a server, a worker) that must see the same settings."""
        values = {
            "SILVER_LAKE_ROOT": self.lake_root,
            "SILVER_STATE_PATH": self.state_path,
            "SILVER_SNAPSHOT_ROOT": self.snapshot_root,
            "SILVER_AUDIT_ROOT": self.audit_root,
            "SILVER_CONFIG_DIR": self.config_dir,
            "SILVER_MAX_TICKERS": self.max_tickers,
            "IV_RANK_LOOKBACK_DAYS": self.iv_rank_lookback_days,
            "SILVER_DUCKDB_THREADS": self.duckdb_threads,
            "SILVER_DUCKDB_MEMORY_LIMIT": self.duckdb_memory_limit,
            "SILVER_ALERT_WEBHOOK_URL": self.alert_webhook_url or "",
            "SILVER_STALE_AFTER_MINUTES": self.stale_after_minutes,
            "SILVER_SENSOR_INTERVAL_SECONDS": self.sensor_interval_seconds,
            "SILVER_UI_BASE_URL": self.ui_base_url,
        }
        return {name: str(value) for name, value in values.items()}

    @property
    def alerts_log(self) -> Path:
        return self.audit_root / "alerts" / "alerts.log"
