"""The query's input contract (docs/queries.md): ``MetadataExtraction`` and time predicates.

An LLM fills these in, so validation is strict where a lax coercion would change the meaning
(a bare ``"SPY"`` must not become ``["S", "P", "Y"]``) and forgiving where it cannot (extra fields
are ignored, ``"Past Week"`` means ``past_week``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictStr,
    ValidationError,
    field_validator,
    model_validator,
)

from silver_assets.registry import DATASET_NAMES

TIME_WINDOW_DAYS: dict[str, int] = {
    "today": 1,
    # Two days so that a Monday still reaches the Friday before.
    "yesterday": 2,
    "past_week": 7,
    "past_month": 30,
    "past_quarter": 90,
    "past_six_months": 180,
    "past_year": 365,
    "all": 365,
}
DEFAULT_TIME_WINDOW = "past_six_months"

# What an extractor writes when the question carries no time signal.
_NO_WINDOW_ALIASES = frozenset({"", "none", "null", "no_signal"})

SOURCES: tuple[str, ...] = DATASET_NAMES
# The original retriever keys its predicates by table ("silver.options"); accept that spelling too.
_SOURCE_PREFIX = "silver."

# Dates a request may name. Outside them date arithmetic overflows (0001-01-01 minus a window)
# or the question cannot be about this lake; either way the caller gets a clear error.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2199, 12, 31)
# A century: long enough for any question, short enough to keep window arithmetic in range.
MAX_WINDOW_DAYS = 36_525
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")

# Strict list: rejects a bare string, a tuple or None instead of coercing them.
_StrictStrList = Annotated[list[StrictStr], Field(strict=True)]


def normalize_time_window(raw: str) -> str | None:
    """Lower-case, strip, and turn spaces/hyphens into underscores; no-signal aliases → None."""
    text = re.sub(r"[\s\-]+", "_", raw.strip().lower())
    return None if text in _NO_WINDOW_ALIASES else text


def parse_date(value: Any, what: str = "as_of") -> date | None:
    """A request date: a ``date`` or a ``"YYYY-MM-DD"`` string within the supported range.

    Integers (``20260430`` or a Unix time) are refused rather than guessed at.
    """
    if value is None:
        return None
    day: date
    if isinstance(value, datetime):
        day = value.date()
    elif isinstance(value, str) and _ISO_DATE.fullmatch(value.strip()):
        try:
            day = date.fromisoformat(value.strip())
        except ValueError as exc:
            raise ValueError(f"{what} {value!r} is not a calendar date") from exc
    elif isinstance(value, date):
        day = value
    else:
        raise ValueError(f"{what} must be written as 'YYYY-MM-DD', got {value!r:.40}")
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValueError(f"{what} {day} is outside the supported {EARLIEST_DATE}..{LATEST_DATE}")
    return day


class MetadataExtraction(BaseModel):
    """What an agent asks for: tickers, metric surface names, an optional time window and an
    optional ``as_of`` date (the same as the query's ``as_of`` argument)."""

    model_config = ConfigDict(extra="ignore")

    tickers: _StrictStrList
    metrics: _StrictStrList
    time_window: StrictStr | None = None
    as_of: date | None = None

    @field_validator("as_of", mode="before")
    @classmethod
    def _parse_as_of(cls, value: Any) -> date | None:
        return parse_date(value)

    @field_validator("time_window", mode="before")
    @classmethod
    def _normalize_time_window(cls, value: Any) -> Any:
        # Non-strings fall through to StrictStr, which rejects them with the field's name.
        return normalize_time_window(value) if isinstance(value, str) else value

    @property
    def time_window_is_explicit(self) -> bool:
        """True only when the caller named a window this contract knows."""
        return self.time_window in TIME_WINDOW_DAYS

    @property
    def effective_time_window(self) -> str:
        """The requested window, or ``DEFAULT_TIME_WINDOW`` when it is missing or unknown."""
        window = self.time_window
        return window if window is not None and window in TIME_WINDOW_DAYS else DEFAULT_TIME_WINDOW


class TimePredicate(BaseModel):
    """A per-source window compiled upstream; any field may be left to the defaults."""

    model_config = ConfigDict(extra="ignore")

    start_date: date | None = None
    end_date: date | None = None
    window_days: int | None = Field(default=None, ge=1, le=MAX_WINDOW_DAYS, strict=True)

    @field_validator("start_date", "end_date", mode="before")
    @classmethod
    def _parse_dates(cls, value: Any, info: Any) -> date | None:
        return parse_date(value, info.field_name)

    @model_validator(mode="after")
    def _check_order(self) -> TimePredicate:
        if self.start_date and self.end_date and self.start_date > self.end_date:
            raise ValueError(f"start_date {self.start_date} is after end_date {self.end_date}")
        return self


def parse_time_predicates(raw: Mapping[str, Any] | None) -> dict[str, TimePredicate]:
    """Validate ``{source: predicate}``; values may be ``TimePredicate``s, mappings or None."""
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ValueError(
            f"time predicates must be a mapping of source to predicate, got {type(raw).__name__}"
        )
    parsed: dict[str, TimePredicate] = {}
    unknown: list[str] = []
    for key, value in raw.items():
        source = key.removeprefix(_SOURCE_PREFIX) if isinstance(key, str) else key
        if source not in SOURCES:
            unknown.append(repr(key))
        elif isinstance(value, TimePredicate):
            parsed[source] = value
        elif isinstance(value, Mapping):
            parsed[source] = TimePredicate.model_validate(dict(value))
        elif value is not None:
            raise ValueError(
                f"time predicate for {source!r} must be a TimePredicate or a mapping, "
                f"got {type(value).__name__}"
            )
    if unknown:
        raise ValueError(
            f"unknown time predicate source(s) {', '.join(unknown)}; expected one of {SOURCES}"
        )
    return parsed


def validation_problems(exc: ValidationError, what: str) -> str:
    """Each of a validation error's problems as ``field.path: message``, joined by ``; ``;
    ``what`` names the input when the problem is with the whole of it."""
    return "; ".join(
        f"{'.'.join(map(str, err['loc'])) or what}: {err['msg']}" for err in exc.errors()
    )


def parse_request(
    request: MetadataExtraction | Mapping[str, Any] | BaseModel,
) -> MetadataExtraction:
    """Accept a ``MetadataExtraction``, another pydantic model or a mapping; reject the rest."""
    if isinstance(request, MetadataExtraction):
        return request
    if isinstance(request, BaseModel):
        # An upstream extractor's own model class: validate its fields against this contract.
        return MetadataExtraction.model_validate(request.model_dump())
    if isinstance(request, Mapping):
        return MetadataExtraction.model_validate(dict(request))
    raise ValueError(
        "request must be a MetadataExtraction or a mapping with 'tickers' and 'metrics', "
        f"got {type(request).__name__}: {request!r:.80}"
    )
