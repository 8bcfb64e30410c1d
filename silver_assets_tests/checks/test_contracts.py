"""Contract validation (docs/contracts.md) on deliberately broken copies of a synthetic demo lake.

The demo lake holds SPY for the sessions 2026-04-29 and 2026-04-30, the two macro retrievals of
those days and the GPR file (2020-01 .. 2026-04). Each test writes a broken copy of one of those
files into its own tmp_path, in the lake layout, and validates it.
"""

from __future__ import annotations

import threading
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import numpy as np
import pandera.polars as pap
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from silver_assets.checks import contracts
from silver_assets.checks.contracts import validate, vanished_tickers
from silver_assets.lake import files
from silver_assets.lake.generator import generate_lake
from silver_assets.metrics import sql

DAY1, DAY2 = date(2026, 4, 29), date(2026, 4, 30)
LEGACY_DROPPED = ["moneyness_ratio", "spread_ratio", "is_liquid_basic", "is_executable_liquid"]


@pytest.fixture(scope="module")
def demo_lake(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("demo") / "silver"
    summary = generate_lake(root, days=2, tickers=("SPY",), progress=False)
    assert summary.trading_days == [DAY1, DAY2]
    return root


@pytest.fixture(scope="module")
def chain(demo_lake: Path) -> pa.Table:
    """The SPY chain of 2026-04-30 (a valid file in the current 22-column layout)."""
    return pq.read_table(_options_path(demo_lake, DAY2))


def _options_path(root: Path, day: date, ticker: str = "SPY") -> Path:
    return root / "options" / day.isoformat() / f"{ticker}_options_{day.isoformat()}.parquet"


def _write_options(root: Path, table: pa.Table, day: date = DAY2, ticker: str = "SPY") -> Path:
    path = _options_path(root, day, ticker)
    path.parent.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, path)
    return path


def _replace(table: pa.Table, name: str, values: object) -> pa.Table:
    column = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values)
    return table.set_column(table.schema.get_field_index(name), name, column)


def _checks(report) -> set[str]:
    return {sample["check"] for sample in report.failure_samples}


# --- valid files and missing files ----------------------------------------------------------


@pytest.mark.parametrize("dataset", ["options", "macro", "gpr"])
def test_valid_demo_files_pass(demo_lake: Path, dataset: str) -> None:
    if dataset == "gpr":
        paths = [files.gpr_file(demo_lake)]
    else:
        paths = files.files_between(demo_lake, dataset, DAY1, DAY2)
    assert len(paths) == (1 if dataset == "gpr" else 2)
    report = validate(dataset, paths)
    assert report.status == "OK"
    assert report.passed
    assert report.files_checked == len(paths)
    assert report.rows_checked > 0
    assert report.failure_count == 0
    assert report.failure_samples == []
    assert report.warnings == []
    assert report.missing_columns == {}
    assert report.unreadable == {}


def test_valid_gpr_rows_are_counted_exactly(demo_lake: Path) -> None:
    report = validate("gpr", [files.gpr_file(demo_lake)])
    assert report.rows_checked == 76  # 2020-01 .. 2026-04


def test_real_gpr_row_of_april_2026(demo_lake: Path) -> None:
    # docs/lake.md: April 2026 gives level 230.77 and percentile 97.58.
    frame = pq.read_table(files.gpr_file(demo_lake)).to_pandas()
    april = frame[frame["date"] == "2026-04-01"]
    assert len(april) == 1
    row = april.iloc[0]
    assert row["gpr"] == pytest.approx(230.77, abs=1e-9)
    assert row["gpr_percentile"] == pytest.approx(97.58, abs=1e-9)
    assert not row["is_synthetic"]
    march = frame[frame["date"] == "2026-03-01"].iloc[0]
    assert march["gpr"] == pytest.approx(326.99, abs=1e-9)  # the revised figure


@pytest.mark.parametrize("dataset", ["options", "macro", "gpr"])
def test_no_files(dataset: str, tmp_path: Path) -> None:
    report = validate(dataset, [])
    assert report.status == "NO_FILES"
    assert not report.passed
    assert dataset in report.message
    # A lake root that does not exist lists no files either.
    missing_root = tmp_path / "no-such-lake"
    if dataset == "gpr":
        paths = [p for p in [files.gpr_file(missing_root)] if p.exists()]
    else:
        paths = files.files_between(missing_root, dataset, date(2020, 1, 1), DAY2)
    assert validate(dataset, paths).status == "NO_FILES"


def test_unknown_dataset_is_an_error() -> None:
    with pytest.raises(ValueError, match="news"):
        validate("news", [])


# --- unreadable files -----------------------------------------------------------------------


