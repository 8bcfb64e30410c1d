"""Answer a ``MetadataExtraction`` from materialized snapshots (docs/queries.md), without Dagster.

No Silver Parquet is scanned and no SQL runs here: the answer reads the snapshot file of the
anchor's partition (or the latest one before it, reported as stale), picks each ticker's row and
turns it into values, lineage anchors and citations with the family builders. The active window
is applied to each value's observation date; a value older than the window is reported missing,
and so is every requested metric the answer does not carry. Each snapshot row records the origin
of the lake files it was computed from, which the payload reports as ``status.data_origin``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from pydantic import ValidationError

from silver_assets import storage
from silver_assets.anchors import resolve_anchor
from silver_assets.audit import AuditLog
from silver_assets.lake.origin import UNKNOWN, combine
from silver_assets.metrics.families import BUILDERS, FAMILY_DATASET, FamilyAnswer
from silver_assets.query.catalogue import BY_NAME, carries
from silver_assets.query.citations import citation_anchor_map, citation_entries
from silver_assets.query.models import (
    TIME_WINDOW_DAYS,
    MetadataExtraction,
    TimePredicate,
    parse_date,
    parse_request,
    parse_time_predicates,
    validation_problems,
)
from silver_assets.query.payload import (
    ActiveWindowOut,
    FamilyError,
    Freshness,
    Missing,
    QueryPayload,
    QueryStatus,
    RequestEcho,
)
from silver_assets.query.routing import (
    Routing,
    normalize_tickers,
    prefix_value_keys,
    route_metrics,
    suggestions,
    unsupported_metrics_message,
)
from silver_assets.query.time_windows import ActiveWindow, compile_window, in_window
from silver_assets.registry import DATASETS, FAMILIES
from silver_assets.settings import Settings
from silver_assets.snapshots import PROVENANCE_COLUMNS, SnapshotStore
from silver_assets.storage import Location
from silver_assets.tickers import macro_symbol_for

PER_TICKER_FAMILIES = frozenset(f.name for f in FAMILIES.values() if DATASETS[f.dataset].per_ticker)


class InvalidRequest(ValueError):
    """The request or its time predicates do not fit the contract; the message says how."""


@dataclass(frozen=True)
class Snapshot:
    """The snapshot a family is answered from."""

    family: str
    wanted: str
    used: str | None
    rows: Mapping[str, Mapping[str, Any]]

    @property
    def stale(self) -> bool:
        return self.used is not None and self.used != self.wanted

    @property
    def origin(self) -> str:
        """Where the rows' numbers come from (see :mod:`silver_assets.lake.origin`)."""
        return (
            combine(row.get("data_origin") for row in self.rows.values()) if self.rows else UNKNOWN
        )


@lru_cache(maxsize=512)
def _rows_by_symbol(located: Location, stamp: str) -> Mapping[str, Mapping[str, Any]]:
    # Keyed by the file's stamp, so a rewritten snapshot is re-read and an unchanged one is not.
    return {row.get("symbol") or "": row for row in storage.read_table(located).to_pylist()}


def load_snapshot(store: SnapshotStore, family: str, wanted: str) -> Snapshot:
    """The snapshot of ``wanted``, else the latest materialized partition before it."""
    used = wanted
    located = store.resolve(family, wanted)
    if located is None:
        earlier = [key for key in store.partitions(family) if key < wanted]
        located = store.resolve(family, earlier[-1]) if earlier else None
        if located is None:
            return Snapshot(family, wanted, None, {})
        used = earlier[-1]
    return Snapshot(family, wanted, used, _rows_by_symbol(located, storage.stamp(located)))


def _validated(
    request: Any, time_predicates: Any
) -> tuple[MetadataExtraction, dict[str, TimePredicate]]:
    try:
        return parse_request(request), parse_time_predicates(time_predicates)
    except ValidationError as exc:
        problems = validation_problems(exc, "request")
        raise InvalidRequest(f"invalid MetadataExtraction: {problems}") from exc
    except (TypeError, ValueError) as exc:
        raise InvalidRequest(str(exc)) from exc


def _as_of(argument: Any, in_request: date | None) -> date | None:
    """``as_of`` from the argument or the request body; both may be given only if they agree."""
    try:
        given = parse_date(argument)
    except ValueError as exc:
        raise InvalidRequest(str(exc)) from exc
    if given is not None and in_request is not None and given != in_request:
        raise InvalidRequest(f"as_of {given} conflicts with the request's as_of {in_request}")
    return given or in_request


@dataclass(frozen=True)
class FamilyPlan:
    """Where one family's answer comes from: its anchor, active window and wanted partition."""

    family: str
    dataset: str
    anchor_source: str
    window: ActiveWindow
    wanted: str


