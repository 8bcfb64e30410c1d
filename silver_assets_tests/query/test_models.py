"""MetadataExtraction, TimePredicate and the request/predicate parsers."""

from __future__ import annotations

from datetime import date

import pytest
from pydantic import BaseModel, ValidationError

from silver_assets.query.models import (
    DEFAULT_TIME_WINDOW,
    TIME_WINDOW_DAYS,
    MetadataExtraction,
    TimePredicate,
    parse_request,
    parse_time_predicates,
)


def test_time_window_days_table() -> None:
    assert TIME_WINDOW_DAYS == {
        "today": 1,
        "yesterday": 2,
        "past_week": 7,
        "past_month": 30,
        "past_quarter": 90,
        "past_six_months": 180,
        "past_year": 365,
        "all": 365,
    }
    assert DEFAULT_TIME_WINDOW == "past_six_months"


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"tickers": "SPY", "metrics": ["Put/Call Ratio"]}, "tickers"),
        ({"tickers": None, "metrics": ["Put/Call Ratio"]}, "tickers"),
        ({"tickers": ["SPY", 5], "metrics": ["Put/Call Ratio"]}, "tickers.1"),
        ({"tickers": ["SPY"], "metrics": "Put/Call Ratio"}, "metrics"),
        ({"tickers": ["SPY"], "metrics": [None]}, "metrics.0"),
        ({"metrics": ["Put/Call Ratio"]}, "tickers"),
        ({"tickers": ["SPY"]}, "metrics"),
        ({"tickers": ["SPY"], "metrics": ["IV Skew"], "time_window": 7}, "time_window"),
    ],
)
def test_malformed_request_names_the_field(payload: dict, field: str) -> None:
    with pytest.raises(ValidationError) as excinfo:
        MetadataExtraction.model_validate(payload)
    assert field in str(excinfo.value)


def test_extra_fields_are_ignored() -> None:
    request = MetadataExtraction.model_validate(
        {"tickers": ["SPY"], "metrics": ["IV Skew"], "intent": "compare", "confidence": 0.9}
    )
    assert request.tickers == ["SPY"]
    assert not hasattr(request, "intent")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("past_week", "past_week"),
        ("  Past Week ", "past_week"),
        ("PAST-SIX-MONTHS", "past_six_months"),
        ("no signal", None),
        ("None", None),
        ("", None),
        (None, None),
    ],
)
def test_time_window_is_normalised(raw: str | None, expected: str | None) -> None:
    request = MetadataExtraction(tickers=["SPY"], metrics=["IV Skew"], time_window=raw)
    assert request.time_window == expected


def test_missing_or_unknown_window_defaults_and_is_not_explicit() -> None:
    for raw in (None, "no signal", "fortnight"):
        request = MetadataExtraction(tickers=["SPY"], metrics=["IV Skew"], time_window=raw)
        assert request.effective_time_window == "past_six_months"
        assert request.time_window_is_explicit is False


def test_known_window_is_explicit() -> None:
    request = MetadataExtraction(tickers=["SPY"], metrics=["IV Skew"], time_window="Yesterday")
    assert request.effective_time_window == "yesterday"
    assert request.time_window_is_explicit is True


def test_time_predicate_checks_order_and_length() -> None:
    ok = TimePredicate.model_validate({"start_date": "2026-04-20", "end_date": "2026-04-24"})
    assert ok.start_date == date(2026, 4, 20)
    with pytest.raises(ValidationError, match="after end_date"):
        TimePredicate(start_date=date(2026, 4, 25), end_date=date(2026, 4, 24))
    with pytest.raises(ValidationError, match="window_days"):
        TimePredicate(window_days=0)


def test_parse_time_predicates() -> None:
    given = TimePredicate(window_days=3)
    parsed = parse_time_predicates(
        {"options": given, "silver.gpr": {"end_date": "2026-04-01", "note": "x"}, "macro": None}
    )
    assert parsed == {"options": given, "gpr": TimePredicate(end_date=date(2026, 4, 1))}
    assert parse_time_predicates(None) == {}


def test_parse_time_predicates_rejects_unknown_sources() -> None:
    with pytest.raises(ValueError, match="'news'"):
        parse_time_predicates({"options": {}, "news": {}})
    with pytest.raises(ValueError, match="list"):
        parse_time_predicates([("options", {})])  # type: ignore[arg-type]


def test_parse_request() -> None:
    request = MetadataExtraction(tickers=["SPY"], metrics=["IV Skew"])
    assert parse_request(request) is request
    assert parse_request({"tickers": ["QQQ"], "metrics": ["GPR Index"]}).tickers == ["QQQ"]

    class UpstreamExtraction(BaseModel):
        tickers: list[str]
        metrics: list[str]
        time_window: str | None = None
        sectors: list[str] = []

    upstream = UpstreamExtraction(tickers=["IWM"], metrics=["Price"], time_window="past_week")
    assert parse_request(upstream).time_window == "past_week"


@pytest.mark.parametrize("bad", [None, ["SPY"], "SPY", 42])
def test_parse_request_rejects_other_types(bad: object) -> None:
    with pytest.raises(ValueError, match=type(bad).__name__):
        parse_request(bad)  # type: ignore[arg-type]