def test_garbage_bytes_are_read_failed_naming_the_file(demo_lake: Path, tmp_path: Path) -> None:
    good = _write_options(tmp_path, pq.read_table(_options_path(demo_lake, DAY1)), day=DAY1)
    bad = _options_path(tmp_path, DAY2)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(b"this is not a parquet file\n" * 10)
    report = validate("options", [good, bad])
    assert report.status == "READ_FAILED"
    assert not report.passed
    assert list(report.unreadable) == [str(bad)]
    assert bad.name in report.message
    assert good.name not in report.message
    assert report.rows_checked == 0


def test_truncated_copy_is_read_failed_naming_the_file(demo_lake: Path, tmp_path: Path) -> None:
    data = _options_path(demo_lake, DAY2).read_bytes()
    bad = _options_path(tmp_path, DAY2)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(data[: len(data) // 2])
    report = validate("options", [bad])
    assert report.status == "READ_FAILED"
    assert list(report.unreadable) == [str(bad)]
    assert bad.name in report.message


def test_truncated_gpr_file_is_read_failed(demo_lake: Path, tmp_path: Path) -> None:
    data = files.gpr_file(demo_lake).read_bytes()
    bad = files.gpr_file(tmp_path)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(data[:-100])
    report = validate("gpr", [bad])
    assert report.status == "READ_FAILED"
    assert "gpr_monthly_enriched.parquet" in report.message


def test_corrupt_data_pages_are_read_failed_naming_the_file(
    demo_lake: Path, tmp_path: Path
) -> None:
    data = bytearray(_options_path(demo_lake, DAY2).read_bytes())
    data[4 : len(data) // 2] = b"\xab" * (len(data) // 2 - 4)  # keep magic bytes and footer
    bad = _options_path(tmp_path, DAY2)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(bytes(data))
    report = validate("options", [bad])
    assert report.status == "READ_FAILED"
    assert bad.name in report.message


# --- missing columns ------------------------------------------------------------------------


def test_renamed_column_is_missing_columns(
    demo_lake: Path, chain: pa.Table, tmp_path: Path
) -> None:
    good = _write_options(tmp_path, pq.read_table(_options_path(demo_lake, DAY1)), day=DAY1)
    names = ["iv" if n == "implied_volatility" else n for n in chain.column_names]
    bad = _write_options(tmp_path, chain.rename_columns(names))
    report = validate("options", [good, bad])
    assert report.status == "MISSING_COLUMNS"
    assert not report.passed
    assert report.missing_columns == {str(bad): ["implied_volatility"]}
    assert "implied_volatility" in report.message
    assert bad.name in report.message
    assert good.name not in report.message


def test_macro_without_mom_change_pct(demo_lake: Path, tmp_path: Path) -> None:
    source = files.macro_files(demo_lake, DAY2)[0]
    bad = tmp_path / "macro" / DAY2.isoformat() / source.name
    bad.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(source).drop_columns(["mom_change_pct"]), bad)
    report = validate("macro", [bad])
    assert report.status == "MISSING_COLUMNS"
    assert report.missing_columns == {str(bad): ["mom_change_pct"]}
    assert "mom_change_pct" in report.message
    assert bad.name in report.message


def test_current_layout_missing_one_flag_is_missing_columns(
    chain: pa.Table, tmp_path: Path
) -> None:
    bad = _write_options(tmp_path, chain.drop_columns(["is_executable_liquid"]))
    report = validate("options", [bad])
    assert report.status == "MISSING_COLUMNS"
    assert report.missing_columns == {str(bad): ["is_executable_liquid"]}


# --- the older 18-column layout -------------------------------------------------------------


def _legacy(table: pa.Table) -> pa.Table:
    """The older layout: four columns fewer, spread_pct = (ask - bid)/ask*100, 0.0 if invalid."""
    bid = table.column("bid").to_numpy()
    ask = table.column("ask").to_numpy()
    valid = (ask > 0) & (bid >= 0) & (ask >= bid)
    spread = np.where(valid, 100.0 * (ask - bid) / np.where(ask > 0, ask, 1.0), 0.0)
    legacy = _replace(table.drop_columns(LEGACY_DROPPED), "spread_pct", spread)
    assert legacy.num_columns == 18
    return legacy


def test_older_layout_passes_with_a_warning(
    demo_lake: Path, chain: pa.Table, tmp_path: Path
) -> None:
    current = _write_options(tmp_path, pq.read_table(_options_path(demo_lake, DAY1)), day=DAY1)
    old = _write_options(tmp_path, _legacy(chain))
    report = validate("options", [current, old])
    assert report.status == "OK"
    assert report.passed
    assert report.failure_count == 0
    assert report.rows_checked == pq.read_metadata(current).num_rows + chain.num_rows
    assert len(report.warnings) == 1
    warning = report.warnings[0]
    assert old.name in warning
    for column in ("spread_ratio", "is_liquid_basic", "is_executable_liquid"):
        assert column in warning
    assert current.name not in warning


def test_older_layout_warning_names_all_four_missing_columns(
    chain: pa.Table, tmp_path: Path
) -> None:
    old = _write_options(tmp_path, _legacy(chain))
    (warning,) = validate("options", [old]).warnings
    for column in LEGACY_DROPPED:
        assert column in warning


# --- unit contracts and row checks (pandera) ------------------------------------------------


def test_spread_pct_written_as_fractions_fails(chain: pa.Table, tmp_path: Path) -> None:
    bad = _write_options(
        tmp_path, _replace(chain, "spread_pct", pc.divide(chain.column("spread_pct"), 100.0))
    )
    report = validate("options", [bad])
    assert not report.passed
    assert report.rows_checked == chain.num_rows
    assert report.failure_count > 0
    assert "spread_pct_equals_100x_spread_ratio" in _checks(report)
    assert "spread_pct_equals_100x_spread_ratio" in report.message


def test_older_layout_spread_pct_as_fractions_fails(chain: pa.Table, tmp_path: Path) -> None:
    # Without spread_ratio to compare with, the all-values-at-most-1 heuristic catches it.
    legacy = _legacy(chain)
    broken = _replace(legacy, "spread_pct", pc.divide(legacy.column("spread_pct"), 100.0))
    report = validate("options", [_write_options(tmp_path, broken)])
    assert not report.passed
    assert "spread_pct_is_percentage_points_not_fractions" in _checks(report)


def test_implied_volatility_in_percent_fails(chain: pa.Table, tmp_path: Path) -> None:
    iv = pc.multiply(chain.column("implied_volatility"), 100.0)
    report = validate(
        "options", [_write_options(tmp_path, _replace(chain, "implied_volatility", iv))]
    )
    assert not report.passed
    assert report.failure_count > 0
    assert {s["column"] for s in report.failure_samples} == {"implied_volatility"}
    assert all("fraction" in s["check"] for s in report.failure_samples)
    assert all(s["value"] > 5 for s in report.failure_samples)


def test_negative_volume_fails(chain: pa.Table, tmp_path: Path) -> None:
    volume = chain.column("volume").to_numpy().copy()
    volume[[0, 1, 2]] = -5
    report = validate("options", [_write_options(tmp_path, _replace(chain, "volume", volume))])
    assert not report.passed
    assert report.failure_count == 3
    assert [(s["column"], s["value"]) for s in report.failure_samples] == [("volume", -5.0)] * 3
    symbols = chain.column("contract_symbol").to_pylist()[:3]
    assert [s["contract_symbol"] for s in report.failure_samples] == symbols


def test_negative_open_interest_fails(chain: pa.Table, tmp_path: Path) -> None:
    oi = chain.column("open_interest").to_numpy().copy()
    oi[7] = -1
    report = validate("options", [_write_options(tmp_path, _replace(chain, "open_interest", oi))])
    assert not report.passed
    assert report.failure_count == 1
    assert report.failure_samples[0]["column"] == "open_interest"


def test_unknown_option_type_fails(chain: pa.Table, tmp_path: Path) -> None:
    kinds = chain.column("option_type").to_pylist()
    kinds[0] = "CALL"
    report = validate("options", [_write_options(tmp_path, _replace(chain, "option_type", kinds))])
    assert not report.passed
    assert report.failure_samples[0]["column"] == "option_type"
    assert report.failure_samples[0]["value"] == "CALL"


def _swap_bid_ask(chain: pa.Table, count: int) -> pa.Table:
    bid = chain.column("bid").to_numpy().copy()
    ask = chain.column("ask").to_numpy().copy()
    rows = np.flatnonzero(ask > bid)[:count]
    bid[rows], ask[rows] = ask[rows].copy(), bid[rows].copy()
    return _replace(_replace(chain, "bid", bid), "ask", ask)


def test_bid_above_ask_fails(chain: pa.Table, tmp_path: Path) -> None:
    report = validate("options", [_write_options(tmp_path, _swap_bid_ask(chain, 4))])
    assert not report.passed
    assert report.failure_count > 0
    assert _checks(report) == {"bid_le_ask"}
    assert "bid_le_ask" in report.message


def test_bid_above_ask_counts_failing_rows(chain: pa.Table, tmp_path: Path) -> None:
    report = validate("options", [_write_options(tmp_path, _swap_bid_ask(chain, 4))])
    assert report.failure_count == 4
    assert report.failure_count <= report.rows_checked


def test_gpr_percentile_as_fractions_fails(demo_lake: Path, tmp_path: Path) -> None:
    table = pq.read_table(files.gpr_file(demo_lake))
    pct = pc.divide(table.column("gpr_percentile"), 100.0)
    bad = files.gpr_file(tmp_path)
    bad.parent.mkdir(parents=True)
    pq.write_table(_replace(table, "gpr_percentile", pct), bad)
    report = validate("gpr", [bad])
    assert not report.passed
    assert report.failure_count > 0
    assert "gpr_percentile_is_percentage_points_not_fractions" in _checks(report)


# --- every row, one row per key, per-file units, IV coverage --------------------------------


def test_duplicated_rows_fail_naming_file_and_rule(chain: pa.Table, tmp_path: Path) -> None:
    doubled = _write_options(tmp_path, pa.concat_tables([chain, chain]))
    report = validate("options", [doubled])
    assert report.status == "CONTRACT_FAILED"
    rule = "one_row_per_snapshot_date_symbol_contract_symbol"
    assert report.failures_by_rule == {rule: {doubled.name: 2 * chain.num_rows}}
    assert f"{rule} ({2 * chain.num_rows} rows in {doubled.name})" in report.message
    assert {s["file"] for s in report.failure_samples} == {doubled.name}


def test_one_duplicated_contract_is_two_failing_rows(chain: pa.Table, tmp_path: Path) -> None:
    path = _write_options(tmp_path, pa.concat_tables([chain, chain.slice(3, 1)]))
    report = validate("options", [path])
    assert report.failure_count == 2
    symbol = chain.column("contract_symbol")[3].as_py()
    assert [s["contract_symbol"] for s in report.failure_samples] == [symbol, symbol]


def test_every_file_is_row_validated_not_only_the_latest(
    demo_lake: Path, chain: pa.Table, tmp_path: Path
) -> None:
    older = pq.read_table(_options_path(demo_lake, DAY1))
    volume = older.column("volume").to_numpy().copy()
    volume[0] = -5
    bad = _write_options(tmp_path, _replace(older, "volume", volume), day=DAY1)
    good = [_write_options(tmp_path, chain)]
    report = validate("options", [bad, *good])
    assert report.rows_checked == older.num_rows + chain.num_rows
    assert report.failures_by_rule == {"greater_than_or_equal_to(0)": {bad.name: 1}}


def test_unit_heuristic_is_per_file(demo_lake: Path, chain: pa.Table, tmp_path: Path) -> None:
    # Older-layout files have no spread_ratio to compare with: only the heuristic can tell.
    good = _write_options(tmp_path, _legacy(pq.read_table(_options_path(demo_lake, DAY1))), DAY1)
    legacy = _legacy(chain)
    fractions = _replace(legacy, "spread_pct", pc.divide(legacy.column("spread_pct"), 100.0))
    bad = _write_options(tmp_path, fractions)
    report = validate("options", [good, bad])
    assert not report.passed
    rule = "spread_pct_is_percentage_points_not_fractions"
    assert report.failures_by_rule[rule] == {bad.name: chain.num_rows}
    assert good.name not in report.message
    assert bad.name in report.message


def test_unit_heuristic_ignores_small_files(chain: pa.Table, tmp_path: Path) -> None:
    legacy = _legacy(chain.slice(0, 10))
    tiny = _replace(legacy, "spread_pct", pc.divide(legacy.column("spread_pct"), 100.0))
    assert validate("options", [_write_options(tmp_path, tiny)]).passed


def _liquid_rows(table: pa.Table) -> np.ndarray:
    return np.flatnonzero(table.column("is_liquid").to_numpy(zero_copy_only=False))


def test_a_day_without_liquid_iv_fails(chain: pa.Table, tmp_path: Path) -> None:
    iv = chain.column("implied_volatility").to_numpy().copy()
    iv[_liquid_rows(chain)] = np.nan
    path = _write_options(tmp_path, _replace(chain, "implied_volatility", iv))
    report = validate("options", [path])
    assert report.status == "CONTRACT_FAILED"
    rule = "liquid_implied_volatility_not_all_missing"
    assert report.failures_by_rule == {rule: {path.name: len(_liquid_rows(chain))}}
    assert all(s["implied_volatility"] is None for s in report.failure_samples)


def test_mostly_missing_liquid_iv_is_a_warning(chain: pa.Table, tmp_path: Path) -> None:
    liquid = _liquid_rows(chain)
    iv = chain.column("implied_volatility").to_numpy().copy()
    iv[liquid[: int(len(liquid) * 0.6) + 1]] = np.nan
    path = _write_options(tmp_path, _replace(chain, "implied_volatility", iv))
    report = validate("options", [path])
    assert report.passed
    (warning,) = report.warnings
    assert warning.startswith(f"{path.name}: 60% of {len(liquid)} liquid contracts")


def test_a_few_missing_ivs_pass_quietly(chain: pa.Table, tmp_path: Path) -> None:
    iv = chain.column("implied_volatility").to_numpy().copy()
    iv[_liquid_rows(chain)[:3]] = np.nan
    report = validate(
        "options", [_write_options(tmp_path, _replace(chain, "implied_volatility", iv))]
    )
    assert report.passed
    assert report.warnings == []


def test_duplicated_macro_rows_fail(demo_lake: Path, tmp_path: Path) -> None:
    source = files.macro_files(demo_lake, DAY2)[0]
    table = pq.read_table(source)
    bad = tmp_path / "macro" / DAY2.isoformat() / source.name
    bad.parent.mkdir(parents=True)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), bad)
    report = validate("macro", [bad])
    rule = "one_row_per_symbol_observation_date_retrieval_date"
    assert report.failures_by_rule == {rule: {bad.name: 2}}


