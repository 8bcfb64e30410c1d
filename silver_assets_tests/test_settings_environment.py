"""Settings handed to a child process through the environment come back unchanged."""

from __future__ import annotations

from pathlib import Path

from silver_assets.settings import Settings


def test_environment_round_trips_through_from_env(tmp_path: Path, monkeypatch) -> None:
    settings = Settings(
        lake_root=tmp_path / "lake",
        state_path=tmp_path / "state.json",
        snapshot_root=tmp_path / "snapshots",
        audit_root=tmp_path / "logs",
        config_dir=tmp_path / "config",
        max_tickers=9,
        iv_rank_lookback_days=30,
        duckdb_threads=2,
        duckdb_memory_limit="1GB",
        alert_webhook_url="http://127.0.0.1:9/hook",
        stale_after_minutes=7,
        sensor_interval_seconds=11,
        ui_base_url="http://ui.example:3000",
    )
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env() == settings


def test_no_webhook_stays_none(tmp_path: Path, monkeypatch) -> None:
    settings = Settings(
        lake_root=tmp_path / "lake",
        state_path=tmp_path / "state.json",
        snapshot_root=tmp_path / "snapshots",
        audit_root=tmp_path / "logs",
        config_dir=tmp_path / "config",
    )
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().alert_webhook_url is None
