"""Tests of the synthetic demo lake generator: layout, determinism, calendar, realism, units."""

from __future__ import annotations

import hashlib
import itertools
import json
import re
from datetime import date, timedelta
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from silver_assets.lake import generator
from silver_assets.lake.generator import (
    DEFAULT_END_DATE,
    DEFAULT_TICKERS,
    REFERENCE_DIR,
    LakeSummary,
    demo_tickers,
    generate_lake,
    trading_days_ending,
)

OPTION_COLUMNS = [
    "snapshot_date",
    "symbol",
    "contract_symbol",
    "option_type",
    "strike",
    "expiration",
    "dte",
    "underlying_price",
    "bid",
    "ask",
    "last_price",
    "volume",
    "open_interest",
    "implied_volatility",
    "in_the_money",
    "moneyness_pct",
    "moneyness_ratio",
    "spread_ratio",
    "spread_pct",
    "is_liquid_basic",
    "is_liquid",
    "is_executable_liquid",
]
MACRO_COLUMNS = [
    "retrieval_date",
    "observation_date",
    "symbol",
    "name",
    "asset_class",
    "value",
    "unit",
    "frequency",
    "daily_change_pct",
    "mom_change_pct",
    "yoy_change_pct",
]


def _generate(root: Path, **kwargs) -> LakeSummary:
    return generate_lake(root, **{"days": 2, "tickers": ("SPY",), "progress": False, **kwargs})


def _hashes(root: Path) -> dict[str, str]:
    return {
        str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(root.rglob("*.parquet"))
    }


@pytest.fixture(scope="module")
def lake(tmp_path_factory: pytest.TempPathFactory) -> LakeSummary:
    root = tmp_path_factory.mktemp("lake")
    return generate_lake(
        root,
        days=3,
        tickers=("SPY", "GLD"),
        state_path=root / "state" / "collect_data_state.json",
        progress=False,
    )


@pytest.fixture(scope="module")
def chains(lake: LakeSummary) -> pd.DataFrame:
    files = sorted((lake.root / "options").glob("*/*.parquet"))
    return pd.concat([pd.read_parquet(f) for f in files], ignore_index=True)


@pytest.fixture(scope="module")
def spy_last(chains: pd.DataFrame, lake: LakeSummary) -> pd.DataFrame:
    last = lake.trading_days[-1].isoformat()
    return chains[(chains["symbol"] == "SPY") & (chains["snapshot_date"] == last)]


# --- API, layout, determinism ------------------------------------------------------------------


def test_defaults_are_fixed_not_today() -> None:
    assert DEFAULT_TICKERS == ("SPY", "QQQ", "IWM", "GLD", "SLV")
    assert DEFAULT_END_DATE.isoformat() == "2026-04-30"


def test_layout_and_summary(lake: LakeSummary) -> None:
    root = lake.root
    assert lake.trading_days == [date(2026, 4, 28), date(2026, 4, 29), date(2026, 4, 30)]
    assert lake.tickers == ("SPY", "GLD")
    expected = {
        f"options/{d}/{t}_options_{d}.parquet" for d in lake.trading_days for t in ["SPY", "GLD"]
    }
    expected |= {f"macro/{d}/macro_snapshot_{d}.parquet" for d in lake.trading_days}
    expected.add("gpr/gpr_monthly_enriched.parquet")
    written = {str(p.relative_to(root)) for p in root.rglob("*.parquet")}
    assert written == expected
    assert (lake.option_files, lake.macro_files) == (6, 3)
    rows = sum(pq.read_metadata(root / f).num_rows for f in expected if f.startswith("options"))
    assert lake.option_rows == rows
    assert lake.bytes_written == sum((root / f).stat().st_size for f in expected)
    assert lake.gpr_rows == 76  # 2020-01 .. 2026-04
    assert not list(root.rglob(".*")), "temporary files left behind"


def test_same_seed_gives_identical_bytes_and_other_seed_differs(tmp_path: Path) -> None:
    first = _hashes(_generate(tmp_path / "a").root)
    again = _hashes(_generate(tmp_path / "b").root)
    other = _hashes(_generate(tmp_path / "c", seed=8).root)
    assert first == again
    option_files = [name for name in first if name.startswith("options")]
    assert all(first[name] != other[name] for name in option_files)


