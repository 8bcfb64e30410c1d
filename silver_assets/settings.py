"""One settings object for every location and limit (README: Configuration), from the environment.

Each field is read from the environment variable named in its alias (``SILVER_LAKE_ROOT``, ...);
an empty variable counts as unset. Relative paths resolve against the project root (the folder
holding ``pyproject.toml``), so the pipeline, the CLI and the query resource agree on where things
are, whatever the working directory. The Dagster resources derive their configuration from these
fields (:mod:`silver_assets.resources`), so this is the only list of settings. The lake, the
snapshots and the state file may also be ``s3://bucket/prefix`` URLs (:mod:`silver_assets.storage`);
the audit log and the config folder are always local.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import AliasChoices, Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from silver_assets.storage import Location, location

PROJECT_ROOT = Path(__file__).resolve().parent.parent

PATH_FIELDS = frozenset({"lake_root", "state_path", "snapshot_root", "audit_root", "config_dir"})
# The path settings that may be s3:// URLs; the audit log and the config folder are local.
LOCATION_FIELDS = frozenset({"lake_root", "state_path", "snapshot_root"})


def _setting(variable: str, default: Any, description: str, **rules: Any) -> Any:
    """A field read from ``variable`` (or set by its own name), with its default and rules."""
    return Field(
        default,
        validation_alias=AliasChoices(variable),
        description=f"{description} (environment: {variable})",
        **rules,
    )


Positive = Annotated[int, Field(ge=1)]


class Settings(BaseSettings):
    """Locations and limits. Build with :meth:`from_env`; tests pass explicit paths.

    Fields not passed to the constructor come from the environment, then from the defaults.
    """

    model_config = SettingsConfigDict(
        frozen=True,
        env_ignore_empty=True,
        validate_by_name=True,
        extra="forbid",
        # The s3:// locations are universal-pathlib paths, checked by _locate.
        arbitrary_types_allowed=True,
    )

    lake_root: Location = _setting("SILVER_LAKE_ROOT", "data/silver", "the Silver Parquet lake")
    state_path: Location = _setting(
        "SILVER_STATE_PATH",
        "config/runtime/collect_data_state.json",
        "the collector's state file (last_run_keys)",
    )
    snapshot_root: Location = _setting(
        "SILVER_SNAPSHOT_ROOT", "data/snapshots", "where metric snapshots are written"
    )
    audit_root: Path = _setting("SILVER_AUDIT_ROOT", "logs", "the audit and alert logs")
    config_dir: Path = _setting("SILVER_CONFIG_DIR", "config", "the project configuration")
    max_tickers: Positive = _setting("SILVER_MAX_TICKERS", 5, "most tickers per query")
    iv_rank_lookback_days: Positive = _setting(
        "IV_RANK_LOOKBACK_DAYS", 180, "calendar days of IV history behind the IV rank"
    )
    duckdb_threads: Positive = _setting("SILVER_DUCKDB_THREADS", 4, "DuckDB threads per step")
    duckdb_memory_limit: str = _setting(
        "SILVER_DUCKDB_MEMORY_LIMIT", "2GB", "DuckDB memory limit per step"
    )
    alert_webhook_url: str | None = _setting(
        "SILVER_ALERT_WEBHOOK_URL", None, "where alerts are POSTed (none: log only)"
    )
    stale_after_minutes: Positive = _setting(
        "SILVER_STALE_AFTER_MINUTES", 120, "minutes after which a pending refresh alerts"
    )
    sensor_interval_seconds: Positive = _setting(
        "SILVER_SENSOR_INTERVAL_SECONDS", 30, "seconds between sensor ticks"
    )
    ui_base_url: str = _setting(
        "SILVER_UI_BASE_URL", "http://127.0.0.1:3000", "the Dagster UI that alerts link to"
    )

    @field_validator(*LOCATION_FIELDS, mode="before")
    @classmethod
    def _locate(cls, raw: str | Location) -> Location:
        return location(raw, base=PROJECT_ROOT)

    @field_validator(*(PATH_FIELDS - LOCATION_FIELDS))
    @classmethod
    def _resolve(cls, path: Path) -> Path:
        path = path.expanduser()
        return path if path.is_absolute() else PROJECT_ROOT / path

    @classmethod
    def from_env(cls) -> Settings:
        """The settings of this environment; a bad value raises ``ValueError`` naming it."""
        try:
            return cls()
        except ValidationError as exc:
            raise ValueError(_explain(exc)) from None

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes`` applied and checked like any other value."""
        try:
            return type(self).model_validate({**self._values(), **changes})
        except ValidationError as exc:
            raise ValueError(_explain(exc)) from None

    def environment(self) -> dict[str, str]:
        """The environment variables that make :meth:`from_env` return these settings, for a
        child process (a server, a worker) that must see the same ones."""
        variables = _variables()
        return {variables[name]: "" if v is None else str(v) for name, v in self._values().items()}

    def _values(self) -> dict[str, Any]:
        # Not model_dump: it would turn an s3:// location into universal-pathlib's dict form.
        return {name: getattr(self, name) for name in type(self).model_fields}

    @property
    def alerts_log(self) -> Path:
        return self.audit_root / "alerts" / "alerts.log"


def current_settings() -> Settings:
    """:meth:`Settings.from_env`, rebuilt only when one of its environment variables changes.

    For a long-running server that needs the settings per request: building them costs about
    half a millisecond, looking up their variables a few microseconds.
    """
    return _settings_of(tuple(os.environ.get(name) for name in _variable_names()))


@lru_cache(maxsize=1)
def _variable_names() -> tuple[str, ...]:
    return tuple(_variables().values())


@lru_cache(maxsize=4)
def _settings_of(variables: tuple[str | None, ...]) -> Settings:
    # ``variables`` is the cache key: from_env reads the same values from os.environ.
    return Settings.from_env()


def _variables() -> dict[str, str]:
    """Each field's environment variable."""
    return {
        name: str(field.validation_alias.choices[0])
        for name, field in Settings.model_fields.items()
        if isinstance(field.validation_alias, AliasChoices)
    }


def _explain(error: ValidationError) -> str:
    """One line per bad setting: its environment variable, the rule, and the value given."""
    variables = _variables()
    lines = []
    for problem in error.errors():
        where = str(problem["loc"][0]) if problem["loc"] else "settings"
        variable = variables.get(where, where)
        lines.append(f"{variable}: {problem['msg'].lower()}, got {problem['input']!r}")
    return "invalid settings: " + "; ".join(lines)
