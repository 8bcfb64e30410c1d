"""Anchor dates from collect_data_state.json (docs/lake.md, "Freshness state"), and write_state.

Hand-checked dates: the state file says options/macro 2026-04-30 and GPR 2026-04 (first of month
2026-04-01); "today" is Wednesday 2026-05-13, so a GPR fallback is 2026-05-01.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from silver_assets import anchors
from silver_assets.anchors import (
    STATE_KEYS,
    Anchor,
    parse_state_key,
    read_state,
    resolve_anchor,
    resolve_anchors,
    write_state,
)

TODAY = date(2026, 5, 13)
GOOD_KEYS = {
    "options_daily": "2026-04-30",
    "macro_trading_daily": "2026-04-29",
    "gpr_monthly": "2026-04",
    # Other jobs' keys, as real state files carry them: ignored.
    "news_daily": "2026-05-12",
    "sec_filings": "2026-W17",
    "sec_insider": "2026-W18",
}


def _state(tmp_path: Path, payload: object) -> Path:
    path = tmp_path / "config" / "runtime" / "collect_data_state.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    text = payload if isinstance(payload, str) else json.dumps(payload)
    path.write_text(text, encoding="utf-8")
    return path


# --- anchors from a good state file -----------------------------------------------------------


@pytest.mark.parametrize(
    ("dataset", "expected"),
    [
        ("options", date(2026, 4, 30)),
        ("macro", date(2026, 4, 29)),
        ("gpr", date(2026, 4, 1)),  # "YYYY-MM" means the first of that month
    ],
)
def test_anchor_from_good_state_file(tmp_path: Path, dataset: str, expected: date) -> None:
    path = _state(tmp_path, {"last_run_keys": GOOD_KEYS, "updated_at": "2026-05-12T23:00:00"})
    anchor = resolve_anchor(dataset, path, today=TODAY)
    assert anchor == Anchor(dataset, expected)
    assert anchor.is_fallback is False
    assert anchor.fallback_reason is None


def test_resolve_anchors_covers_every_dataset(tmp_path: Path) -> None:
    path = _state(tmp_path, {"last_run_keys": GOOD_KEYS})
    anchors = resolve_anchors(path, today=TODAY)
    assert {name: a.date for name, a in anchors.items()} == {
        "options": date(2026, 4, 30),
        "macro": date(2026, 4, 29),
        "gpr": date(2026, 4, 1),
    }
    assert not any(a.is_fallback for a in anchors.values())


def test_other_jobs_keys_alone_do_not_provide_an_anchor(tmp_path: Path) -> None:
    # Only news_daily and a weekly sec key: neither is read for any dataset.
    path = _state(
        tmp_path, {"last_run_keys": {"news_daily": "2026-05-12", "sec_filings": "2026-W17"}}
    )
    anchors = resolve_anchors(path, today=TODAY)
    assert anchors["options"].date == TODAY
    assert anchors["macro"].date == TODAY
    assert anchors["gpr"].date == date(2026, 5, 1)
    for dataset, anchor in anchors.items():
        assert anchor.is_fallback
        assert repr(STATE_KEYS[dataset]) in anchor.fallback_reason


def test_a_broken_key_only_affects_its_own_dataset(tmp_path: Path) -> None:
    keys = {**GOOD_KEYS, "macro_trading_daily": "not-a-date"}
    anchors = resolve_anchors(_state(tmp_path, {"last_run_keys": keys}), today=TODAY)
    assert anchors["options"] == Anchor("options", date(2026, 4, 30))
    assert anchors["gpr"] == Anchor("gpr", date(2026, 4, 1))
    assert anchors["macro"].date == TODAY
    assert "not-a-date" in anchors["macro"].fallback_reason


def test_unknown_dataset_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="news"):
        resolve_anchor("news", _state(tmp_path, {"last_run_keys": GOOD_KEYS}), today=TODAY)


# --- fallback to today --------------------------------------------------------------------------

FALLBACKS = {
    # case: (file content or None for "no file", fragment the reason must contain)
    "missing_file": (None, "does not exist"),
    "malformed_json": ('{"last_run_keys": {"options_daily": "2026-04-30",', "unreadable"),
    "empty_file": ("", "unreadable"),
    "no_last_run_keys": ({"updated_at": "2026-05-12T23:00:00"}, "'last_run_keys'"),
    "last_run_keys_not_an_object": ({"last_run_keys": ["2026-04-30"]}, "'last_run_keys'"),
    "top_level_not_an_object": ([GOOD_KEYS], "'last_run_keys'"),
    "missing_key": ({"last_run_keys": {"news_daily": "2026-05-12"}}, "has no key"),
    "unparseable_value": (
        {"last_run_keys": dict.fromkeys(STATE_KEYS.values(), "30/04/2026")},
        "'30/04/2026' is neither",
    ),
    "weekly_value": (
        {"last_run_keys": dict.fromkeys(STATE_KEYS.values(), "2026-W17")},
        "'2026-W17' is neither",
    ),
    "non_string_value": (
        {"last_run_keys": dict.fromkeys(STATE_KEYS.values(), 20260430)},
        "got int",
    ),
    "null_value": ({"last_run_keys": dict.fromkeys(STATE_KEYS.values())}, "got NoneType"),
}


@pytest.mark.parametrize("dataset", sorted(STATE_KEYS))
@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_fallback_to_today_names_the_problem(tmp_path: Path, case: str, dataset: str) -> None:
    content, fragment = FALLBACKS[case]
    if content is None:
        path = tmp_path / "absent" / "collect_data_state.json"
    else:
        path = _state(tmp_path, content)
    anchor = resolve_anchor(dataset, path, today=TODAY)
    # GPR falls back to the first of today's month, the daily datasets to today itself.
    assert anchor.date == (date(2026, 5, 1) if dataset == "gpr" else TODAY)
    assert anchor.is_fallback
    assert fragment in anchor.fallback_reason
    assert "falling back to today (2026-05-13)" in anchor.fallback_reason
    if case == "missing_key":
        assert repr(STATE_KEYS[dataset]) in anchor.fallback_reason


class FrozenDate(date):
    """``date`` whose ``today()`` is fixed, so the test cannot straddle midnight."""

    @classmethod
    def today(cls) -> date:
        return TODAY


def test_fallback_without_today_uses_the_clock(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setattr(anchors, "date", FrozenDate)
    anchor = resolve_anchor("options", tmp_path / "nope.json")
    assert anchor.is_fallback
    assert anchor.date == TODAY
    assert "falling back to today (2026-05-13)" in anchor.fallback_reason


def test_a_state_file_that_is_a_directory_falls_back(tmp_path: Path) -> None:
    anchor = resolve_anchor("options", tmp_path, today=TODAY)
    assert anchor.date == TODAY
    assert "unreadable" in anchor.fallback_reason


# --- parse_state_key / read_state ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-04-30", date(2026, 4, 30)),
        ("2026-04", date(2026, 4, 1)),
        ("2026-12", date(2026, 12, 1)),
        (" 2026-04-30\n", date(2026, 4, 30)),
    ],
)
def test_parse_state_key(raw: str, expected: date) -> None:
    assert parse_state_key(raw) == expected


@pytest.mark.parametrize("raw", ["2026-W17", "2026-13", "2026-02-30", "", "April 2026", 2026, None])
def test_parse_state_key_rejects(raw: object) -> None:
    with pytest.raises(ValueError, match=r"expected a date string|neither YYYY-MM-DD nor YYYY-MM"):
        parse_state_key(raw)


def test_read_state_returns_every_key_as_written(tmp_path: Path) -> None:
    assert read_state(_state(tmp_path, {"last_run_keys": GOOD_KEYS})) == GOOD_KEYS


# --- write_state --------------------------------------------------------------------------------


def test_write_state_merges_and_keeps_other_jobs_keys(tmp_path: Path) -> None:
    path = _state(
        tmp_path,
        {
            "last_run_keys": {
                "options_daily": "2026-04-29",
                "news_daily": "2026-05-12",
                "sec_filings": "2026-W17",
            },
            "updated_at": "2026-05-12T23:00:00",
        },
    )
    write_state(path, {"options_daily": "2026-04-30", "gpr_monthly": "2026-04"})
    payload = json.loads(path.read_text(encoding="utf-8"))
    assert payload["last_run_keys"] == {
        "options_daily": "2026-04-30",  # replaced
        "gpr_monthly": "2026-04",  # added
        "news_daily": "2026-05-12",  # kept
        "sec_filings": "2026-W17",  # kept
    }
    assert isinstance(payload["updated_at"], str)
    assert payload["updated_at"] != "2026-05-12T23:00:00"
    anchors = resolve_anchors(path, today=TODAY)
    assert anchors["options"] == Anchor("options", date(2026, 4, 30))
    assert anchors["gpr"] == Anchor("gpr", date(2026, 4, 1))
    assert anchors["macro"].is_fallback  # never written


def test_write_state_creates_the_file_and_its_folders(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "collect_data_state.json"
    write_state(path, {"macro_trading_daily": "2026-04-30"})
    assert read_state(path) == {"macro_trading_daily": "2026-04-30"}


def test_write_state_replaces_an_unreadable_file(tmp_path: Path) -> None:
    path = _state(tmp_path, "{not json")
    write_state(path, {"options_daily": "2026-04-30"})
    assert read_state(path) == {"options_daily": "2026-04-30"}


def test_write_state_leaves_no_temp_files(tmp_path: Path) -> None:
    path = _state(tmp_path, {"last_run_keys": {"news_daily": "2026-05-12"}})
    for day in ("2026-04-28", "2026-04-29", "2026-04-30"):
        write_state(path, {"options_daily": day})
    assert sorted(p.name for p in path.parent.iterdir()) == ["collect_data_state.json"]
    assert read_state(path) == {"news_daily": "2026-05-12", "options_daily": "2026-04-30"}


def test_a_failed_write_keeps_the_previous_state(tmp_path: Path) -> None:
    path = _state(tmp_path, {"last_run_keys": {"options_daily": "2026-04-29"}})
    before = path.read_bytes()
    with pytest.raises(TypeError):
        write_state(path, {"options_daily": date(2026, 4, 30)})  # type: ignore[dict-item]
    assert path.read_bytes() == before


def test_a_failed_write_leaves_no_temp_file(tmp_path: Path) -> None:
    path = _state(tmp_path, {"last_run_keys": {"options_daily": "2026-04-29"}})
    with pytest.raises(TypeError):
        write_state(path, {"options_daily": date(2026, 4, 30)})  # type: ignore[dict-item]
    assert sorted(p.name for p in path.parent.iterdir()) == ["collect_data_state.json"]