def _plans(
    families: tuple[str, ...],
    request: MetadataExtraction,
    predicates: dict[str, TimePredicate],
    as_of: date | None,
    settings: Settings,
    audit: AuditLog,
) -> list[FamilyPlan]:
    """One plan per family; the anchor and window are resolved once per dataset."""
    by_dataset: dict[str, tuple[str, ActiveWindow, str]] = {}
    plans = []
    for family in families:
        dataset = FAMILY_DATASET[family]
        if dataset not in by_dataset:
            predicate = predicates.get(dataset)
            anchor, anchor_source = _anchor_for(dataset, predicate, as_of, settings, audit)
            try:
                window = compile_window(dataset, anchor, request, predicate)
            except ValueError as exc:  # a predicate starting after the resolved end
                raise InvalidRequest(str(exc)) from exc
            spec = DATASETS[dataset]
            wanted = (spec.anchor_key(anchor) if spec.monthly else window.end).isoformat()
            by_dataset[dataset] = (anchor_source, window, wanted)
        plans.append(FamilyPlan(family, dataset, *by_dataset[dataset]))
    return plans


def answer_query(
    settings: Settings,
    request: MetadataExtraction | Mapping[str, Any],
    time_predicates: Mapping[str, Any] | None = None,
    as_of: date | str | None = None,
) -> dict[str, Any]:
    """The JSON-serialisable payload (docs/queries.md) of one request: :func:`answer_payload`."""
    return answer_payload(settings, request, time_predicates, as_of).model_dump(mode="json")


def answer_payload(
    settings: Settings,
    request: MetadataExtraction | Mapping[str, Any],
    time_predicates: Mapping[str, Any] | None = None,
    as_of: date | str | None = None,
) -> QueryPayload:
    """The payload of docs/queries.md for one request.

    Raises :class:`InvalidRequest` for a malformed request, a date outside the supported range
    or a window that starts after its end; every other problem is reported in ``status`` and
    the audit log, never raised.
    """
    began = time.perf_counter()
    audit = AuditLog(settings.audit_root)
    with audit.batched():  # one append for the query's events instead of one per event
        return _answer(settings, request, time_predicates, as_of, audit, began)


def _answer(
    settings: Settings,
    request: MetadataExtraction | Mapping[str, Any],
    time_predicates: Mapping[str, Any] | None,
    as_of: date | str | None,
    audit: AuditLog,
    began: float,
) -> QueryPayload:
    try:
        parsed, predicates = _validated(request, time_predicates)
        as_of = _as_of(as_of, parsed.as_of)
    except InvalidRequest as exc:
        audit.write("EXECUTION_ERROR", stage="validation", error=str(exc))
        raise
    routing = route_metrics(parsed.metrics)
    tickers, dropped = normalize_tickers(parsed.tickers, settings.max_tickers)
    audit.write(
        "START_QUERY",
        tickers=tickers,
        metrics=parsed.metrics,
        time_window=parsed.time_window,
        as_of=as_of,
    )
    for routed in routing.routed:
        if routed.how == "fuzzy":
            audit.write("FUZZY_MATCH", requested=routed.requested, matched=routed.canonical)
    if routing.unsupported:
        audit.write("UNSUPPORTED_METRICS", metrics=list(routing.unsupported))
    if dropped:
        audit.write("TICKER_CAP", cap=settings.max_tickers, kept=tickers, dropped=dropped)

    status = _initial_status(routing, dropped, parsed)
    families = routing.families
    if not families:
        status.error = "NO_SUPPORTED_METRICS"
    elif not tickers and any(f in PER_TICKER_FAMILIES for f in families):
        status.error = "NO_TICKERS"
        families = tuple(f for f in families if f not in PER_TICKER_FAMILIES)
    try:
        plans = _plans(families, parsed, predicates, as_of, settings, audit)
    except InvalidRequest as exc:
        audit.write("EXECUTION_ERROR", stage="time window", error=str(exc))
        raise

    requested = frozenset(r.canonical for r in routing.routed)
    multi = len(tickers) > 1
    store = SnapshotStore(settings.snapshot_root)
    answers: list[tuple[FamilyAnswer, dict[str, Any]]] = []
    for plan in plans:
        try:
            answers += _answer_family(plan, tickers, requested, store, audit, status)
        except Exception as exc:  # one family's failure must not sink the others
            error = f"{type(exc).__name__}: {exc}"
            audit.write("EXECUTION_ERROR", handler=plan.family, error=error)
            status.errors.append(FamilyError(family=plan.family, error=error))

    by_ticker: dict[str, dict[str, Any]] = {}
    contract: dict[str, dict[str, Any]] = {}
    anchors: list[str] = []
    for answer, provenance in answers:
        by_ticker.setdefault(answer.ticker, {}).update(answer.values)
        contract.update(citation_entries(answer, provenance, multi))
        anchors += [a for a in answer.anchors if a not in anchors]
    latency_ms = round((time.perf_counter() - began) * 1000, 3)
    payload = QueryPayload(
        request=RequestEcho(
            tickers=tickers,
            metrics=list(parsed.metrics),
            time_window=parsed.effective_time_window,
            as_of=as_of.isoformat() if as_of else None,
        ),
        values=prefix_value_keys(by_ticker, multi),
        values_by_ticker={t: v for t, v in by_ticker.items() if t},
        lineage_anchors=anchors,
        citation_contract=contract,
        citation_anchor_map=citation_anchor_map(contract),
        status=status,
        latency_ms=latency_ms,
    )
    audit.write(
        "FINISH_QUERY",
        latency_ms=latency_ms,
        anchors_found=len(anchors),
        values=len(payload.values),
        error=status.error,
    )
    return payload


