"""Dagster resources shared by every domain: the project settings and the DuckDB session.

The resources' configuration is derived from :class:`Settings`: one field per setting, so the
Dagster UI shows the effective configuration and no list of settings is written twice.
"""

from __future__ import annotations

from typing import Any, Self, TypeVar

import dagster as dg
from dagster_duckdb import DuckDBResource
from pydantic import Field, create_model

from silver_assets.audit import AuditLog
from silver_assets.settings import PATH_FIELDS, Settings
from silver_assets.snapshots import SnapshotStore


class SettingsResource(dg.ConfigurableResource):
    """A resource configured with the project settings (fields added by :func:`settings_fields`).

    Each field is optional: one left unset (``None``) comes from the environment, then from the
    setting's default, exactly as :meth:`Settings.from_env` would read it. Paths travel as strings.
    """

    @classmethod
    def from_settings(cls, settings: Settings) -> Self:
        """The resource with every field set: the UI shows the configuration in effect."""
        values = {name: getattr(settings, name) for name in Settings.model_fields}
        # Paths and s3:// locations travel as strings.
        return cls(**{k: str(v) if k in PATH_FIELDS else v for k, v in values.items()})

    @property
    def settings(self) -> Settings:
        given = {name: getattr(self, name) for name in Settings.model_fields}
        return Settings(**{name: value for name, value in given.items() if value is not None})


Resource = TypeVar("Resource", bound=SettingsResource)


def settings_fields(resource: type[Resource]) -> type[Resource]:
    """``resource`` with one optional config field per :class:`Settings` field."""
    fields: dict[str, Any] = {}
    for name, field in Settings.model_fields.items():
        value_type: Any = str if name in PATH_FIELDS else field.annotation
        fields[name] = (value_type | None, Field(default=None, description=field.description))
    derived: type[Resource] = create_model(
        resource.__name__,
        __base__=resource,
        __module__=resource.__module__,
        __doc__=resource.__doc__,
        **fields,
    )
    derived.__qualname__ = resource.__qualname__
    return derived


@settings_fields
class SilverLakeResource(SettingsResource):
    """Every setting of README: Configuration (locations, limits, alerting), as resource config."""

    @property
    def store(self) -> SnapshotStore:
        return SnapshotStore(self.settings.snapshot_root)

    @property
    def audit(self) -> AuditLog:
        return AuditLog(self.settings.audit_root)


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