def test_same_macro_row_retrieved_on_two_days_passes(demo_lake: Path) -> None:
    assert validate("macro", files.files_between(demo_lake, "macro", DAY1, DAY2)).passed


def test_macro_without_retrieval_date_takes_the_folder_date(
    demo_lake: Path, tmp_path: Path
) -> None:
    source = files.macro_files(demo_lake, DAY2)[0]
    table = pq.read_table(source).drop_columns(["retrieval_date"])
    bad = tmp_path / "macro" / DAY2.isoformat() / source.name
    bad.parent.mkdir(parents=True)
    pq.write_table(pa.concat_tables([table, table.slice(0, 1)]), bad)
    report = validate("macro", [bad])
    assert report.failures_by_rule == {
        "one_row_per_symbol_observation_date_retrieval_date": {bad.name: 2}
    }
    assert report.failure_samples[0]["retrieval_date"] == DAY2.isoformat()


def test_two_gpr_rows_for_one_month_fail(demo_lake: Path, tmp_path: Path) -> None:
    table = pq.read_table(files.gpr_file(demo_lake))
    bad = files.gpr_file(tmp_path)
    bad.parent.mkdir(parents=True)
    pq.write_table(pa.concat_tables([table, table.slice(5, 1)]), bad)
    report = validate("gpr", [bad])
    assert report.failures_by_rule == {"one_row_per_month": {bad.name: 2}}


