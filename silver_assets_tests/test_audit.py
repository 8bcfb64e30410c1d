"""The audit log: lines, and a batch that appends a query's events together."""

from __future__ import annotations

from pathlib import Path

import pytest

from silver_assets.audit import AuditLog


def _lines(log: AuditLog) -> list[str]:
    return [event["event"] for event in log.read()]


def test_a_batch_appends_its_events_in_order_when_it_ends(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    log.write("START_QUERY", tickers=["SPY"])
    with log.batched():
        log.write("SQL_RANGE", handler="put_call_ratio", ticker="SPY")
        with log.batched():  # a nested batch leaves the writing to the outer one
            log.write("STALE_SNAPSHOT", handler="put_call_ratio")
        assert _lines(log) == ["START_QUERY"]
        log.write("FINISH_QUERY", latency_ms=1.0)
    assert _lines(log) == ["START_QUERY", "SQL_RANGE", "STALE_SNAPSHOT", "FINISH_QUERY"]
    assert log.read()[1]["ticker"] == "SPY"


def test_a_batch_that_fails_still_writes_its_events(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)

    def failing_query() -> None:
        with log.batched():
            log.write("EXECUTION_ERROR", stage="validation", error="bad")
            raise RuntimeError("the query failed")

    with pytest.raises(RuntimeError, match="the query failed"):
        failing_query()
    assert _lines(log) == ["EXECUTION_ERROR"]
    log.write("START_QUERY")  # and the log is back to writing each event at once
    assert _lines(log) == ["EXECUTION_ERROR", "START_QUERY"]


def test_a_value_with_any_line_break_stays_on_its_line(tmp_path: Path) -> None:
    log = AuditLog(tmp_path)
    # Every separator str.splitlines() breaks at, as a metric name in a request could carry.
    breaks = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"
    log.write("UNSUPPORTED_METRICS", metrics=[f"a{b}b" for b in breaks], note="x | y")
    (event,) = log.read()
    assert event["metrics"] == ",".join(["a b"] * len(breaks))
    assert event["note"] == "x / y"
