"""``SilverQueryResource``: the Dagster resource agents call for cited numbers.

It is a thin shell over :func:`silver_assets.query.answer.answer_query`: usable directly from
Python (``SilverQueryResource().query(...)``), from an asset or op as a resource, and from the
CLI. Locations default to the pipeline's settings (environment and project config); any field
set on the resource overrides its setting.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg

from silver_assets.query.answer import answer_query
from silver_assets.query.models import MetadataExtraction
from silver_assets.settings import LOCATION_FIELDS, Settings
from silver_assets.storage import location


class SilverQueryResource(dg.ConfigurableResource):
    """Answers ``MetadataExtraction`` requests from the latest materialized snapshots."""

    snapshot_root: str | None = None
    state_path: str | None = None
    audit_root: str | None = None
    max_tickers: int | None = None

    def settings(self) -> Settings:
        overrides: dict[str, Any] = {
            name: location(value) if name in LOCATION_FIELDS else Path(value)
            for name, value in (
                ("snapshot_root", self.snapshot_root),
                ("state_path", self.state_path),
                ("audit_root", self.audit_root),
            )
            if value is not None
        }
        if self.max_tickers is not None:
            overrides["max_tickers"] = self.max_tickers
        return dataclasses.replace(Settings.from_env(), **overrides)

    def query(
        self,
        request: MetadataExtraction | Mapping[str, Any],
        time_predicates: Mapping[str, Any] | None = None,
        as_of: date | str | None = None,
    ) -> dict[str, Any]:
        """The docs/queries.md payload; raises ``InvalidRequest`` for a malformed request."""
        return answer_query(self.settings(), request, time_predicates, as_of)
