"""The metric catalogue: the one table of what agents may ask for and what they get back.

Each surface metric names its family, the value keys it yields (with unit and display rule),
whether it needs tickers, and its curated aliases. Routing, ``list_metrics``, the
``silver-assets metrics`` command, the README's metric list and the claim checker's unit rules
all read this table, so a name or a unit is defined once.

Aliases are matched exactly after normalisation (lower-case alphanumerics); only the surface
names themselves are matched fuzzily (see :mod:`silver_assets.query.routing`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cached_property, lru_cache
from typing import Any, Literal

from pydantic import BaseModel

from silver_assets.registry import FAMILY_NAMES

Unit = Literal[
    "fraction",
    "percentage_points",
    "score_0_100",
    "display_percent",
    "count",
    "price",
    "level",
    "days",
    "date",
    "label",
]

# What each unit means for a reader, and how a number written with "%" compares to it.
UNIT_RULES: dict[str, str] = {
    "fraction": "a fraction: 0.165 is 16.5%; write 0.165 or 16.5%",
    "percentage_points": "percentage points: 2.5 is 2.5%; write 2.5 or 2.5%, never 250%",
    "score_0_100": "a 0-100 score, compared like percentage points: 37.5 or 37.5%",
    "display_percent": 'a display string such as "2.35%": write 2.35%',
    "count": "a count of contracts, no unit",
    "price": "a price in the instrument's currency",
    "level": "an index level or series value, no unit",
    "days": "a number of calendar days",
    "date": "an ISO date (not a numeric claim)",
    "label": "a text label (not a numeric claim)",
}

NUMERIC_UNITS = frozenset(UNIT_RULES) - {"date", "label"}
# Units whose stored number is already a fraction / already in percent when written with "%".
FRACTION_UNITS = frozenset({"fraction"})
PERCENT_UNITS = frozenset({"percentage_points", "score_0_100", "display_percent"})
# Units a number may be written with a magnitude suffix in ("11.7M" contracts, "4.2k" points).
MAGNITUDE_UNITS = frozenset({"count", "price", "level"})

FAMILIES: tuple[str, ...] = FAMILY_NAMES


@dataclass(frozen=True)
class ValueKey:
    """A value key an answer may carry. ``{T}`` stands for the ticker, ``{ISO3}`` for a country.

    Keys without ``{T}`` are prefixed ``<TICKER>_`` in multi-ticker answers.
    """

    key: str
    family: str
    unit: Unit
    display: str

    @cached_property
    def pattern(self) -> re.Pattern[str]:
        """Matches an answer's key (ticker and country filled in, unprefixed)."""
        text = re.escape(self.key).replace(r"\{T\}", r"(?P<T>[A-Z0-9^.\-]+)")
        return re.compile("^" + text.replace(r"\{ISO3\}", r"(?P<ISO3>[A-Za-z]{3})") + "$")


def _keys(family: str, *rows: tuple[str, Unit, str]) -> dict[str, ValueKey]:
    return {key: ValueKey(key, family, unit, display) for key, unit, display in rows}


VALUE_KEYS: dict[str, ValueKey] = {
    **_keys(
        "put_call_ratio",
        ("pcr_volume", "fraction", "put/call volume ratio, 3 dp; 0 when no call volume"),
        ("pcr_open_interest", "fraction", "put/call open-interest ratio, 3 dp"),
        ("pcr_status", "label", '"Bearish Sentiment" if pcr_volume > 1.0 else "Bullish/Neutral"'),
    ),
    **_keys(
        "options_analysis",
        ("latest_atm_iv", "fraction", "ATM implied volatility, 4 dp"),
        ("latest_atm_iv_rank_pct", "score_0_100", "IV rank over the lookback, 2 dp"),
        ("iv_rank_lookback_days", "days", "IV-rank lookback"),
        ("data_freshness", "date", "date of the ATM observation"),
        ("latest_iv_skew", "fraction", "OTM put IV minus OTM call IV"),
        ("latest_otm_put_iv", "fraction", "IV of the put wing (5-10% OTM)"),
        ("latest_otm_call_iv", "fraction", "IV of the call wing (5-10% OTM)"),
    ),
    **_keys(
        "liquidity_analysis",
        ("{T}_daily_option_volume", "count", "contracts traded over the chain"),
        ("{T}_open_interest", "count", "open interest over the chain"),
        ("{T}_avg_spread_pct", "percentage_points", "mean spread of liquid contracts"),
        ("{T}_liquid_contracts", "count", "number of liquid contracts"),
        ("{T}_market_impact_risk", "label", "Low / Medium / High / Unknown"),
    ),
    **_keys(
        "pricing_spread",
        ("{T}_underlying_price", "price", "underlying price"),
        ("{T}_avg_bid", "price", "mean bid, liquid 7-45 DTE contracts"),
        ("{T}_avg_ask", "price", "mean ask, liquid 7-45 DTE contracts"),
        ("{T}_quote_avg_spread_pct", "percentage_points", "mean quoted spread"),
        ("{T}_avg_last_price", "price", "mean last trade price"),
    ),
    **_keys(
        "macro_analysis",
        ("{T}_last_value", "level", "latest value of the series"),
        ("{T}_mom_change", "display_percent", 'month-on-month change, "2.35%"'),
        ("{T}_daily_change", "display_percent", 'change on the day, "0.42%"'),
    ),
    **_keys(
        "geopolitical_analysis",
        ("gpr_index_level", "level", "GPR index level"),
        ("gpr_percentile", "display_percent", 'percentile in its history, "97.58%"'),
        ("gpr_trend", "label", '"Rising" / "Falling" / "Unknown" from the MoM change'),
        ("gpr_threats_level", "level", "GPR threats sub-index"),
        ("gpr_acts_level", "level", "GPR acts sub-index"),
        ("gpr_country_{ISO3}_level", "level", "country-level GPR, one key per country"),
    ),
}


