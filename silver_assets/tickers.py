"""Ticker spelling and the macro lake's ETF aliases (docs/metrics.md), shared by metrics and query.

Pure and at the bottom of the layers: the family builders (metrics) and the routing (query) both
import it, so neither imports the other.
"""

from __future__ import annotations

from datetime import date

# ETF → the index the macro lake actually stores. GLD/SLV are stored as themselves.
ETF_INDEX_ALIASES: dict[str, str] = {
    "SPY": "^GSPC",
    "IVV": "^GSPC",
    "VOO": "^GSPC",
    "QQQ": "^IXIC",
    "IWM": "^RUT",
    "VIXY": "^VIX",
}


def clean_ticker(ticker: str) -> str:
    """A ticker as stored: upper-cased and stripped, never fuzzy."""
    return ticker.upper().strip()


def macro_symbol_for(ticker: str) -> tuple[str, str | None]:
    """(symbol to look up in the macro lake, index alias or None)."""
    clean = clean_ticker(ticker)
    index = ETF_INDEX_ALIASES.get(clean)
    return (index or clean), index


def macro_anchor(ticker: str, index: str | None, obs_date: date) -> str:
    """``MACRO_{T}_{date}``, or ``MACRO_{T}_AS_{INDEX}_{date}`` on the alias path."""
    clean = clean_ticker(ticker)
    middle = f"{clean}_AS_{index}" if index else clean
    return f"MACRO_{middle}_{obs_date.isoformat()}"