def test_shorter_lake_is_the_tail_of_a_longer_one(tmp_path: Path) -> None:
    short = _hashes(_generate(tmp_path / "short", days=1).root)
    long = _hashes(_generate(tmp_path / "long", days=3).root)
    assert short.items() <= long.items()


def test_files_carry_synthetic_metadata(lake: LakeSummary) -> None:
    for path in [
        lake.root / "options" / "2026-04-30" / "SPY_options_2026-04-30.parquet",
        lake.root / "macro" / "2026-04-30" / "macro_snapshot_2026-04-30.parquet",
    ]:
        meta = pq.read_metadata(path).metadata
        assert meta[b"silver_assets.synthetic"] == b"true"
        assert meta[b"silver_assets.generator"] == b"silver-assets demo lake"
        assert meta[b"silver_assets.seed"] == b"7"


def test_rerun_overwrites_its_dates_and_leaves_other_files(tmp_path: Path) -> None:
    _generate(tmp_path, days=1)
    foreign = tmp_path / "options" / "2026-04-30" / "XYZ_options_2026-04-30.parquet"
    foreign.write_bytes(b"not ours")
    target = tmp_path / "options" / "2026-04-30" / "SPY_options_2026-04-30.parquet"
    target.write_bytes(b"stale")
    _generate(tmp_path, days=1)
    assert foreign.read_bytes() == b"not ours"
    assert pq.read_metadata(target).num_rows > 0