@dataclass(frozen=True)
class SurfaceMetric:
    """A metric name agents ask for, the family that answers it and what it yields.

    ``unanswered`` is set for a known metric that the snapshots do not carry: it routes, and is
    always reported in ``status.missing`` with that reason instead of being answered.
    """

    name: str
    family: str
    value_keys: tuple[str, ...]
    aliases: tuple[str, ...] = ()
    unanswered: str | None = None

    @property
    def needs_tickers(self) -> bool:
        return self.family != "geopolitical_analysis"


_LIQUIDITY_KEYS = tuple(k for k, v in VALUE_KEYS.items() if v.family == "liquidity_analysis")
_PRICING_KEYS = tuple(k for k, v in VALUE_KEYS.items() if v.family == "pricing_spread")

CATALOGUE: tuple[SurfaceMetric, ...] = (
    SurfaceMetric(
        "Put/Call Ratio",
        "put_call_ratio",
        ("pcr_volume", "pcr_open_interest", "pcr_status"),
        (
            "PCR",
            "put/call",
            "put call",
            "P/C ratio",
            "put/call volume ratio",
            "PCR volume",
            "put/call open interest",
            "PCR OI",
            "put/call OI",
        ),
    ),
    SurfaceMetric(
        "Implied Volatility (IV)",
        "options_analysis",
        ("latest_atm_iv", "latest_atm_iv_rank_pct", "iv_rank_lookback_days", "data_freshness"),
        ("IV", "ATM IV", "implied vol", "Implied Volatility", "IV rank", "IV percentile"),
    ),
    SurfaceMetric(
        "IV Skew",
        "options_analysis",
        ("latest_iv_skew", "latest_otm_put_iv", "latest_otm_call_iv"),
        ("Skew", "volatility skew", "vol skew", "put skew", "put/call skew"),
    ),
    SurfaceMetric(
        "Options Liquidity",
        "liquidity_analysis",
        _LIQUIDITY_KEYS,
        ("liquidity", "market impact", "market impact risk", "liquid contracts"),
    ),
    SurfaceMetric(
        "Open Interest", "liquidity_analysis", ("{T}_open_interest",), ("OI", "option OI")
    ),
    SurfaceMetric(
        "Options Volume",
        "liquidity_analysis",
        ("{T}_daily_option_volume",),
        ("volume", "option volume", "daily option volume"),
    ),
    SurfaceMetric(
        "Institutional Flow",
        "liquidity_analysis",
        _LIQUIDITY_KEYS,
        ("Institutional Flows", "options flow"),
    ),
    SurfaceMetric(
        "Options Pricing / Spread",
        "pricing_spread",
        _PRICING_KEYS,
        ("spread", "bid/ask", "bid-ask spread", "quote spread", "options pricing"),
    ),
    SurfaceMetric(
        "Underlying Price",
        "pricing_spread",
        ("{T}_underlying_price",),
        ("underlying", "spot", "spot price", "stock price"),
    ),
    SurfaceMetric(
        "Macro Trend",
        "macro_analysis",
        ("{T}_last_value", "{T}_mom_change", "{T}_daily_change"),
        ("macro", "trend"),
    ),
    SurfaceMetric(
        "Price",
        "macro_analysis",
        ("{T}_last_value",),
        ("VIX level", "level", "index level", "last value", "yield"),
    ),
    SurfaceMetric(
        "Price Change (%)",
        "macro_analysis",
        ("{T}_mom_change", "{T}_daily_change"),
        ("price change", "percent change", "pct change"),
    ),
    SurfaceMetric(
        "Daily Change (%)",
        "macro_analysis",
        ("{T}_daily_change",),
        ("daily change", "day change", "1d change"),
    ),
    SurfaceMetric(
        "Monthly Change (%)",
        "macro_analysis",
        ("{T}_mom_change",),
        ("monthly change", "MoM change", "MoM", "month over month"),
    ),
    SurfaceMetric(
        "Yearly Change (%)",
        "macro_analysis",
        (),
        ("yearly change", "YoY change", "YoY", "year over year", "annual change"),
        unanswered="NOT_IN_SNAPSHOT: the macro snapshot does not carry yoy_change_pct",
    ),
    SurfaceMetric(
        "GPR Index",
        "geopolitical_analysis",
        ("gpr_index_level", "gpr_percentile", "gpr_trend"),
        ("GPR", "geopolitical risk", "geopolitical risk index", "GPR level", "GPR percentile"),
    ),
    SurfaceMetric(
        "GPR Threats",
        "geopolitical_analysis",
        ("gpr_threats_level",),
        ("GPRT", "geopolitical threats"),
    ),
    SurfaceMetric(
        "GPR Acts", "geopolitical_analysis", ("gpr_acts_level",), ("GPRA", "geopolitical acts")
    ),
    SurfaceMetric(
        "GPR Components",
        "geopolitical_analysis",
        ("gpr_threats_level", "gpr_acts_level"),
        ("GPR threats and acts", "GPR sub-indexes"),
    ),
    SurfaceMetric(
        "GPR Country-level",
        "geopolitical_analysis",
        ("gpr_country_{ISO3}_level",),
        ("country GPR", "GPR by country", "country-level GPR"),
    ),
)

