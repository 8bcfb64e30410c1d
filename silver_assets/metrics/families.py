"""From a stored snapshot row to the values, lineage anchors and citations of docs/metrics.md.

One builder per family turns a row of that family's snapshot into a :class:`FamilyAnswer`: the
value keys agents see, every lineage anchor, the preferred anchor and observation date of each
value, and legacy key aliases. The query resource and the UI metadata both use these builders, so
what an agent is told and what a person sees in Dagster are the same thing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from silver_assets.query.catalogue import BY_NAME, requested_keys
from silver_assets.registry import FAMILIES
from silver_assets.tickers import macro_anchor, macro_symbol_for

SOURCE_CHANNEL = "silver.dagster_snapshot"

# Which Silver dataset (and so which anchor and partitions) each family is computed from.
FAMILY_DATASET: dict[str, str] = {f.name: f.dataset for f in FAMILIES.values()}


@dataclass
class FamilyAnswer:
    """What one family answers for one ticker (or for no ticker, for GPR).

    Every value has a preferred anchor and an observation date. Extra anchors (contract
    symbols) are tied to a value, so dropping a value drops the anchors only it needed.
    """

    family: str
    ticker: str
    values: dict[str, Any] = field(default_factory=dict)
    preferred: dict[str, str] = field(default_factory=dict)
    observed_at: dict[str, str | None] = field(default_factory=dict)
    legacy_aliases: dict[str, list[str]] = field(default_factory=dict)
    extra_anchors: list[tuple[str, str]] = field(default_factory=list)

    def add(self, key: str, value: Any, anchor: str, observed: Any) -> None:
        self.values[key] = value
        self.preferred[key] = anchor
        self.observed_at[key] = _iso(observed)

    def add_anchor(self, anchor: str | None, tied_to: str) -> None:
        if anchor:
            self.extra_anchors.append((anchor, tied_to))

    @property
    def anchors(self) -> list[str]:
        """Every lineage anchor of the values still in the answer, without repeats."""
        found = [self.preferred[key] for key in self.values]
        found += [anchor for anchor, key in self.extra_anchors if key in self.values]
        return list(dict.fromkeys(found))

    def drop(self, keys: set[str]) -> None:
        for key in keys:
            for mapping in (self.values, self.preferred, self.observed_at, self.legacy_aliases):
                mapping.pop(key, None)


def _iso(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _num(value: Any) -> Any:
    """NaN and None both mean missing; numbers pass through unchanged (no unit rescaling)."""
    if value is None or (isinstance(value, float) and value != value):
        return None
    return value


def display_pct(value: Any) -> str:
    """Render percentage points as a display string: 2.35 -> "2.35%"; missing -> "n/a"."""
    value = _num(value)
    return "n/a" if value is None else f"{float(value):.2f}%"


def put_call_ratio(row: Mapping[str, Any], ticker: str, requested: frozenset[str]) -> FamilyAnswer:
    answer = FamilyAnswer("put_call_ratio", ticker)
    day = row["snapshot_date"]
    anchor = f"PCR_AGG_{ticker}_{_iso(day)}"
    answer.add("pcr_volume", _num(row["pcr_volume"]), anchor, day)
    answer.add("pcr_open_interest", _num(row["pcr_open_interest"]), anchor, day)
    answer.add("pcr_status", row["pcr_status"], anchor, day)
    return answer


def options_analysis(
    row: Mapping[str, Any], ticker: str, requested: frozenset[str]
) -> FamilyAnswer:
    answer = FamilyAnswer("options_analysis", ticker)
    atm_day, skew_day = row.get("atm_date"), row.get("skew_date")
    if atm_day is not None:
        rank_anchor = f"IVRANK_{ticker}_{_iso(atm_day)}"
        answer.add("latest_atm_iv", _num(row["latest_atm_iv"]), rank_anchor, atm_day)
        answer.add(
            "latest_atm_iv_rank_pct", _num(row["latest_atm_iv_rank_pct"]), rank_anchor, atm_day
        )
        answer.add("iv_rank_lookback_days", row["iv_rank_lookback_days"], rank_anchor, atm_day)
        answer.add("data_freshness", _iso(atm_day), rank_anchor, atm_day)
        answer.add_anchor(row.get("atm_contract_symbol"), "latest_atm_iv")
    if skew_day is not None:
        skew_anchor = f"IVSKEW_{ticker}_{_iso(skew_day)}"
        answer.add("latest_iv_skew", _num(row["latest_iv_skew"]), skew_anchor, skew_day)
        answer.add("latest_otm_put_iv", _num(row["otm_put_iv"]), skew_anchor, skew_day)
        answer.add("latest_otm_call_iv", _num(row["otm_call_iv"]), skew_anchor, skew_day)
        answer.add_anchor(row.get("put_wing_contract_symbol"), "latest_otm_put_iv")
        answer.add_anchor(row.get("call_wing_contract_symbol"), "latest_otm_call_iv")
    return answer


def liquidity_analysis(
    row: Mapping[str, Any], ticker: str, requested: frozenset[str]
) -> FamilyAnswer:
    answer = FamilyAnswer("liquidity_analysis", ticker)
    day = row["snapshot_date"]
    anchor = f"LIQ_{ticker}_{_iso(day)}"
    answer.add(f"{ticker}_daily_option_volume", _num(row["daily_option_volume"]), anchor, day)
    answer.add(f"{ticker}_open_interest", _num(row["open_interest"]), anchor, day)
    answer.add(f"{ticker}_avg_spread_pct", _num(row["avg_spread_pct"]), anchor, day)
    answer.add(f"{ticker}_liquid_contracts", _num(row["liquid_contracts"]), anchor, day)
    answer.add(f"{ticker}_market_impact_risk", row["market_impact_risk"], anchor, day)
    return answer


def pricing_spread(row: Mapping[str, Any], ticker: str, requested: frozenset[str]) -> FamilyAnswer:
    answer = FamilyAnswer("pricing_spread", ticker)
    day = row["snapshot_date"]
    anchor = f"PX_{ticker}_{_iso(day)}"
    answer.add(f"{ticker}_underlying_price", _num(row["underlying_price"]), anchor, day)
    answer.add(f"{ticker}_avg_bid", _num(row["avg_bid"]), anchor, day)
    answer.add(f"{ticker}_avg_ask", _num(row["avg_ask"]), anchor, day)
    spread_key = f"{ticker}_quote_avg_spread_pct"
    answer.add(spread_key, _num(row["quote_avg_spread_pct"]), anchor, day)
    # The original design named this <T>_avg_spread_pct, which collides with liquidity's key.
    answer.legacy_aliases[spread_key] = [f"{ticker}_avg_spread_pct"]
    answer.add(f"{ticker}_avg_last_price", _num(row["avg_last_price"]), anchor, day)
    return answer


# Macro surface names that ask for one change in particular; the others get the default choice
# of docs/metrics.md.
_SPECIFIC_MACRO = frozenset({"Daily Change (%)", "Monthly Change (%)", "Yearly Change (%)"})


def macro_analysis(row: Mapping[str, Any], ticker: str, requested: frozenset[str]) -> FamilyAnswer:
    """Last value, plus the change asked for: never another change in its place.

    "Daily Change (%)" yields the daily change and "Monthly Change (%)" the month-on-month one
    (absent when the series has none, so the query reports it missing); every other macro name
    gets docs/metrics.md's choice, the month-on-month change when set, else the daily change.
    """
    answer = FamilyAnswer("macro_analysis", ticker)
    day = row["observation_date"]
    _, index = macro_symbol_for(ticker)
    anchor = macro_anchor(ticker, index, day)
    answer.add(f"{ticker}_last_value", _num(row["value"]), anchor, day)
    macro_names = {n for n in requested if n in BY_NAME and BY_NAME[n].family == "macro_analysis"}
    general = not macro_names or bool(macro_names - _SPECIFIC_MACRO)
    has_mom = _num(row["mom_change_pct"]) is not None
    if has_mom and (general or "Monthly Change (%)" in macro_names):
        answer.add(f"{ticker}_mom_change", display_pct(row["mom_change_pct"]), anchor, day)
    if "Daily Change (%)" in macro_names or (general and not has_mom):
        answer.add(f"{ticker}_daily_change", display_pct(row["daily_change_pct"]), anchor, day)
    return answer


def gpr_trend(mom_change_pct: Any) -> str:
    """ "Rising" if MoM > 0, "Falling" if MoM <= 0, "Unknown" when missing."""
    value = _num(mom_change_pct)
    if value is None:
        return "Unknown"
    return "Rising" if value > 0 else "Falling"


def geopolitical_analysis(
    row: Mapping[str, Any], ticker: str, requested: frozenset[str]
) -> FamilyAnswer:
    answer = FamilyAnswer("geopolitical_analysis", "")
    # A month read back as a datetime formats and cites (via _iso) like its date.
    month = row["gpr_month"]
    anchor = f"GPR_{month:%Y%m}"
    answer.add("gpr_index_level", _num(row["gpr"]), anchor, month)
    answer.add("gpr_percentile", display_pct(row["gpr_percentile"]), anchor, month)
    answer.add("gpr_trend", gpr_trend(row["gpr_mom_pct"]), anchor, month)
    wanted = requested_keys(requested)
    if "gpr_threats_level" in wanted and _num(row.get("gprt")) is not None:
        answer.add("gpr_threats_level", _num(row["gprt"]), anchor, month)
    if "gpr_acts_level" in wanted and _num(row.get("gpra")) is not None:
        answer.add("gpr_acts_level", _num(row["gpra"]), anchor, month)
    if "gpr_country_{ISO3}_level" in wanted:
        for iso3, level in sorted(dict(row.get("country_levels") or {}).items()):
            if _num(level) is not None:
                answer.add(f"gpr_country_{iso3}_level", _num(level), anchor, month)
    return answer


Builder = Callable[[Mapping[str, Any], str, frozenset[str]], FamilyAnswer]

BUILDERS: dict[str, Builder] = {
    "put_call_ratio": put_call_ratio,
    "options_analysis": options_analysis,
    "liquidity_analysis": liquidity_analysis,
    "pricing_spread": pricing_spread,
    "macro_analysis": macro_analysis,
    "geopolitical_analysis": geopolitical_analysis,
}