def test_failed_write_keeps_the_previous_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _generate(tmp_path, days=1)
    before = _hashes(tmp_path)

    def half_write(table: object, where: Path, **_: object) -> None:
        Path(where).write_bytes(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(generator.pq, "write_table", half_write)
    with pytest.raises(OSError, match="disk full"):
        _generate(tmp_path, days=1)
    assert _hashes(tmp_path) == before
    assert not list(tmp_path.rglob(".*"))


def test_progress_bar_goes_to_stderr(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _generate(tmp_path, days=1, progress=True)
    captured = capsys.readouterr()
    assert "demo lake" in captured.err
    assert captured.out == ""


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"days": 0}, "days"),
        ({"tickers": ()}, "empty"),
        ({"tickers": "SPY"}, "string"),
        ({"tickers": ("spy",)}, "upper-case"),
        ({"tickers": ("BRK.B",)}, "alphanumeric"),
        ({"tickers": ("SPY", "SPY")}, "duplicates"),
        ({"seed": -1}, "seed"),
        ({"end_date": date(2019, 12, 31)}, "end_date"),
    ],
)
def test_invalid_input_raises_clear_errors(tmp_path: Path, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        _generate(tmp_path, **kwargs)
    assert not any(tmp_path.iterdir()), "nothing may be written before validation passes"


def test_unknown_ticker_gets_a_generic_chain(tmp_path: Path) -> None:
    summary = _generate(tmp_path, days=1, tickers=("ABC1",))
    chain = pd.read_parquet(tmp_path / "options" / "2026-04-30" / "ABC1_options_2026-04-30.parquet")
    assert summary.tickers == ("ABC1",)
    assert 50 < chain["underlying_price"].iloc[0] < 200
    assert 4_000 <= len(chain) <= 8_000
    assert chain["contract_symbol"].str.startswith("ABC1").all()


# --- trading calendar --------------------------------------------------------------------------


def test_trading_days_match_exchange_calendars() -> None:
    calendar = xcals.get_calendar("XNYS", start="2025-01-01", end="2026-06-30")
    sessions = [ts.date() for ts in calendar.sessions_in_range("2025-01-02", "2026-04-30")]
    assert trading_days_ending(date(2026, 4, 30), 250) == sessions[-250:]
    assert trading_days_ending(date(2026, 5, 2), 1) == [date(2026, 5, 1)]  # Saturday end


def test_holidays_and_weekends_are_skipped(tmp_path: Path) -> None:
    # Good Friday 2026-04-03 and Independence Day 2025-07-04 are NYSE holidays.
    assert trading_days_ending(date(2026, 4, 6), 3) == [
        date(2026, 4, 1),
        date(2026, 4, 2),
        date(2026, 4, 6),
    ]
    assert trading_days_ending(date(2025, 7, 7), 2) == [date(2025, 7, 3), date(2025, 7, 7)]
    summary = _generate(tmp_path, days=3, end_date=date(2026, 4, 6))
    folders = sorted(p.name for p in (tmp_path / "options").iterdir())
    assert folders == ["2026-04-01", "2026-04-02", "2026-04-06"]
    assert all(d.weekday() < 5 for d in summary.trading_days)
    macro = pd.read_parquet(tmp_path / "macro" / "2026-04-06" / "macro_snapshot_2026-04-06.parquet")
    daily = macro[macro["frequency"] == "Daily"]
    assert set(daily["observation_date"]) == {date(2026, 4, 2)}  # previous session, not 04-03


# --- options: layout, units, flags -------------------------------------------------------------


def test_option_columns_and_types(lake: LakeSummary) -> None:
    path = lake.root / "options" / "2026-04-30" / "GLD_options_2026-04-30.parquet"
    schema = pq.read_schema(path)
    assert schema.names == OPTION_COLUMNS
    types = {f.name: str(f.type) for f in schema}
    assert types["snapshot_date"] == types["expiration"] == "string"
    assert types["dte"] == types["volume"] == types["open_interest"] == "int64"
    assert types["is_executable_liquid"] == types["in_the_money"] == "bool"


def test_units_and_formats(chains: pd.DataFrame) -> None:
    assert chains["snapshot_date"].str.fullmatch(r"\d{4}-\d{2}-\d{2}").all()
    assert chains["option_type"].isin(["call", "put"]).all()
    assert chains["implied_volatility"].between(0.01, 3.0).all()  # a fraction
    assert (chains["moneyness_pct"] >= 0).all()  # unsigned
    assert (chains["bid"] <= chains["ask"]).all()
    assert (chains[["volume", "open_interest"]] >= 0).all().all()
    np.testing.assert_allclose(chains["spread_pct"], 100 * chains["spread_ratio"])
    assert chains["spread_pct"].median() > 1  # percentage points, not fractions
    dte = (pd.to_datetime(chains["expiration"]) - pd.to_datetime(chains["snapshot_date"])).dt.days
    assert (chains["dte"] == dte).all()


def test_contract_symbols_are_occ_style(chains: pd.DataFrame) -> None:
    parts = chains["contract_symbol"].str.extract(r"^([A-Z0-9]+)(\d{6})([CP])(\d{8})$")
    assert parts.notna().all().all()
    assert (parts[0] == chains["symbol"]).all()
    expiry = pd.to_datetime(parts[1], format="%y%m%d").dt.strftime("%Y-%m-%d")
    assert (expiry == chains["expiration"]).all()
    assert ((parts[2] == "P") == (chains["option_type"] == "put")).all()
    np.testing.assert_allclose(parts[3].astype(int) / 1000, chains["strike"])
    assert chains.groupby("snapshot_date")["contract_symbol"].apply(lambda s: s.is_unique).all()


def test_flags_match_their_formulas(chains: pd.DataFrame) -> None:
    s, k = chains["underlying_price"], chains["strike"]
    bid, ask = chains["bid"], chains["ask"]
    ratio = (k / s - 1).abs()
    np.testing.assert_allclose(chains["moneyness_ratio"], ratio)
    np.testing.assert_allclose(chains["moneyness_pct"], 100 * ratio)
    valid = (ask > 0) & (bid >= 0) & (ask >= bid)
    spread = ((ask - bid) / ((ask + bid) / 2)).where(valid)
    np.testing.assert_allclose(chains["spread_ratio"], spread)
    assert (~valid).any(), "a few wings should have no quote (NaN spread)"
    basic = (chains["volume"] >= 50) & (chains["open_interest"] >= 100) & (bid > 0)
    assert (chains["is_liquid_basic"] == basic).all()
    assert (chains["is_liquid"] == basic).all()
    cap = np.where(chains["symbol"].isin(["SPY", "QQQ", "IWM"]), 0.15, 0.10)
    executable = (
        basic & (ask >= 0.50) & (spread <= 0.15) & (ratio <= cap) & chains["dte"].between(7, 60)
    )
    assert (chains["is_executable_liquid"] == executable).all()
    itm = np.where(chains["option_type"] == "call", k < s, k > s)
    assert (chains["in_the_money"] == itm).all()
    # The data exercises every clause: liquid and illiquid contracts, zero bids, traded
    # contracts without open interest yet (the newest weekly), wings past the moneyness caps.
    assert 0.2 < chains["is_liquid_basic"].mean() < 0.9
    assert chains["is_executable_liquid"].sum() > 500
    assert ((bid == 0) & valid).any()
    assert ((chains["volume"] >= 50) & (chains["open_interest"] < 100) & (bid > 0)).any()
    assert (basic & (ask >= 0.5) & (spread <= 0.15) & ratio.between(0.10, 0.15)).any()


# --- options: realism --------------------------------------------------------------------------


def test_chain_size_strikes_and_expirations(chains: pd.DataFrame) -> None:
    for (_, _), chain in chains.groupby(["symbol", "snapshot_date"]):
        spot = chain["underlying_price"].iloc[0]
        assert 4_000 <= len(chain) <= 8_000
        assert 0.45 <= chain["strike"].min() / spot <= 0.6
        assert 1.4 <= chain["strike"].max() / spot <= 1.55
        expiries = pd.to_datetime(chain["expiration"].drop_duplicates())
        dte = chain.groupby("expiration")["dte"].first()
        assert dte.max() >= 330
        assert (dte <= 56).sum() >= 7  # weeklies
        assert expiries.dt.weekday.isin([3, 4]).all()  # Fridays, Thursday before a holiday
        assert expiries.dt.day.between(15, 21).sum() >= 11  # monthly third Fridays


def test_spot_and_vol_levels_are_realistic(chains: pd.DataFrame) -> None:
    spots = chains.groupby("symbol")["underlying_price"].agg(["min", "max"])
    assert spots.loc["SPY"].between(600, 800).all()
    assert spots.loc["GLD"].between(330, 470).all()
    near = chains[chains["dte"].between(20, 45) & (chains["moneyness_pct"] < 1)]
    atm = near.groupby("symbol")["implied_volatility"].median()
    assert 0.13 < atm["SPY"] < 0.20
    assert 0.12 < atm["GLD"] < 0.21


def test_put_skew(spy_last: pd.DataFrame) -> None:
    expiry = spy_last.loc[spy_last["dte"].between(25, 45), "expiration"].iloc[0]
    chain = spy_last[spy_last["expiration"] == expiry]
    spot = chain["underlying_price"].iloc[0]

    def iv_near(option_type: str, level: float) -> float:
        side = chain[chain["option_type"] == option_type]
        return side.loc[(side["strike"] - level * spot).abs().idxmin(), "implied_volatility"]

    otm_put, atm, otm_call = iv_near("put", 0.9), iv_near("call", 1.0), iv_near("call", 1.1)
    assert otm_put > atm + 0.03
    assert atm > otm_call - 0.005


def _by_moneyness(chain: pd.DataFrame, column: str) -> pd.Series:
    buckets = pd.cut(chain["moneyness_pct"], [0, 2, 5, 10, 20, 35, 60], include_lowest=True)
    return chain.groupby(buckets, observed=True)[column].mean()


def test_spreads_widen_away_from_the_money(spy_last: pd.DataFrame) -> None:
    spread = _by_moneyness(spy_last, "spread_pct")
    assert spread.is_monotonic_increasing
    assert spread.iloc[-1] > 3 * spread.iloc[0]


def test_volume_and_open_interest_decay(spy_last: pd.DataFrame) -> None:
    for column in ("volume", "open_interest"):
        assert _by_moneyness(spy_last, column).is_monotonic_decreasing
    near = spy_last[spy_last["moneyness_pct"] < 3]
    by_term = near.groupby(pd.cut(near["dte"], [0, 30, 120, 400]), observed=True)["volume"].mean()
    assert by_term.is_monotonic_decreasing
    far = spy_last[(spy_last["moneyness_pct"] > 35) & (spy_last["dte"] > 180)]
    assert far["is_liquid_basic"].mean() < 0.2


# --- macro, GPR, state -------------------------------------------------------------------------


def test_macro_rows(lake: LakeSummary, chains: pd.DataFrame) -> None:
    path = lake.root / "macro" / "2026-04-30" / "macro_snapshot_2026-04-30.parquet"
    schema = pq.read_schema(path)
    assert schema.names == MACRO_COLUMNS
    assert str(schema.field("observation_date").type) == "date32[day]"
    macro = pd.read_parquet(path).set_index("symbol")
    daily = ["^GSPC", "^IXIC", "^RUT", "^VIX", "GLD", "SLV"]
    assert list(macro.index) == [*daily, "FEDFUNDS", "CPIAUCSL"]
    real = pd.read_csv(REFERENCE_DIR / "macro_snapshots_real.csv").drop_duplicates("symbol")
    labels = ["name", "asset_class", "unit", "frequency"]
    shared = real.set_index("symbol").loc[[s for s in macro.index if s != "^RUT"], labels]
    pd.testing.assert_frame_equal(macro.loc[shared.index, labels], shared)
    assert (macro.loc[daily, "observation_date"] == date(2026, 4, 29)).all()
    assert macro.loc[daily, "daily_change_pct"].notna().all()
    assert macro.loc[daily, "mom_change_pct"].isna().all()
    monthly = macro.loc[["FEDFUNDS", "CPIAUCSL"]]
    assert (monthly["observation_date"] == date(2026, 3, 1)).all()
    assert monthly["daily_change_pct"].isna().all()
    assert monthly["mom_change_pct"].notna().all()
    assert monthly["mom_change_pct"].abs().max() < 10  # percentage points
    # Index levels follow the previous session's option underlyings.
    spot = chains[chains["snapshot_date"] == "2026-04-29"].groupby("symbol")["underlying_price"]
    spot = spot.first()
    assert macro.loc["^GSPC", "value"] / spot["SPY"] == pytest.approx(10, rel=0.01)
    assert macro.loc["GLD", "value"] == pytest.approx(spot["GLD"], abs=0.01)
    assert 8 < macro.loc["^VIX", "value"] < 40


def test_macro_daily_change_matches_levels(lake: LakeSummary) -> None:
    files = sorted((lake.root / "macro").glob("*/*.parquet"))
    frames = [pd.read_parquet(f).set_index("symbol") for f in files]
    for before, after in itertools.pairwise(frames):
        change = 100 * (after["value"] / before["value"] - 1)
        daily = after["frequency"] == "Daily"
        np.testing.assert_allclose(after.loc[daily, "daily_change_pct"], change[daily], atol=0.006)


def test_gpr_file_mixes_real_and_synthetic_rows(lake: LakeSummary) -> None:
    path = lake.root / "gpr" / "gpr_monthly_enriched.parquet"
    schema = pq.read_schema(path)
    assert str(schema.field("date").type).startswith("timestamp")
    assert len(schema.names) == 120
    assert pq.read_metadata(path).metadata[b"silver_assets.synthetic"] == b"mixed"
    gpr = pd.read_parquet(path)
    assert {"date", "gpr", "gpr_percentile", "gpr_mom_pct", "gprt", "gpra", "gprc_usa"} <= set(gpr)
    assert gpr["date"].iloc[0] == pd.Timestamp("2020-01-01")
    assert (gpr["date"].dt.day == 1).all()
    assert gpr["date"].is_monotonic_increasing
    april = gpr.set_index("date").loc[pd.Timestamp("2026-04-01")]
    assert (april["gpr"], april["gpr_percentile"], april["is_synthetic"]) == (230.77, 97.58, False)
    assert april["gpr_mom_pct"] < 0  # "Falling"
    real = pd.read_csv(REFERENCE_DIR / "gpr_recent_real.csv", parse_dates=["date"])
    merged = real.merge(gpr, on="date", suffixes=("_real", ""))
    assert len(merged) == 24
    assert not merged["is_synthetic"].any()
    for column in ("gpr", "gprt", "gpra", "gpr_mom_pct", "gpr_percentile"):
        np.testing.assert_allclose(merged[column], merged[f"{column}_real"])
    synthetic = gpr[gpr["is_synthetic"]]
    assert (synthetic["date"] < pd.Timestamp("2024-05-01")).all()
    assert len(synthetic) == 52
    assert synthetic["gpr"].between(50, 400).all()
    assert synthetic["gpr_percentile"].between(0, 100).all()
    mom = (100 * gpr["gpr"].pct_change()).round(2)
    np.testing.assert_allclose(synthetic["gpr_mom_pct"].iloc[1:], mom[synthetic.index].iloc[1:])


@pytest.mark.parametrize(
    ("end", "rows", "synthetic"), [(date(2026, 7, 15), 79, 55), (date(2024, 2, 29), 50, 50)]
)
def test_gpr_extends_or_truncates_with_end_date(
    tmp_path: Path, end: date, rows: int, synthetic: int
) -> None:
    summary = _generate(tmp_path, days=1, end_date=end)
    gpr = pd.read_parquet(tmp_path / "gpr" / "gpr_monthly_enriched.parquet")
    assert summary.gpr_rows == len(gpr) == rows
    assert gpr["is_synthetic"].sum() == synthetic
    assert gpr["date"].iloc[-1] == pd.Timestamp(end.replace(day=1))


def test_state_file_keys(lake: LakeSummary) -> None:
    state = json.loads((lake.root / "state" / "collect_data_state.json").read_text())
    assert state["last_run_keys"] == {
        "options_daily": "2026-04-30",
        "macro_trading_daily": "2026-04-30",
        "gpr_monthly": "2026-04",
    }


def test_state_is_merged_with_other_jobs_keys(tmp_path: Path) -> None:
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps({"last_run_keys": {"news_daily": "2026-01-01"}}))
    _generate(tmp_path / "lake", days=1, end_date=date(2026, 4, 5), state_path=state_path)
    keys = json.loads(state_path.read_text())["last_run_keys"]
    assert keys["news_daily"] == "2026-01-01"
    assert keys["options_daily"] == "2026-04-02"  # the last session on or before a weekend end
    assert re.fullmatch(r"\d{4}-\d{2}", keys["gpr_monthly"])
    assert keys["gpr_monthly"] == "2026-04"


