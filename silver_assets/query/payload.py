"""The query payload (docs/queries.md) as pydantic models: the one place its schema is defined.

``answer_query`` builds a :class:`QueryPayload` and hands callers its JSON-ready ``model_dump``;
the MCP server publishes the same models as its tools' output schemas.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field

# A payload value: a number, a display string or label, or None when the snapshot has none.
Value = int | float | str | None


class RequestEcho(BaseModel):
    """The request as it was understood: cleaned tickers, the metrics, the window used."""

    tickers: list[str]
    metrics: list[str]
    time_window: str
    as_of: str | None = None


class CitationEntry(BaseModel):
    """How to cite one value, and the Dagster materialization it came from."""

    preferred_anchor: str
    audit_lineage_anchors: list[str]
    legacy_aliases: list[str]
    observed_at: str | None
    source_channel: str
    family: str
    asset_key: str | None = None
    partition_key: str | None = None
    run_id: str | None = None
    source_data_version: str | None = None


class Freshness(BaseModel):
    """The anchor a family wanted, the partition it used, and whether that one is older."""

    dataset: str
    anchor_source: str
    wanted_anchor: str
    used_partition: str | None
    stale: bool


class ActiveWindowOut(BaseModel):
    """The end-inclusive window applied to one source's observation dates."""

    start: str
    end: str
    window_days: int
    mode: str
    explicit: bool


class Missing(BaseModel):
    """Something asked for that the payload does not carry, and why."""

    family: str
    ticker: str | None
    metric: str | None = None
    reason: str


class FamilyError(BaseModel):
    """A family that failed; the others are still answered."""

    family: str
    error: str


class QueryStatus(BaseModel):
    """What was routed, what was not answered and why, and where the numbers come from."""

    error: str | None = None
    unsupported_metrics: list[str] = Field(default_factory=list)
    unsupported_metrics_message: str | None = None
    suggestions: dict[str, list[str]] = Field(
        default_factory=dict, description="closest catalogue names per unsupported metric"
    )
    routed_metrics: dict[str, str] = Field(default_factory=dict)
    dropped_tickers: list[str] = Field(default_factory=list)
    freshness: dict[str, Freshness] = Field(default_factory=dict)
    windows: dict[str, ActiveWindowOut] = Field(default_factory=dict)
    missing: list[Missing] = Field(default_factory=list)
    errors: list[FamilyError] = Field(default_factory=list)
    data_origin: dict[str, str] = Field(
        default_factory=dict,
        description="per family: synthetic, mixed, not_marked_synthetic or unknown, from the "
        "origin each snapshot recorded of the lake files it was computed from",
    )
    time_window_note: str | None = None


def _lean(node: Any, defs: dict[str, Any]) -> Any:
    """``node`` with each ``$ref`` replaced by its definition and pydantic's generated titles
    dropped (the definitions are not recursive, so inlining ends)."""
    if isinstance(node, list):
        return [_lean(item, defs) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return _lean(defs[node["$ref"].removeprefix("#/$defs/")], defs)
    return {
        key: _lean(value, defs)
        for key, value in node.items()
        # A property named "title" maps to a schema (a dict); only the generated labels go.
        if not (key == "title" and isinstance(value, str))
    }


class QueryPayload(BaseModel):
    """Values, their lineage anchors and citations, and the status of one query."""

    request: RequestEcho
    values: dict[str, Value] = Field(default_factory=dict)
    values_by_ticker: dict[str, dict[str, Value]] = Field(default_factory=dict)
    lineage_anchors: list[str] = Field(default_factory=list)
    citation_contract: dict[str, CitationEntry] = Field(default_factory=dict)
    citation_anchor_map: dict[str, str] = Field(default_factory=dict)
    status: QueryStatus = Field(default_factory=QueryStatus)
    latency_ms: float = 0.0

    @classmethod
    def model_json_schema(cls, *args: Any, **kwargs: Any) -> dict[str, Any]:
        """The payload's JSON Schema, written lean: unions of plain types as type arrays,
        ``$defs`` inlined, no generated titles. The constraints are pydantic's own, but a
        validator walks it in about two thirds of the time, and MCP clients validate every
        ``query_metrics`` answer (about 50 KB) against it."""
        kwargs.setdefault("union_format", "primitive_type_array")
        schema = super().model_json_schema(*args, **kwargs)
        lean: dict[str, Any] = _lean(schema, schema.pop("$defs", {}))
        return lean
