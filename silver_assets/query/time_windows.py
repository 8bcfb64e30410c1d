"""Active time windows per source (docs/queries.md, the upstream time adapter's rules).

A window is end-inclusive: ``[start, end]``. With a predicate its bounds are used as given (only
GPR's monthly widening applies); without one the request's ``time_window`` is compiled here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from silver_assets.query.models import (
    SOURCES,
    TIME_WINDOW_DAYS,
    MetadataExtraction,
    TimePredicate,
)
from silver_assets.registry import DATASETS

DAILY_SOURCES = frozenset(d.name for d in DATASETS.values() if not d.monthly)
# The original design's floor for a short window the caller did not ask for explicitly.
MIN_IMPLICIT_WINDOW_DAYS = 5
# GPR is monthly: a shorter window could miss the month's only row.
GPR_MIN_WINDOW_DAYS = 35


@dataclass(frozen=True)
class ActiveWindow:
    """The dates a handler may read for one source.

    ``window_days`` is the number of calendar days in ``[start, end]``; ``mode`` is
    ``"latest_only"`` for a single day and ``"window"`` otherwise; ``explicit`` says whether the
    length came from the caller (a predicate or a known ``time_window``) rather than the default.
    """

    source: str
    start: date
    end: date
    window_days: int
    mode: str
    explicit: bool


def _as_date(value: date) -> date:
    # datetime (and pandas.Timestamp) subclass date but do not compare with it.
    return value.date() if isinstance(value, datetime) else value


def _last_weekday_on_or_before(day: date) -> date:
    return day - timedelta(days=max(0, day.weekday() - 4))


def _previous_business_day(day: date) -> date:
    return _last_weekday_on_or_before(day - timedelta(days=1))


def _start_from_request(end: date, request: MetadataExtraction) -> date:
    window = request.effective_time_window
    days = TIME_WINDOW_DAYS[window]
    if not request.time_window_is_explicit and days < MIN_IMPLICIT_WINDOW_DAYS:
        return end - timedelta(days=MIN_IMPLICIT_WINDOW_DAYS - 1)
    if window == "today":
        return end
    if window == "yesterday":
        return _previous_business_day(end)
    return end - timedelta(days=days - 1)


def compile_window(
    source: str,
    anchor: date,
    request: MetadataExtraction,
    predicate: TimePredicate | None = None,
) -> ActiveWindow:
    """The active window for ``source`` as of ``anchor``.

    A predicate's ``start_date``/``end_date``/``window_days`` win (end defaults to the anchor,
    start to ``end - (window_days - 1)``; a predicate with neither start nor length takes its
    length from the request). Raises ``ValueError`` for an unknown source or a predicate whose
    start falls after its end.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; expected one of {SOURCES}")
    anchor = _as_date(anchor)

    if predicate is None:
        end = _last_weekday_on_or_before(anchor) if source in DAILY_SOURCES else anchor
        start = _start_from_request(end, request)
        explicit = request.time_window_is_explicit
    else:
        end = predicate.end_date or anchor
        explicit = True
        if predicate.start_date is not None:
            start = predicate.start_date
        elif predicate.window_days is not None:
            start = end - timedelta(days=predicate.window_days - 1)
        else:
            start = _start_from_request(end, request)
            explicit = request.time_window_is_explicit
        if start > end:
            raise ValueError(f"{source} predicate starts on {start}, after its end {end}")

    if DATASETS[source].monthly and (end - start).days + 1 < GPR_MIN_WINDOW_DAYS:
        # Back to the 1st of the anchor (end) month; a start already earlier stays put.
        start = min(start, DATASETS[source].anchor_key(end))

    return ActiveWindow(
        source=source,
        start=start,
        end=end,
        window_days=(end - start).days + 1,
        mode="latest_only" if start == end else "window",
        explicit=explicit,
    )


def in_window(observed: date, window: ActiveWindow) -> bool:
    """Whether ``observed`` falls inside ``window`` (both ends included)."""
    return window.start <= _as_date(observed) <= window.end
