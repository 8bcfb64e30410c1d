"""Per-partition numbers for Dagster's Plots tab: one numeric metadata entry per ticker and value.

Dagster draws every numeric metadata key of an asset's materializations across its partitions.
A family records the numeric values its answers carry (the same builders the query resource
uses), named ``<ticker>/<value>`` (``SPY/latest_atm_iv``; GPR has no ticker: ``gpr_index_level``).
Values that agents see as display strings ("97.58%") are plotted from their raw column instead.
A daily scan records every numeric column of its rows.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from silver_assets.metrics.families import FamilyAnswer

# Answer keys shown as display percentages, and the raw numeric column each one comes from.
RAW_PERCENT_COLUMNS = {
    "mom_change": "mom_change_pct",
    "daily_change": "daily_change_pct",
    "gpr_percentile": "gpr_percentile",
}
NOT_PLOTTED = frozenset({"anchor_date", "snapshot_date"})


def is_number(value: Any) -> bool:
    """A finite int or float (not a bool, not NaN): something a plot can draw."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    return math.isfinite(value)


def _name(ticker: str, key: str) -> str:
    bare = key.removeprefix(f"{ticker}_") if ticker else key
    return f"{ticker}/{bare}" if ticker else bare


def answer_numbers(answer: FamilyAnswer, row: Mapping[str, Any]) -> dict[str, int | float]:
    """The numeric values of one ticker's answer, keyed ``<ticker>/<value>``."""
    numbers: dict[str, int | float] = {}
    for key, value in answer.values.items():
        bare = key.removeprefix(f"{answer.ticker}_") if answer.ticker else key
        if bare in RAW_PERCENT_COLUMNS:
            key, value = RAW_PERCENT_COLUMNS[bare], row.get(RAW_PERCENT_COLUMNS[bare])
        if is_number(value):
            numbers[_name(answer.ticker, key)] = value
    return numbers


def row_numbers(rows: Iterable[Mapping[str, Any]], columns: Iterable[str]) -> dict[str, Any]:
    """Every numeric ``columns`` value of daily rows, keyed ``<symbol>/<column>``."""
    wanted = [column for column in columns if column not in NOT_PLOTTED]
    return {
        _name(row["symbol"], column): row[column]
        for row in rows
        for column in wanted
        if is_number(row.get(column))
    }