def test_vanished_tickers_are_named() -> None:
    def day(d: date, *tickers: str) -> tuple[date, list[Path]]:
        return d, [Path(f"{t}_options_{d}.parquet") for t in tickers]

    by_day = dict(
        [
            day(date(2026, 4, 28), "SPY", "QQQ", "GLD"),
            day(DAY1, "SPY"),
            day(DAY2, "SPY", "QQQ"),
        ]
    )
    assert vanished_tickers(by_day) == [
        "2026-04-29: tickers vanished since the date before: GLD, QQQ"
    ]


# --- bounded memory: rows are read in chunks of whole dates -----------------------------------


def test_chunks_keep_dates_whole_where_they_fit_the_row_budget() -> None:
    paths = [Path(f"options/{day}/{t}.parquet") for day in ("d1", "d2", "d3") for t in "AB"]
    rows = dict(zip(paths, [30, 30, 50, 20, 10, 10], strict=True))
    chunks = list(contracts._chunks(paths, rows, max_rows=70))
    # d1 (60 rows) then d2 (70): together over the budget; d2 and d3 (90) too.
    assert chunks == [paths[0:2], paths[2:4], paths[4:6]]
    assert list(contracts._chunks(paths, rows, max_rows=1000)) == [paths]


def test_a_date_over_the_budget_is_split_between_its_files() -> None:
    paths = [Path(f"options/{day}/{t}.parquet") for day in ("d1", "d2") for t in "ABC"]
    rows = dict(zip(paths, [40, 40, 40, 10, 10, 10], strict=True))
    chunks = list(contracts._chunks(paths, rows, max_rows=90))
    # d1 (120 rows) alone is over the budget: its files go by two; d2 fits whole beside C.
    assert chunks == [paths[0:2], paths[2:6]]
    # A file larger than the budget is read whole, alone.
    assert list(contracts._chunks(paths, rows, max_rows=1)) == [[p] for p in paths]


