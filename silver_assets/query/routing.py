"""Metric routing, strict ticker handling, macro aliasing and value-key prefixing (SPEC §3-§4).

Metric names are matched generously (exact, normalised, then fuzzy) because an LLM paraphrases
them; tickers are matched strictly because ``SPY`` and ``SPX`` are different instruments.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

FAMILIES: tuple[str, ...] = (
    "put_call_ratio",
    "options_analysis",
    "liquidity_analysis",
    "pricing_spread",
    "macro_analysis",
    "geopolitical_analysis",
)

# Surface names of SPEC §3's table; the first name of each family doubles as its example.
METRIC_ROUTES: dict[str, str] = {
    "Put/Call Ratio": "put_call_ratio",
    "Implied Volatility (IV)": "options_analysis",
    "Implied Volatility": "options_analysis",
    "IV Skew": "options_analysis",
    "Options Liquidity": "liquidity_analysis",
    "Open Interest": "liquidity_analysis",
    "Options Volume": "liquidity_analysis",
    "Institutional Flow": "liquidity_analysis",
    "Institutional Flows": "liquidity_analysis",
    "Options Pricing / Spread": "pricing_spread",
    "Underlying Price": "pricing_spread",
    "Macro Trend": "macro_analysis",
    "Price": "macro_analysis",
    "Price Change (%)": "macro_analysis",
    "Daily Change (%)": "macro_analysis",
    "Monthly Change (%)": "macro_analysis",
    "Yearly Change (%)": "macro_analysis",
    "GPR Index": "geopolitical_analysis",
    "GPR Threats": "geopolitical_analysis",
    "GPR Acts": "geopolitical_analysis",
    "GPR Components": "geopolitical_analysis",
    "GPR Country-level": "geopolitical_analysis",
}

# Financial metrics an agent may ask for that no handler answers. Listing them keeps a close
# misspelling ("Dividend Yeild") from being fuzzily routed to an unrelated handler.
_ONTOLOGY_WITHOUT_HANDLER: tuple[str, ...] = (
    "Earnings Per Share",
    "Revenue Growth",
    "Dividend Yield",
    "Short Interest",
    "Analyst Rating",
    "P/E Ratio",
    "Market Cap",
)
ONTOLOGY: tuple[str, ...] = (*METRIC_ROUTES, *_ONTOLOGY_WITHOUT_HANDLER)

FUZZY_CUTOFF = 0.75


def normalize_metric_name(name: str) -> str:
    """Lower-case alphanumerics only: ``"Put/Call Ratio"`` → ``"putcallratio"``."""
    return re.sub(r"[^0-9a-z]", "", name.lower())


_ONTOLOGY_BY_NORMALIZED: dict[str, str] = {normalize_metric_name(n): n for n in ONTOLOGY}
_NORMALIZED_ONTOLOGY: list[str] = list(_ONTOLOGY_BY_NORMALIZED)


@dataclass(frozen=True)
class RoutedMetric:
    """A requested name resolved to a surface name of ``METRIC_ROUTES`` and its family.

    ``how`` is ``"exact"``, ``"normalized"`` or ``"fuzzy"`` (the last one is worth logging).
    """

    requested: str
    canonical: str
    family: str
    how: str


@dataclass(frozen=True)
class Routing:
    """Routed metrics in request order, and the requested names that no handler answers."""

    routed: tuple[RoutedMetric, ...]
    unsupported: tuple[str, ...]

    @property
    def families(self) -> tuple[str, ...]:
        """Families to run, each once, in the order they were first requested."""
        return tuple(dict.fromkeys(r.family for r in self.routed))


def _resolve(name: str) -> tuple[str, str] | None:
    """(ontology name, how) for a requested name, or None when nothing is close enough."""
    if name in ONTOLOGY:
        return name, "exact"
    key = normalize_metric_name(name)
    if key in _ONTOLOGY_BY_NORMALIZED:
        return _ONTOLOGY_BY_NORMALIZED[key], "normalized"
    close = difflib.get_close_matches(key, _NORMALIZED_ONTOLOGY, n=1, cutoff=FUZZY_CUTOFF)
    return (_ONTOLOGY_BY_NORMALIZED[close[0]], "fuzzy") if close else None


def _reject_bare_string(value: object, what: str) -> None:
    # A str is a Sequence[str] too; iterating it would route single characters.
    if isinstance(value, str):
        raise TypeError(f"{what} must be a list of strings, not the string {value!r}")


def route_metrics(metrics: Sequence[str]) -> Routing:
    """Route requested metric names; blank names are skipped and duplicates collapse.

    Two names that resolve to the same surface name keep the first; unsupported names collapse
    on their normalised spelling. An ontology name without a handler is unsupported.
    """
    _reject_bare_string(metrics, "metrics")
    routed: dict[str, RoutedMetric] = {}
    unsupported: dict[str, str] = {}
    for requested in metrics:
        if not requested.strip():
            continue
        match = _resolve(requested.strip())
        if match is not None and match[0] in METRIC_ROUTES:
            canonical, how = match
            routed.setdefault(
                canonical, RoutedMetric(requested, canonical, METRIC_ROUTES[canonical], how)
            )
        else:
            unsupported.setdefault(normalize_metric_name(requested), requested)
    return Routing(routed=tuple(routed.values()), unsupported=tuple(unsupported.values()))


def supported_examples() -> list[str]:
    """One surface name per family, in ``FAMILIES`` order."""
    first_by_family: dict[str, str] = {}
    for name, family in METRIC_ROUTES.items():
        first_by_family.setdefault(family, name)
    return [first_by_family[f] for f in FAMILIES]


def unsupported_metrics_message(unsupported: Sequence[str]) -> str | None:
    """A user-facing sentence naming the unsupported metrics, or None when there are none."""
    if not unsupported:
        return None
    names = ", ".join(repr(n) for n in unsupported)
    return (
        f"Unsupported metric(s): {names}. No Silver handler answers them. "
        f"Supported metrics include: {', '.join(supported_examples())}."
    )


def _clean_ticker(ticker: str) -> str:
    return ticker.upper().strip()


def normalize_tickers(tickers: Sequence[str], cap: int) -> tuple[list[str], list[str]]:
    """(kept, dropped): upper-cased and stripped, never fuzzy; empties removed, duplicates
    collapsed in order, then the first ``cap`` kept and the rest dropped (for ``TICKER_CAP``).
    """
    _reject_bare_string(tickers, "tickers")
    if cap < 1:
        raise ValueError(f"ticker cap must be at least 1, got {cap}")
    unique = list(dict.fromkeys(t for t in map(_clean_ticker, tickers) if t))
    return unique[:cap], unique[cap:]


# ETF → the index the macro lake actually stores (SPEC §3). GLD/SLV are stored as themselves.
ETF_INDEX_ALIASES: dict[str, str] = {
    "SPY": "^GSPC",
    "IVV": "^GSPC",
    "VOO": "^GSPC",
    "QQQ": "^IXIC",
    "IWM": "^RUT",
    "VIXY": "^VIX",
}


def macro_symbol_for(ticker: str) -> tuple[str, str | None]:
    """(symbol to look up in the macro lake, index alias or None)."""
    clean = _clean_ticker(ticker)
    index = ETF_INDEX_ALIASES.get(clean)
    return (index or clean), index


def macro_anchor(ticker: str, index: str | None, obs_date: date) -> str:
    """``MACRO_{T}_{date}``, or ``MACRO_{T}_AS_{INDEX}_{date}`` on the alias path."""
    clean = _clean_ticker(ticker)
    middle = f"{clean}_AS_{index}" if index else clean
    return f"MACRO_{middle}_{obs_date.isoformat()}"


def prefixed_key(ticker: str, key: str, multi_ticker: bool) -> str:
    """The payload key of one ticker's value: prefixed with ``"{ticker}_"`` in multi-ticker
    requests unless it already is; keys of non-ticker values (ticker ``""``) never change."""
    if ticker and multi_ticker and not key.startswith(f"{ticker}_"):
        return f"{ticker}_{key}"
    return key


def prefix_value_keys(
    values_by_ticker: Mapping[str, Mapping[str, Any]], multi_ticker: bool
) -> dict[str, Any]:
    """Flatten per-ticker values into one dict whose keys never collide.

    With more than one ticker, a key not already starting with ``"{ticker}_"`` gets that prefix.
    Values that are not per ticker (the ``gpr_*`` family) come in under ticker ``""`` and keep
    their keys. Raises ``ValueError`` rather than let one value overwrite another.
    """
    flat: dict[str, Any] = {}
    for ticker, values in values_by_ticker.items():
        for key, value in values.items():
            out = prefixed_key(ticker, key, multi_ticker)
            if out in flat:
                raise ValueError(f"value key {out!r} from ticker {ticker!r} is already taken")
            flat[out] = value
    return flat
