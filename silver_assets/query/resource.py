"""``SilverQueryResource``: the Dagster resource agents call for cited numbers.

It is a thin shell over :func:`silver_assets.query.answer.answer_query`: usable directly from
Python (``SilverQueryResource().query(...)``), from an asset or op as a resource, and from the
CLI. Its configuration is the project settings (:class:`silver_assets.resources.SettingsResource`):
a field left unset comes from the environment, then the default; the code location sets them all,
so the Dagster UI shows the configuration in effect.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from silver_assets.query.answer import answer_query
from silver_assets.query.models import MetadataExtraction
from silver_assets.resources import SettingsResource, settings_fields


@settings_fields
class SilverQueryResource(SettingsResource):
    """Answers ``MetadataExtraction`` requests from the latest materialized snapshots."""

    def query(
        self,
        request: MetadataExtraction | Mapping[str, Any],
        time_predicates: Mapping[str, Any] | None = None,
        as_of: date | str | None = None,
    ) -> dict[str, Any]:
        """The docs/queries.md payload; raises ``InvalidRequest`` for a malformed request."""
        return answer_query(self.settings, request, time_predicates, as_of)