def test_report_is_the_same_whatever_the_chunk_size(
    demo_lake: Path, chain: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    older = pq.read_table(_options_path(demo_lake, DAY1))
    volume = older.column("volume").to_numpy().copy()
    volume[0] = -5
    first = _write_options(tmp_path, _replace(older, "volume", volume), day=DAY1)
    bids = chain.column("bid").to_numpy().copy()
    bids[2] = chain.column("ask")[2].as_py() + 1
    second = _write_options(tmp_path, _replace(chain, "bid", bids))
    whole = validate("options", [first, second])
    monkeypatch.setattr(contracts, "ROW_CHUNK_ROWS", 1)  # one date per read
    by_date = validate("options", [first, second])
    assert whole.failure_count == 2
    assert len(whole.failures_by_rule) == 2
    assert by_date == whole


# --- the DuckDB screen agrees with pandera's own validation, rule by rule --------------------


def _set(table: pa.Table, name: str, row: int, value: object) -> pa.Table:
    values = table.column(name).to_pylist()
    values[row] = value
    return _replace(table, name, pa.array(values, type=table.schema.field(name).type))


def _as_fractions(name: str):
    """Every value of ``name`` at most 1, as if written as fractions (large ones capped)."""
    return lambda t: _replace(t, name, pc.divide(pc.min_element_wise(t.column(name), 100.0), 100))


def _no_liquid_iv(table: pa.Table) -> pa.Table:
    iv = table.column("implied_volatility").to_numpy().copy()
    iv[_liquid_rows(table)] = np.nan
    return _replace(table, "implied_volatility", iv)


def _bid_over_ask(table: pa.Table) -> pa.Table:
    return _set(table, "bid", 2, table.column("ask")[2].as_py() + 1)


def _shifted(name: str, by: float):
    return lambda t: _set(t, name, 0, t.column(name)[0].as_py() + by)


# (dataset, the rule pandera reports, how a valid file is broken to fail it)
PLANTED = [
    ("options", "not_nullable", lambda t: _set(t, "snapshot_date", 0, "not a date")),
    ("options", "not_nullable", lambda t: _set(t, "expiration", 1, None)),
    ("options", "not_nullable", lambda t: _set(t, "option_type", 2, None)),
    ("options", "not_nullable", lambda t: _set(t, "symbol", 3, None)),
    ("options", "not_nullable", lambda t: _set(t, "contract_symbol", 4, None)),
    ("options", "isin(['call', 'put'])", lambda t: _set(t, "option_type", 0, "straddle")),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "dte", 0, -1)),
    ("options", "greater_than(0)", lambda t: _set(t, "strike", 0, 0.0)),
    ("options", "greater_than(0)", lambda t: _set(t, "underlying_price", 0, -1.0)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "bid", 0, -0.5)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "ask", 0, -0.5)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "volume", 0, -1)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "open_interest", 0, -1)),
    (
        "options",
        "implied_volatility must be a fraction (0.18 = 18%)",
        lambda t: _set(t, "implied_volatility", 0, 18.0),
    ),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "moneyness_pct", 0, -1.0)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "spread_pct", 0, -1.0)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "spread_ratio", 0, -1.0)),
    ("options", "greater_than_or_equal_to(0)", lambda t: _set(t, "moneyness_ratio", 0, -1.0)),
    (
        "options",
        "one_row_per_snapshot_date_symbol_contract_symbol",
        lambda t: pa.concat_tables([t, t.slice(3, 1)]),
    ),
    ("options", "bid_le_ask", _bid_over_ask),
    ("options", "moneyness_pct_is_100x_abs_strike_over_spot", _shifted("strike", 7.0)),
    ("options", "spread_pct_equals_100x_spread_ratio", _shifted("spread_ratio", 0.5)),
    ("options", "moneyness_pct_equals_100x_moneyness_ratio", _shifted("moneyness_ratio", 0.5)),
    ("options", "spread_pct_is_percentage_points_not_fractions", _as_fractions("spread_pct")),
    (
        "options",
        "moneyness_pct_is_percentage_points_not_fractions",
        _as_fractions("moneyness_pct"),
    ),
    ("options", "liquid_implied_volatility_not_all_missing", _no_liquid_iv),
    ("macro", "not_nullable", lambda t: _set(t, "observation_date", 0, None)),
    ("macro", "not_nullable", lambda t: _set(t, "symbol", 0, None)),
    ("macro", "in_range(-100, 1000)", lambda t: _set(t, "daily_change_pct", 0, 5000.0)),
    ("macro", "in_range(-100, 1000)", lambda t: _set(t, "mom_change_pct", 0, -200.0)),
    (
        "macro",
        "one_row_per_symbol_observation_date_retrieval_date",
        lambda t: pa.concat_tables([t, t.slice(0, 1)]),
    ),
    ("gpr", "not_nullable", lambda t: _set(t, "date", 0, None)),
    ("gpr", "greater_than_or_equal_to(0)", lambda t: _set(t, "gpr", 0, -1.0)),
    ("gpr", "in_range(0, 100)", lambda t: _set(t, "gpr_percentile", 0, 150.0)),
    ("gpr", "greater_than_or_equal_to(-100)", lambda t: _set(t, "gpr_mom_pct", 0, -150.0)),
    ("gpr", "one_row_per_month", lambda t: pa.concat_tables([t, t.slice(5, 1)])),
    ("gpr", "gpr_percentile_is_percentage_points_not_fractions", _as_fractions("gpr_percentile")),
]


