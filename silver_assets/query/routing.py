"""Metric routing, strict tickers and value-key prefixing (docs/metrics.md, docs/queries.md).

Metric names are matched generously (exact, normalised, then fuzzy) because an LLM paraphrases
them; tickers are matched strictly because ``SPY`` and ``SPX`` are different instruments.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from silver_assets.query.catalogue import (
    ALIASES,
    CATALOGUE,
    FAMILIES,
    WITHOUT_HANDLER,
    normalize_metric_name,
)
from silver_assets.tickers import clean_ticker

# Surface name -> family, and every name routing knows, from the catalogue.
METRIC_ROUTES: dict[str, str] = {m.name: m.family for m in CATALOGUE}
ONTOLOGY: tuple[str, ...] = (*METRIC_ROUTES, *WITHOUT_HANDLER)

FUZZY_CUTOFF = 0.75
# Looser cutoff for the names suggested to a caller whose metric is unsupported.
SUGGEST_CUTOFF = 0.6

_ONTOLOGY_BY_NORMALIZED: dict[str, str] = {normalize_metric_name(n): n for n in ONTOLOGY}
_NORMALIZED_ONTOLOGY: list[str] = list(_ONTOLOGY_BY_NORMALIZED)
# Every spelling a suggestion may come from: surface names and aliases, normalised.
_SUGGESTIONS: dict[str, str] = {
    **ALIASES,
    **{normalize_metric_name(name): name for name in METRIC_ROUTES},
}


@dataclass(frozen=True)
class RoutedMetric:
    """A requested name resolved to a surface name of ``METRIC_ROUTES`` and its family.

    ``how`` is ``"exact"``, ``"normalized"``, ``"alias"`` (a curated alias of the catalogue) or
    ``"fuzzy"`` (the last one is worth logging).
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
    if key in ALIASES:
        return ALIASES[key], "alias"
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


def suggestions(name: str, n: int = 3) -> list[str]:
    """The catalogue names closest to an unsupported ``name`` (surface names, in order)."""
    close = difflib.get_close_matches(
        normalize_metric_name(name), list(_SUGGESTIONS), n=n * 3, cutoff=SUGGEST_CUTOFF
    )
    return list(dict.fromkeys(_SUGGESTIONS[c] for c in close))[:n]


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
    described = []
    for name in unsupported:
        close = suggestions(name)
        described.append(f"{name!r} (closest: {', '.join(close)})" if close else repr(name))
    return (
        f"Unsupported metric(s): {', '.join(described)}. No Silver handler answers them. "
        f"Supported metrics include: {', '.join(supported_examples())}; "
        "`silver-assets metrics` lists every name and alias."
    )


def normalize_tickers(tickers: Sequence[str], cap: int) -> tuple[list[str], list[str]]:
    """(kept, dropped): upper-cased and stripped, never fuzzy; empties removed, duplicates
    collapsed in order, then the first ``cap`` kept and the rest dropped (for ``TICKER_CAP``).
    """
    _reject_bare_string(tickers, "tickers")
    if cap < 1:
        raise ValueError(f"ticker cap must be at least 1, got {cap}")
    unique = list(dict.fromkeys(t for t in map(clean_ticker, tickers) if t))
    return unique[:cap], unique[cap:]


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
