"""compile_window / in_window, with hand-checked calendar dates.

April 2026: Fri 24, Sat 25, Sun 26, Mon 27, Wed 29.
"""

from __future__ import annotations

from datetime import date, datetime

import pytest

from silver_assets.query import models
from silver_assets.query.models import MetadataExtraction, TimePredicate
from silver_assets.query.time_windows import ActiveWindow, compile_window, in_window


def _request(time_window: str | None = None) -> MetadataExtraction:
    return MetadataExtraction(tickers=["SPY"], metrics=["Put/Call Ratio"], time_window=time_window)


def _bounds(window: ActiveWindow) -> tuple[date, date, int, str]:
    return window.start, window.end, window.window_days, window.mode


def test_weekend_anchor_moves_back_to_friday_for_daily_sources() -> None:
    for source in ("options", "macro"):
        window = compile_window(source, date(2026, 4, 25), _request("past_week"))
        assert _bounds(window) == (date(2026, 4, 18), date(2026, 4, 24), 7, "window")
        assert window.source == source
        assert window.explicit is True
    sunday = compile_window("options", date(2026, 4, 26), _request("past_week"))
    assert sunday.end == date(2026, 4, 24)


def test_today_is_a_single_day() -> None:
    window = compile_window("options", date(2026, 4, 29), _request("today"))
    assert _bounds(window) == (date(2026, 4, 29), date(2026, 4, 29), 1, "latest_only")
    weekend = compile_window("macro", date(2026, 4, 26), _request("today"))
    assert _bounds(weekend) == (date(2026, 4, 24), date(2026, 4, 24), 1, "latest_only")


def test_yesterday_starts_on_the_previous_business_day() -> None:
    monday = compile_window("options", date(2026, 4, 27), _request("yesterday"))
    assert _bounds(monday) == (date(2026, 4, 24), date(2026, 4, 27), 4, "window")
    wednesday = compile_window("options", date(2026, 4, 29), _request("yesterday"))
    assert _bounds(wednesday) == (date(2026, 4, 28), date(2026, 4, 29), 2, "window")
    sunday = compile_window("options", date(2026, 4, 26), _request("yesterday"))
    assert _bounds(sunday) == (date(2026, 4, 23), date(2026, 4, 24), 2, "window")


def test_longer_windows_are_end_inclusive() -> None:
    month = compile_window("options", date(2026, 4, 29), _request("past_month"))
    assert _bounds(month) == (date(2026, 3, 31), date(2026, 4, 29), 30, "window")


def test_missing_window_uses_the_six_month_default() -> None:
    window = compile_window("macro", date(2026, 4, 29), _request(None))
    assert _bounds(window) == (date(2025, 11, 1), date(2026, 4, 29), 180, "window")
    assert window.explicit is False


def test_five_day_floor_only_for_a_short_window_not_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # With the real default (180 days) the floor cannot trigger; a short default shows the rule.
    monkeypatch.setattr(models, "DEFAULT_TIME_WINDOW", "today")
    implicit = compile_window("options", date(2026, 4, 29), _request(None))
    assert _bounds(implicit) == (date(2026, 4, 25), date(2026, 4, 29), 5, "window")
    explicit = compile_window("options", date(2026, 4, 29), _request("today"))
    assert _bounds(explicit) == (date(2026, 4, 29), date(2026, 4, 29), 1, "latest_only")


def test_gpr_short_window_widens_to_first_of_month() -> None:
    week = compile_window("gpr", date(2026, 4, 29), _request("past_week"))
    assert _bounds(week) == (date(2026, 4, 1), date(2026, 4, 29), 29, "window")
    # GPR is not daily: a Saturday anchor stays, and "today" still widens.
    today = compile_window("gpr", date(2026, 4, 25), _request("today"))
    assert _bounds(today) == (date(2026, 4, 1), date(2026, 4, 25), 25, "window")


def test_gpr_widening_never_narrows() -> None:
    month = compile_window("gpr", date(2026, 4, 29), _request("past_month"))
    assert month.start == date(2026, 3, 31)
    on_first = compile_window("gpr", date(2026, 4, 1), _request("today"))
    assert _bounds(on_first) == (date(2026, 4, 1), date(2026, 4, 1), 1, "latest_only")
    quarter = compile_window("gpr", date(2026, 4, 1), _request("past_quarter"))
    assert _bounds(quarter) == (date(2026, 1, 2), date(2026, 4, 1), 90, "window")


def test_predicate_is_used_verbatim() -> None:
    # A weekend range, a "today" request and a later anchor: none of them changes the predicate.
    predicate = TimePredicate(start_date=date(2026, 4, 25), end_date=date(2026, 4, 26))
    window = compile_window("options", date(2026, 4, 29), _request("today"), predicate)
    assert _bounds(window) == (date(2026, 4, 25), date(2026, 4, 26), 2, "window")
    assert window.explicit is True


def test_predicate_defaults() -> None:
    by_length = compile_window(
        "options", date(2026, 4, 25), _request(), TimePredicate(window_days=3)
    )
    assert _bounds(by_length) == (date(2026, 4, 23), date(2026, 4, 25), 3, "window")
    single = compile_window("macro", date(2026, 4, 29), _request(), TimePredicate(window_days=1))
    assert single.mode == "latest_only"
    # Neither start nor length: the request's window, ending on the predicate's end.
    empty = compile_window("options", date(2026, 4, 27), _request("yesterday"), TimePredicate())
    assert _bounds(empty) == (date(2026, 4, 24), date(2026, 4, 27), 4, "window")


def test_gpr_predicate_still_widens() -> None:
    predicate = TimePredicate(end_date=date(2026, 4, 29), window_days=7)
    window = compile_window("gpr", date(2026, 4, 29), _request(), predicate)
    assert (window.start, window.end) == (date(2026, 4, 1), date(2026, 4, 29))


def test_predicate_start_after_anchor_is_rejected() -> None:
    predicate = TimePredicate(start_date=date(2026, 4, 30))
    with pytest.raises(ValueError, match="after its end 2026-04-29"):
        compile_window("options", date(2026, 4, 29), _request(), predicate)


def test_unknown_source_is_rejected() -> None:
    with pytest.raises(ValueError, match="'news'"):
        compile_window("news", date(2026, 4, 29), _request())


def test_in_window_is_end_inclusive() -> None:
    window = compile_window("options", date(2026, 4, 29), _request("past_week"))
    assert window.start == date(2026, 4, 23)
    assert in_window(date(2026, 4, 23), window)
    assert in_window(date(2026, 4, 29), window)
    assert in_window(datetime(2026, 4, 29, 16, 0), window)
    assert not in_window(date(2026, 4, 22), window)
    assert not in_window(date(2026, 4, 30), window)


def test_datetime_anchor_is_treated_as_its_date() -> None:
    window = compile_window("options", datetime(2026, 4, 29, 9, 30), _request("today"))
    assert (window.start, window.end) == (date(2026, 4, 29), date(2026, 4, 29))


@pytest.mark.parametrize(("time_window", "explicit"), [("past_week", True), ("fortnight", False)])
def test_a_predicate_without_start_or_length_is_as_explicit_as_the_request(
    time_window, explicit
) -> None:
    window = compile_window("macro", date(2026, 4, 29), _request(time_window), TimePredicate())
    assert window.explicit is explicit
