"""The one settings source: environment names, defaults, paths, errors, and the resources."""

from __future__ import annotations

from pathlib import Path

import pytest

from silver_assets.definitions import build_defs
from silver_assets.query.resource import SilverQueryResource
from silver_assets.resources import SilverLakeResource
from silver_assets.settings import PROJECT_ROOT, Settings, current_settings
from silver_assets_tests.conftest import make_settings


def test_environment_names_defaults_and_relative_paths(monkeypatch):
    monkeypatch.setenv("SILVER_LAKE_ROOT", "elsewhere/lake")
    monkeypatch.setenv("IV_RANK_LOOKBACK_DAYS", "90")
    monkeypatch.setenv("SILVER_MAX_TICKERS", "")  # empty counts as unset
    monkeypatch.setenv("SILVER_AUDIT_ROOT", "~/silver-logs")
    monkeypatch.delenv("SILVER_SNAPSHOT_ROOT", raising=False)
    settings = Settings.from_env()
    assert settings.lake_root == PROJECT_ROOT / "elsewhere" / "lake"
    assert settings.audit_root == Path.home() / "silver-logs"
    assert settings.snapshot_root == PROJECT_ROOT / "data" / "snapshots"
    assert settings.iv_rank_lookback_days == 90
    assert settings.max_tickers == 5


def test_current_settings_are_rebuilt_only_when_their_variables_change(monkeypatch):
    monkeypatch.setenv("SILVER_LAKE_ROOT", "first/lake")
    first = current_settings()
    assert current_settings() is first  # unchanged environment: the same object, not rebuilt
    monkeypatch.setenv("UNRELATED_VARIABLE", "x")
    assert current_settings() is first
    monkeypatch.setenv("SILVER_LAKE_ROOT", "moved/lake")
    assert current_settings().lake_root == PROJECT_ROOT / "moved" / "lake"
    monkeypatch.delenv("SILVER_SNAPSHOT_ROOT", raising=False)
    monkeypatch.setenv("SILVER_SNAPSHOT_ROOT", "other/snapshots")
    assert current_settings().snapshot_root == PROJECT_ROOT / "other" / "snapshots"
    monkeypatch.setenv("SILVER_MAX_TICKERS", "0")
    with pytest.raises(ValueError, match="SILVER_MAX_TICKERS"):
        current_settings()


def test_bad_values_name_their_variables(monkeypatch):
    monkeypatch.setenv("SILVER_SENSOR_INTERVAL_SECONDS", "soon")
    monkeypatch.setenv("IV_RANK_LOOKBACK_DAYS", "0")
    with pytest.raises(ValueError, match="invalid settings") as raised:
        Settings.from_env()
    message = str(raised.value)
    assert "SILVER_SENSOR_INTERVAL_SECONDS: input should be a valid integer" in message
    assert "'soon'" in message
    assert "IV_RANK_LOOKBACK_DAYS: input should be greater than or equal to 1" in message


def test_replace_checks_the_new_values(tmp_path):
    settings = make_settings(tmp_path)
    assert settings.replace(max_tickers=2).max_tickers == 2
    assert settings.replace(snapshot_root="relative").snapshot_root == PROJECT_ROOT / "relative"
    with pytest.raises(ValueError, match="SILVER_MAX_TICKERS"):
        settings.replace(max_tickers=0)


def test_the_resources_show_every_setting_in_effect(tmp_path):
    settings = make_settings(tmp_path, max_tickers=3, sensor_interval_seconds=7)
    resources = build_defs(settings).resources
    for name in ("silver", "silver_query"):
        resource = resources[name]
        config = {field: getattr(resource, field) for field in Settings.model_fields}
        assert None not in (config[f] for f in config if f != "alert_webhook_url"), name
        assert config["snapshot_root"] == str(settings.snapshot_root), name
        assert config["max_tickers"] == 3, name
        assert resource.settings == settings, name


def test_unset_resource_fields_come_from_the_environment(tmp_path, use_settings):
    settings = use_settings(make_settings(tmp_path))
    assert SilverQueryResource(max_tickers=2).settings == settings.replace(max_tickers=2)
    assert SilverLakeResource().settings == settings


def test_environment_round_trips_through_from_env(tmp_path, monkeypatch):
    settings = make_settings(
        tmp_path,
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
    # No webhook travels as an empty variable, which reads back as none.
    for name, value in settings.replace(alert_webhook_url=None).environment().items():
        monkeypatch.setenv(name, value)
    assert Settings.from_env().alert_webhook_url is None


def test_an_s3_location_travels_as_its_url(tmp_path, monkeypatch):
    settings = make_settings(tmp_path, lake_root="s3://bucket/silver")
    assert settings.environment()["SILVER_LAKE_ROOT"] == "s3://bucket/silver"
    for name, value in settings.environment().items():
        monkeypatch.setenv(name, value)
    assert str(Settings.from_env().lake_root) == "s3://bucket/silver"
    assert str(settings.replace(max_tickers=3).lake_root) == "s3://bucket/silver"