def _initial_status(
    routing: Routing, dropped: list[str], parsed: MetadataExtraction
) -> QueryStatus:
    status = QueryStatus(
        unsupported_metrics=list(routing.unsupported),
        unsupported_metrics_message=unsupported_metrics_message(routing.unsupported),
        suggestions={name: suggestions(name) for name in routing.unsupported},
        routed_metrics={r.requested: r.canonical for r in routing.routed},
        dropped_tickers=dropped,
    )
    if parsed.time_window is not None and not parsed.time_window_is_explicit:
        status.time_window_note = (
            f"unknown time_window {parsed.time_window!r}; used {parsed.effective_time_window} "
            f"(known: {', '.join(TIME_WINDOW_DAYS)})"
        )
    return status


def _anchor_for(
    dataset: str,
    predicate: TimePredicate | None,
    as_of: date | None,
    settings: Settings,
    audit: AuditLog,
) -> tuple[date, str]:
    if as_of is not None:
        return as_of, "as_of"
    if predicate is not None and predicate.end_date is not None:
        return predicate.end_date, "predicate"
    anchor = resolve_anchor(dataset, settings.state_path)
    if anchor.is_fallback:
        audit.write("ANCHOR_FALLBACK", dataset=dataset, reason=anchor.fallback_reason)
        return anchor.date, "fallback_today"
    return anchor.date, "state"


def _answer_family(
    plan: FamilyPlan,
    tickers: list[str],
    requested: frozenset[str],
    store: SnapshotStore,
    audit: AuditLog,
    status: QueryStatus,
) -> list[tuple[FamilyAnswer, dict[str, Any]]]:
    family, window = plan.family, plan.window
    snapshot = load_snapshot(store, family, plan.wanted)
    status.windows[plan.dataset] = ActiveWindowOut(
        start=window.start.isoformat(),
        end=window.end.isoformat(),
        window_days=window.window_days,
        mode=window.mode,
        explicit=window.explicit,
    )
    status.freshness[family] = Freshness(
        dataset=plan.dataset,
        anchor_source=plan.anchor_source,
        wanted_anchor=plan.wanted,
        used_partition=snapshot.used,
        stale=snapshot.stale,
    )
    if snapshot.used is not None:
        status.data_origin[family] = snapshot.origin
    if snapshot.stale:
        audit.write("STALE_SNAPSHOT", handler=family, wanted=plan.wanted, used=snapshot.used)
    answers = []
    for ticker in tickers if family in PER_TICKER_FAMILIES else [""]:
        audit.write(
            "SQL_RANGE",
            handler=family,
            ticker=ticker or "-",
            mode=window.mode,
            start=window.start,
            end=window.end,
            window_days=window.window_days,
            partition=snapshot.used,
        )
        answer = _ticker_answer(family, ticker, requested, snapshot, window, status)
        if answer is not None:
            row = snapshot.rows[_row_symbol(family, ticker)]
            answers.append((answer, {field: row.get(field) for field in PROVENANCE_COLUMNS}))
    return answers


def _row_symbol(family: str, ticker: str) -> str:
    return macro_symbol_for(ticker)[0] if family == "macro_analysis" else ticker


def _ticker_answer(
    family: str,
    ticker: str,
    requested: frozenset[str],
    snapshot: Snapshot,
    window: ActiveWindow,
    status: QueryStatus,
) -> FamilyAnswer | None:
    def missing(reason: str, metric: str | None = None) -> None:
        status.missing.append(
            Missing(family=family, ticker=ticker or None, metric=metric, reason=reason)
        )

    if snapshot.used is None:
        missing(f"NO_SNAPSHOT: no {family} partition materialized at or before {snapshot.wanted}")
        return None
    row = snapshot.rows.get(_row_symbol(family, ticker))
    if row is None:
        missing(f"NO_ROW: {snapshot.used} snapshot has no row for {_row_symbol(family, ticker)}")
        return None
    answer = BUILDERS[family](row, ticker, requested)
    # A requested metric the snapshot row cannot answer is named, never filled with another value.
    for name in sorted(requested):
        metric = BY_NAME[name]
        if metric.family != family:
            continue
        if metric.unanswered:
            missing(metric.unanswered, name)
        elif not carries(metric, set(answer.values), ticker):
            keys = ", ".join(k.replace("{T}", ticker) for k in metric.value_keys)
            missing(f"NOT_IN_SNAPSHOT: the {snapshot.used} row has no value for {keys}", name)
    stale_keys = {
        key
        for key, observed in answer.observed_at.items()
        if observed is None or not in_window(date.fromisoformat(observed), window)
    }
    if stale_keys:
        answer.drop(stale_keys)
        missing(f"OUTSIDE_WINDOW: {', '.join(sorted(stale_keys))} observed before {window.start}")
    return answer if answer.values else None