# Financial metrics agents ask for that no handler answers. Listing them keeps a close
# misspelling ("Dividend Yeild") from being fuzzily routed to an unrelated handler.
WITHOUT_HANDLER: tuple[str, ...] = (
    "Earnings Per Share",
    "Revenue Growth",
    "Dividend Yield",
    "Short Interest",
    "Analyst Rating",
    "P/E Ratio",
    "Market Cap",
    "DTE",
    "Days to Expiration",
    "Insider Trading",
)

BY_NAME: dict[str, SurfaceMetric] = {m.name: m for m in CATALOGUE}


def normalize_metric_name(name: str) -> str:
    """Lower-case alphanumerics only: ``"Put/Call Ratio"`` → ``"putcallratio"``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


def _alias_index() -> dict[str, str]:
    """``{normalised alias: surface name}``; raises when one spelling would mean two metrics."""
    index = {normalize_metric_name(m.name): m.name for m in CATALOGUE}
    blocked = {normalize_metric_name(n) for n in WITHOUT_HANDLER}
    for metric in CATALOGUE:
        for alias in metric.aliases:
            key = normalize_metric_name(alias)
            owner = index.get(key) or (key in blocked and "a metric without handler")
            if owner and owner != metric.name:
                raise ValueError(f"alias {alias!r} of {metric.name!r} collides with {owner!r}")
            index[key] = metric.name
    return index


ALIASES: dict[str, str] = _alias_index()


@lru_cache(maxsize=4096)
def value_key(key: str) -> ValueKey | None:
    """The catalogue entry of an unprefixed answer key (``SPY_open_interest``, ``pcr_volume``)."""
    for entry in VALUE_KEYS.values():
        if entry.pattern.match(key):
            return entry
    return None


def requested_keys(requested: frozenset[str]) -> frozenset[str]:
    """Key templates yielded by the requested surface names."""
    return frozenset(k for name in requested if name in BY_NAME for k in BY_NAME[name].value_keys)


def carries(metric: SurfaceMetric, keys: set[str] | frozenset[str], ticker: str) -> bool:
    """Whether an answer with ``keys`` (unprefixed) carries any value of ``metric``."""
    patterns = [VALUE_KEYS[k].pattern for k in metric.value_keys]
    return any(
        (match := p.match(key)) and match.groupdict().get("T", ticker) == ticker
        for p in patterns
        for key in keys
    )


class ValueKeyInfo(BaseModel):
    """A value key of a catalogue row, as ``list_metrics`` shows it."""

    key: str
    unit: str
    display: str
    unit_rule: str


class MetricInfo(BaseModel):
    """A catalogue row, as ``list_metrics`` shows it."""

    name: str
    family: str
    needs_tickers: bool
    aliases: list[str]
    value_keys: list[ValueKeyInfo]
    unanswered: str | None


def metric_infos() -> list[MetricInfo]:
    """The catalogue rows as models (the MCP tool's output schema)."""
    return [
        MetricInfo(
            name=m.name,
            family=m.family,
            needs_tickers=m.needs_tickers,
            aliases=list(m.aliases),
            value_keys=[
                ValueKeyInfo(
                    key=k,
                    unit=VALUE_KEYS[k].unit,
                    display=VALUE_KEYS[k].display,
                    unit_rule=UNIT_RULES[VALUE_KEYS[k].unit],
                )
                for k in m.value_keys
            ],
            unanswered=m.unanswered,
        )
        for m in CATALOGUE
    ]


def list_metrics() -> list[dict[str, Any]]:
    """The catalogue as JSON-ready rows (``silver-assets metrics --json``)."""
    return [m.model_dump() for m in metric_infos()]


def catalogue_markdown() -> str:
    """The catalogue as the Markdown table the README carries (a test keeps them equal)."""
    lines = [
        "| metric | family | value keys (unit) | tickers | aliases |",
        "|---|---|---|---|---|",
    ]
    for m in CATALOGUE:
        keys = ", ".join(f"`{k}` ({VALUE_KEYS[k].unit})" for k in m.value_keys)
        lines.append(
            f"| {m.name} | {m.family} | {keys or m.unanswered} | "
            f"{'yes' if m.needs_tickers else 'no'} | {', '.join(m.aliases)} |"
        )
    return "\n".join(lines)