def test_no_files_outside_the_lake_root(tmp_path: Path) -> None:
    root = tmp_path / "lake"
    _generate(root, days=1)
    assert {p.name for p in tmp_path.iterdir()} == {"lake"}
    assert {p.name for p in root.iterdir()} == {"options", "macro", "gpr"}
    assert (root / "options" / "2026-04-30").is_dir()
    assert not (root / "options" / str(date(2026, 4, 30) - timedelta(days=1))).exists()


def test_demo_tickers_name_generic_tickers_after_the_named_ones() -> None:
    assert demo_tickers(2) == ("SPY", "QQQ")
    assert demo_tickers(7) == (*DEFAULT_TICKERS, "G001", "G002")
    with pytest.raises(ValueError, match="ticker count"):
        demo_tickers(0)


def test_generic_tickers_differ_from_each_other_and_not_between_lakes(tmp_path: Path) -> None:
    first = _generate(tmp_path / "a", days=1, tickers=("G001", "G002"))
    _generate(tmp_path / "b", days=1, seed=11, tickers=("G001",))
    day = first.trading_days[-1].isoformat()

    def spot(root: Path, ticker: str) -> float:
        path = root / "options" / day / f"{ticker}_options_{day}.parquet"
        return pd.read_parquet(path)["underlying_price"].iloc[0]

    # On the anchor day a ticker's spot is its profile's level, whatever the seed.
    assert spot(tmp_path / "a", "G001") != spot(tmp_path / "a", "G002")
    assert spot(tmp_path / "a", "G001") == spot(tmp_path / "b", "G001")
