"""The IV rank's default reach: 180 calendar days of daily ATM rows, read and ranked.

The golden lake uses a shorter lookback to stay fast; this pins the default one on hand-made
daily rows, through the functions that pick the stored rows and compute the family.
"""

from __future__ import annotations

from datetime import date, timedelta

import pyarrow as pa

from silver_assets.metrics import compute, sql
from silver_assets.metrics.materialize import daily_inputs
from silver_assets.snapshots import SnapshotStore
from silver_assets_tests.metrics.test_sql import settings_for

ANCHOR = date(2026, 4, 30)


def atm_row(day: date, iv: float) -> dict:
    return {
        "snapshot_date": day,
        "symbol": "SPY",
        "atm_contract_symbol": f"SPY{day:%y%m%d}C",
        "atm_iv": iv,
        "atm_moneyness_pct": 0.1,
        "atm_spread_pct": 2.0,
        "atm_strike": 500.0,
        "atm_dte": 30,
        "source_data_version": f"v{day:%m%d}",
    }


def test_default_lookback_reads_and_ranks_180_days_of_atm_rows(tmp_path):
    settings = settings_for(tmp_path)
    assert settings.iv_rank_lookback_days == 180
    # One stored ATM row every 10 days, 0 to 190 days before the anchor (20 rows).
    #   181..190 days back: out of the lookback (IV 0.05, would rank below everything)
    #   40..180 days back: IV 0.50 (15 rows, 180 days back is the inclusive edge)
    #   10..30 days back: IV 0.10 (3 rows)
    #   the anchor: IV 0.30 -> 3 of the 18 other rows in the lookback are lower:
    #   rank = 100 * 3 / 18 = 16.67 over 19 days (a 30-day reach would give 100.0 over 4)
    days = {ANCHOR - timedelta(days=back): back for back in range(0, 191, 10)}
    store = SnapshotStore(settings.snapshot_root)
    for day, back in days.items():
        iv = 0.30 if back == 0 else 0.10 if back <= 30 else 0.50 if back <= 180 else 0.05
        store.write("atm_iv_daily", day.isoformat(), pa.Table.from_pylist([atm_row(day, iv)]), "r")
    inputs = daily_inputs(store, "options_analysis", [ANCHOR], settings)
    read = sorted(inputs["atm_iv_daily"]["snapshot_date"].to_pylist())
    assert read[0] == ANCHOR - timedelta(days=180)
    assert len(read) == 19
    con = sql.connect(threads=1, memory_limit="512MB")
    try:
        row = compute.option_family(con, "options_analysis", inputs, [ANCHOR], settings)
    finally:
        con.close()
    (got,) = row.select(
        ["rank_days", "latest_atm_iv", "latest_atm_iv_rank_pct", "iv_rank_lookback_days"]
    ).to_pylist()
    assert got == {
        "rank_days": 19,
        "latest_atm_iv": 0.30,
        "latest_atm_iv_rank_pct": 16.67,
        "iv_rank_lookback_days": 180,
    }