def _valid_file(root: Path, dataset: str) -> Path:
    if dataset == "options":
        return _options_path(root, DAY2)
    if dataset == "macro":
        return files.macro_files(root, DAY2)[0]
    return files.gpr_file(root)


def _screened(dataset: str, path: Path) -> contracts.Screen:
    required, schema_factory = contracts.DATASETS[dataset]
    wanted = set(required) | set(contracts.OPTIONAL_COLUMNS[dataset])
    columns = sorted(set(pq.read_schema(path).names) & wanted)
    with sql.prepare(duckdb.connect()) as con:
        return contracts.screen(con, dataset, schema_factory(), [path], columns)


@pytest.mark.parametrize(("dataset", "rule", "plant"), PLANTED)
def test_screen_and_pandera_agree_on_a_planted_failure(
    demo_lake: Path, tmp_path: Path, dataset: str, rule: str, plant
) -> None:
    source = _valid_file(demo_lake, dataset)
    path = tmp_path / source.relative_to(demo_lake)
    path.parent.mkdir(parents=True)
    pq.write_table(plant(pq.read_table(source)), path)

    pandera_only = validate(dataset, [path], screened=False)
    assert pandera_only.status == "CONTRACT_FAILED"
    assert rule in pandera_only.failures_by_rule
    found = _screened(dataset, path).failing
    assert {check for check, _ in found} == set(pandera_only.failures_by_rule)
    # Row and per-file rules count the same rows of the same file; uniqueness names no file.
    assert {key: n for key, n in found.items() if key[1]} == {
        (check, name): n
        for check, by_file in pandera_only.failures_by_rule.items()
        for name, n in by_file.items()
        if not check.startswith("one_row_per_")
    }
    assert validate(dataset, [path]) == pandera_only


@pytest.mark.parametrize("dataset", ["options", "macro", "gpr"])
def test_every_rule_of_the_schema_has_a_planted_failure(dataset: str) -> None:
    required, schema_factory = contracts.DATASETS[dataset]
    columns = frozenset(required) | set(contracts.OPTIONAL_COLUMNS[dataset])
    rules = contracts.screen_rules(schema_factory(), columns | {"retrieval_date"})
    planted = {rule for name, rule, _ in PLANTED if name == dataset}
    assert planted == {rule.check for rule in rules}


@pytest.mark.parametrize("dataset", ["options", "macro", "gpr"])
def test_a_valid_chunk_is_never_read_into_pandera(
    demo_lake: Path, dataset: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = [_valid_file(demo_lake, dataset)]
    reference = validate(dataset, paths, screened=False)

    def unexpected(*args: object) -> None:
        raise AssertionError("a chunk without failures was read for pandera")

    monkeypatch.setattr(contracts, "_read_frame", unexpected)
    assert validate(dataset, paths) == reference
    assert reference.passed


def test_screen_and_pandera_give_the_same_iv_coverage_warning(
    chain: pa.Table, tmp_path: Path
) -> None:
    liquid = _liquid_rows(chain)
    iv = chain.column("implied_volatility").to_numpy().copy()
    iv[liquid[: len(liquid) // 2 + 1]] = np.nan
    path = _write_options(tmp_path, _replace(chain, "implied_volatility", iv))
    screened = validate("options", [path])
    assert len(screened.warnings) == 1
    assert screened == validate("options", [path], screened=False)


def test_a_rule_without_a_screen_form_is_refused() -> None:
    gpr = contracts._gpr_schema()
    custom = pap.Check(lambda data: data.lazyframe.select(pl.col("gpr") < 1e9), name="custom")
    with_custom = pap.DataFrameSchema(gpr.columns, checks=[*gpr.checks, custom])
    with pytest.raises(ValueError, match="no form for frame check 'custom'"):
        contracts.screen_rules(with_custom, frozenset(contracts.GPR_REQUIRED))
    matching = pap.DataFrameSchema({"gpr": pap.Column(str, pap.Check.str_matches("x"))})
    with pytest.raises(ValueError, match="no form for check 'str_matches' of 'gpr'"):
        contracts.screen_rules(matching, frozenset({"gpr"}))


def test_chunks_are_screened_by_two_workers_at_once(
    demo_lake: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(demo_lake.glob("options/*/*.parquet"))
    serial = validate("options", paths, screened=False)
    # Each worker's first screen waits for the other's: one thread alone would time out.
    both_started = threading.Barrier(contracts.SCREEN_WORKERS, timeout=30)
    threads: set[str] = set()
    screen = contracts.screen

    def screen_together(*args: Any) -> contracts.Screen:
        name = threading.current_thread().name
        if name not in threads:
            threads.add(name)
            both_started.wait()
        return screen(*args)

    monkeypatch.setattr(contracts, "screen", screen_together)
    monkeypatch.setattr(contracts, "ROW_CHUNK_ROWS", 1)  # a chunk per file
    assert validate("options", paths) == serial
    assert len(threads) == 2


def test_a_corrupt_file_in_the_later_chunk_is_read_failed_naming_it(
    demo_lake: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    paths = sorted(demo_lake.glob("options/*/*.parquet"))
    data = bytearray(paths[-1].read_bytes())
    data[4 : len(data) // 2] = b"\xab" * (len(data) // 2 - 4)  # keep magic bytes and footer
    bad = tmp_path / paths[-1].relative_to(demo_lake)
    bad.parent.mkdir(parents=True)
    bad.write_bytes(bytes(data))
    monkeypatch.setattr(contracts, "ROW_CHUNK_ROWS", 1)
    report = validate("options", [*paths[:-1], bad])
    assert report.status == "READ_FAILED"
    assert list(report.unreadable) == [str(bad)]


# --- column rules proven by the footers' statistics -----------------------------------------


def _proven(path: Path) -> frozenset[str]:
    schema = contracts.DATASETS["options"][1]()
    return contracts.proven_rules(pq.read_metadata(path), contracts.column_proofs(schema))


def test_a_valid_chain_proves_its_numeric_bounds_and_string_keys(
    chain: pa.Table, tmp_path: Path
) -> None:
    proven = _proven(_write_options(tmp_path, chain))
    assert {"volume greater_than_or_equal_to(0)", "strike greater_than(0)"} <= proven
    assert "symbol not_nullable" in proven
    # Dates stored as text may not parse: the read's TRY_CAST could null them.
    assert chain.schema.field("snapshot_date").type == pa.string()
    assert "snapshot_date not_nullable" not in proven
    assert not any("isin" in rule for rule in proven)  # min and max cannot prove membership


def test_a_value_out_of_bounds_proves_nothing_of_its_rule(chain: pa.Table, tmp_path: Path) -> None:
    volume = chain.column("volume").to_numpy().copy()
    volume[3] = -1
    proven = _proven(_write_options(tmp_path, _replace(chain, "volume", volume)))
    assert "volume greater_than_or_equal_to(0)" not in proven
    assert "open_interest greater_than_or_equal_to(0)" in proven


def test_a_file_without_statistics_is_screened_row_by_row(chain: pa.Table, tmp_path: Path) -> None:
    volume = chain.column("volume").to_numpy().copy()
    volume[3] = -1
    path = _options_path(tmp_path, DAY2)
    path.parent.mkdir(parents=True)
    pq.write_table(_replace(chain, "volume", volume), path, write_statistics=False)
    assert _proven(path) == frozenset()
    report = validate("options", [path])
    assert report.failures_by_rule == {"greater_than_or_equal_to(0)": {path.name: 1}}


def test_the_screen_leaves_out_the_rules_every_footer_proves(
    demo_lake: Path, chain: pa.Table, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    volume = chain.column("volume").to_numpy().copy()
    volume[3] = -1
    good = _options_path(demo_lake, DAY1)
    bad = _write_options(tmp_path, _replace(chain, "volume", volume))
    screened: list[set[str]] = []
    screen = contracts.screen

    def recording(*args: Any) -> contracts.Screen:
        found = screen(*args)
        screened.append(set(found.groups.columns))
        return found

    monkeypatch.setattr(contracts, "screen", recording)
    assert validate("options", [good]).passed
    assert "volume greater_than_or_equal_to(0)" not in screened[-1]
    assert "bid_le_ask" in screened[-1]  # a rule across columns is always screened
    # A chunk with one unproven file screens the rule for all its files.
    assert validate("options", [good, bad]).failure_count == 1
    assert "volume greater_than_or_equal_to(0)" in screened[-1]


def test_a_float16_column_proves_nothing_and_its_file_is_checked(
    chain: pa.Table, tmp_path: Path
) -> None:
    strike = chain.column("strike").cast(pa.float16())
    path = _write_options(tmp_path, _replace(chain, "strike", strike))
    assert "strike greater_than(0)" not in _proven(path)  # its statistics come as raw bytes
    assert validate("options", [path]).status != "READ_FAILED"


@pytest.mark.parametrize(
    ("bid", "ask", "strike", "spot"),
    [
        (float("nan"), 1.0, 100.0, 100.0),
        (float("inf"), 1.0, 100.0, 100.0),
        (1.0, float("inf"), float("inf"), 100.0),
        (2.0, 1.0, 100.0, 0.0),
        (None, 1.0, None, 100.0),
    ],
)
def test_screen_and_pandera_agree_on_odd_values(
    chain: pa.Table, tmp_path: Path, bid: object, ask: object, strike: object, spot: object
) -> None:
    table = chain
    for name, value in (("bid", bid), ("ask", ask), ("strike", strike), ("underlying_price", spot)):
        table = _set(table, name, 0, value)
    path = _write_options(tmp_path, table)
    screened, unscreened = validate("options", [path]), validate("options", [path], screened=False)
    assert screened.failures_by_rule == unscreened.failures_by_rule
