"""The claim checker: verify the numbers of a drafted answer against the snapshots.

A claim is a number (with ``%``, a decimal point, a magnitude suffix such as ``11.7M``, or an
absolute value of 10 or more) whose sentence cites a Silver lineage anchor: ``[Silver: A, B]``
or a bare ``[A]`` right after it. An anchor is a payload's preferred anchor
(``PCR_AGG_SPY_2026-04-30``, ``GPR_202604``, ...), a legacy alias, an ATM or wing contract
symbol, or a value key (``SPY_pcr_volume``; an unprefixed ``pcr_volume`` needs the payload as
``context``). ``[Gold: ...]`` and other labelled brackets cite other sources and are left alone;
``[Silver: n/a]`` and the like claim nothing.

Each claim gets one verdict: ``VERIFIED`` (the true value rounded to the decimals written equals
the claim), ``UNIT_ERROR`` (off by exactly x100 or /100 under the unit rules), ``MISMATCH`` (with
the true value and its key), ``STALE_ANCHOR`` (a dated anchor older than its family's newest
partition), ``UNKNOWN_ANCHOR``; a claim-like number without a citation is ``UNCITED``. A number
is judged against every value under the anchors it cites: the checker does not read which
metric a sentence names, so a value key is the citation that binds a number to one value.

Values are read from the materialized snapshots and built by the same family builders as the
query, never from the raw lake. Unit rules come from the catalogue: a number written with ``%``
is compared in percent (a fraction x100, percentage points as they are); one written without
``%`` is compared in the value's stored unit.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from functools import partial
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from silver_assets.metrics.families import BUILDERS, FamilyAnswer
from silver_assets.query.answer import PER_TICKER_FAMILIES, load_snapshot
from silver_assets.query.catalogue import (
    CATALOGUE,
    FRACTION_UNITS,
    MAGNITUDE_UNITS,
    NUMERIC_UNITS,
    PERCENT_UNITS,
    UNIT_RULES,
    value_key,
)
from silver_assets.query.models import validation_problems
from silver_assets.query.payload import LeanSchemaModel, Value
from silver_assets.settings import Settings
from silver_assets.snapshots import SnapshotStore
from silver_assets.tickers import macro_symbol_for

# A drafted answer is a few pages; past this the caller gets a clear error, not a slow check.
MAX_TEXT_CHARS = 200_000

Verdict = Literal["VERIFIED", "MISMATCH", "UNIT_ERROR", "STALE_ANCHOR", "UNKNOWN_ANCHOR", "UNCITED"]
# The verdicts a value alone decides; the others come from the citation or the partition.
ValueVerdict = Literal["VERIFIED", "UNIT_ERROR", "MISMATCH"]

SENTINELS = frozenset(
    {
        "n/a",
        "na",
        "none",
        "null",
        "-",
        "no data",
        "insufficient data",
        "not applicable",
        "not available",
        "unknown",
        "no silver data",
    }
)

_BRACKET = re.compile(r"\[([^\[\]]*)\]")
# The label is stripped in code: a lazy label before ``\s*:`` backtracked quadratically.
_LABELLED = re.compile(r"^\s*([A-Za-z][A-Za-z \t]*):(.*)$", re.S)
_ANCHOR_TOKEN = re.compile(r"^(?=.*[A-Za-z])(?=.*[\d_])[\w^.\-]+$")
_MONTH_NAME = (
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?"
    r"|Sep(?:t(?:ember)?)?|Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.?"
)
_DAY = r"(?:0?[1-9]|[12]\d|3[01])"
_MONTH_NUMBER = r"(?:0?[1-9]|1[0-2])"
# Dates, times and heading numbers are never claims: ISO dates and months; m/d and d/m forms
# with a valid month and day ("4/30", not "23/18" or the decimal pair "0.99/0.20"); month-day
# forms and ranges ("Apr-30", "April 27-30"); a year after an apostrophe ("Q1'26"); clock
# times; and a heading's section number ("## 10.", "### 2.1") on a line with no citation.
_DATES = re.compile(
    r"\b\d{4}-\d{2}(?:-\d{2})?\b"
    rf"|(?<![.\d])\b(?:{_MONTH_NUMBER}/{_DAY}|{_DAY}/{_MONTH_NUMBER})(?:/\d{{2,4}})?\b(?![.%]|\s%)"
    rf"|\b{_MONTH_NAME}[-\s]{_DAY}(?:\s?[-\u2013]\s?{_DAY})?\b(?![.,]\d|\s?%)"
    r"|(?<=[A-Za-z0-9])['\u2019]\d{2}\b(?![.,]\d)|\b\d{1,2}:\d{2}(?::\d{2})?\b(?:\s?[ap]\.?m\.?)?"
    r"|^\s{0,3}#{1,6}\s+\d{1,2}(?:\.\d{1,2})*\.?(?=\s|$)(?![^\n]*\[)",
    re.MULTILINE,
)
# Signs: a minus may be typeset as a Unicode minus or a dash; a dash taken for a minus can only
# reject a true claim, a minus taken for nothing could verify a false one. So every one counts,
# after Markdown ("**-1.05%**"), quotes or commas too, except a dash right after a number or a
# word ("16.5%\u201320.1%", "1.2-1.4", "rose\u20141.05%"), which joins a range or a clause.
_MINUS_SIGNS = "\u2212\u2010\u2011\u2012\u2013\u2014\u2015\ufe63\uff0d"
# A number: its sign, digits (".5" has none), decimals, then a percent, a magnitude ("11.7M",
# "4.2 million") or a word run into it ("1.3x", "419bps", "3rd"; see _is_claim). One that runs
# on into more digits ("1.2.3", "2s10s") or out of a name ("var_95") is no number, but one
# after an ellipsis or inside underscores ("..9.9", "_9.9_") is.
_NUMBER = re.compile(
    r"(?<![A-Za-z0-9^])(?<![A-Za-z0-9]_)(?<![^.]\.)(?<!^\.)"
    rf"(?:(?<![A-Za-z0-9%.])([-+{_MINUS_SIGNS}]|\u2212\s{{1,3}}))?"
    r"(?=\.?\d)(\d{1,3}(?:,\d{3})+|\d+)?(\.\d+)?"
    r"(?:(\s?[%\uff05]|\s(?i:percent|per cent)\b)"
    r"|(\s?(?:bn|mn|mm|MM|mln|bln)|[kKMBm]|\s(?:thousand|million|billion)\b)(?![A-Za-z])"
    r"|([A-Za-z]+|\s(?i:bps?|pct|basis points?)\b))?"
    r"(?![A-Za-z0-9]|\.\d)"
)
# Words run into a number (any case). Units: "pct" and "percent" are a percent, "bp"/"bps"
# basis points (0.01 of a percentage point), "x" a multiple compared as written. Any other word
# makes a whole number no claim ("13F", "3rd", "52wk", "10Y", "30DTE", "1990s", "10am"), and a
# decimal one a claim compared as written ("99.9th").
_PERCENT_WORDS = frozenset({"pct", "percent"})
_BASIS_POINTS = frozenset({"bp", "bps", "basis point", "basis points"})
# A currency code after a number ("750USD") is a unit; before one ("USD750") it is blanked.
_CURRENCIES = frozenset({"usd", "eur", "gbp", "jpy", "chf", "cad", "aud", "cny", "hkd"})
_CURRENCY_BEFORE = re.compile(r"\b(?:USD|EUR|GBP|JPY|CHF|CAD|AUD|CNY|HKD)(?=\d)")
_IN_PERCENT = _PERCENT_WORDS | _BASIS_POINTS
_UNIT_WORDS = _IN_PERCENT | _CURRENCIES | {"x"}
_PERCENTILE_AFTER = re.compile(r"\s+percentile")
# Days to expiry ("30-45 DTE") are no metric here. Other spans ("past 180 days") stay claims:
# the IV rank's lookback is a number of days.
_DTE_AFTER = re.compile(r"(?:\s?[-\u2013]\s?\d+)?\s+DTE\b", re.IGNORECASE)
# "1M" or "3M" before an options or rates word is a tenor in months, not millions.
_TENOR_MONTHS = frozenset({"1", "2", "3", "4", "6", "9", "12", "18", "24"})
_TENOR_AFTER = re.compile(
    r"\s+(?:ATM|IV|vols?|volatility|implied|skew|tenors?|expiry|expiries|options?|straddles?"
    r"|strangles?|puts?|calls?|term|forwards?|T-?bills?|bills?|SOFR|LIBOR|rates?|yields?)\b",
    re.IGNORECASE,
)
# A whole number hyphenated to a word ("30-day", "52-week") names a span, not a claim.
_COMPOUND = re.compile(r"-[A-Za-z]")
# Index names that hold a whole number ("S&P 500"), not a level or move ("Nasdaq 15.2%").
_INDEX_NAMES = re.compile(
    r"\b(?:S&P\s?(?:500|400|600|100|1500)|Russell\s?[123]000|(?:Nasdaq|NASDAQ)\s?100"
    r"|FTSE\s?(?:100|250)|(?:Stoxx|STOXX)\s?(?:50|600)|(?:DAX|CAC)\s?40|Nikkei\s?225"
    r"|ASX\s?200)(?!\w|[.,]\d|\s?%)"
)
_LIST_NUMBER = re.compile(r"\s*\d{1,2}\.")
_LEADING_SPACE = re.compile(r"\s*")
# A list number is followed by its item's text, not a citation ("701. [Silver: A]").
_LIST_MARK = re.compile(r"[.)]\s+(?=[^\s\[])")
# Abbreviations whose full stop ends no sentence (as written; "CA." may end one).
# ("U.S." or "est." often do end one, and a sentence joined to the next could borrow its bracket.)
_ABBREVIATIONS = frozenset({"vs", "Vs", "e.g", "i.e", "approx", "cf", "incl"})
_MAGNITUDE = {
    **dict.fromkeys(["k", "K", "thousand"], 1_000),
    **dict.fromkeys(["M", "m", "mn", "mm", "MM", "mln", "million"], 1_000_000),
    **dict.fromkeys(["B", "bn", "bln", "billion"], 10**9),
}
# Sentences end at . ! or ?, at a blank line, or before a list item or a table row (each row
# cites for itself); a wrapped line goes on.
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+|\n\s*\n|\n(?=\s*(?:[-*•]|\d+[.)])\s)|\n(?=\s*\|)")
# Month names are capitalized in prose; "may" is a verb ("30 may still look cheap").
_MONTH = re.compile(rf"^{_MONTH_NAME}$|^{_MONTH_NAME.upper()}$")

_DATED_ANCHOR = re.compile(r"^(PCR_AGG|IVRANK|IVSKEW|LIQ|PX|MACRO)_(.+)_(\d{4}-\d{2}-\d{2})$")
_GPR_ANCHOR = re.compile(r"^GPR_(\d{4})(\d{2})$")
_CONTRACT = re.compile(r"^[A-Z][A-Z.]{0,5}\d{6}[CP]\d{8}$")
_ANCHOR_FAMILY = {
    "PCR_AGG": "put_call_ratio",
    "IVRANK": "options_analysis",
    "IVSKEW": "options_analysis",
    "LIQ": "liquidity_analysis",
    "PX": "pricing_spread",
    "MACRO": "macro_analysis",
}
_CONTRACT_COLUMNS = ("atm_contract_symbol", "put_wing_contract_symbol", "call_wing_contract_symbol")
# Every surface name of a family, so its builder yields every key the query could.
_ALL_NAMES = {f: frozenset(m.name for m in CATALOGUE if m.family == f) for f in BUILDERS}
# How many partitions past an anchor's date may hold it (a partition answers with its latest
# snapshot at or before its anchor, so the anchor's own date is nearly always the first hit).
_PARTITIONS_PAST_DATE = 10


class TextTooLong(ValueError):
    """The text to verify is over :data:`MAX_TEXT_CHARS`."""


class InvalidContext(ValueError):
    """The context is not a query payload with a citation contract; the message says why."""


class ContextEntry(BaseModel):
    """What the checker reads of one citation-contract entry."""

    model_config = ConfigDict(extra="ignore")

    preferred_anchor: str
    legacy_aliases: list[str] = Field(default_factory=list)


class CitationContext(BaseModel):
    """The part of a query payload the checker reads: its citation contract. A whole
    ``query_metrics`` answer fits; its other fields are ignored."""

    model_config = ConfigDict(extra="ignore")

    citation_contract: dict[str, ContextEntry]


def parse_context(context: CitationContext | Mapping[str, Any] | None) -> CitationContext | None:
    """The context as a :class:`CitationContext`; raises :class:`InvalidContext`."""
    if context is None or isinstance(context, CitationContext):
        return context
    try:
        return CitationContext.model_validate(context)
    except ValidationError as exc:
        raise InvalidContext(
            f"context is not a query payload: {validation_problems(exc, 'context')}"
        ) from exc


class Claim(BaseModel):
    """One number of the text and its verdict."""

    text: str = Field(description="the number as written, e.g. '16.5%'")
    start: int = Field(description="offset of the number in the text")
    sentence: int = Field(description="index of its sentence")
    anchors: list[str] = Field(description="the Silver anchors cited for it")
    verdict: Verdict
    anchor: str | None = Field(None, description="the anchor the verdict is about")
    key: str | None = Field(None, description="value key matched, or the closest one")
    true_value: Value = Field(None, description="the snapshot's value under that key")
    detail: str | None = None


class VerifyResult(LeanSchemaModel):
    """Every claim and uncited number, in text order, and the count of each verdict."""

    claims: list[Claim]
    counts: dict[str, int]
    all_verified: bool = Field(description="True when every claim is VERIFIED and none uncited")


@dataclass(frozen=True)
class _Candidate:
    anchor: str
    key: str
    value: Any
    unit: str
    stale: bool


@dataclass
class _Resolver:
    """Anchors to candidate values, reading each snapshot file once per call."""

    store: SnapshotStore
    context: CitationContext | None
    _partitions: dict[str, list[str]] = field(default_factory=dict)
    _answers: dict[tuple[str, str, str], FamilyAnswer | None] = field(default_factory=dict)
    _resolved: dict[tuple[str, bool], tuple[list[_Candidate], str | None]] = field(
        default_factory=dict
    )

    def partitions(self, family: str) -> list[str]:
        if family not in self._partitions:
            self._partitions[family] = self.store.partitions(family)
        return self._partitions[family]

    def answer(self, family: str, partition: str, ticker: str) -> FamilyAnswer | None:
        cache_key = (family, partition, ticker)
        if cache_key not in self._answers:
            rows = load_snapshot(self.store, family, partition).rows
            symbol = macro_symbol_for(ticker)[0] if family == "macro_analysis" else ticker
            row = rows.get(symbol)
            self._answers[cache_key] = (
                None if row is None else BUILDERS[family](row, ticker, _ALL_NAMES[family])
            )
        return self._answers[cache_key]

    def resolve(
        self, anchor: str, through_context: bool = True
    ) -> tuple[list[_Candidate], str | None]:
        """(candidate values, why none) for one cited anchor; each anchor is resolved once."""
        cache_key = (anchor, through_context)
        if cache_key not in self._resolved:
            self._resolved[cache_key] = self._resolve(anchor, through_context)
        return self._resolved[cache_key]

    def _resolve(self, anchor: str, through_context: bool) -> tuple[list[_Candidate], str | None]:
        if through_context and (entries := self._contract_entries(anchor)):
            candidates: list[_Candidate] = []
            for key, preferred in entries:
                # The preferred anchor itself is read from the snapshots, never the context
                # again, so entries that name each other cannot loop.
                found, why = self.resolve(preferred, through_context=False)
                # The contract's key without the multi-ticker prefix, as the builder names it.
                candidates += [c for c in found if key.endswith(c.key)] or found
            return candidates, None if candidates else why
        if dated := _DATED_ANCHOR.match(anchor):
            prefix, middle, day = dated.groups()
            ticker = middle.split("_AS_")[0] if prefix == "MACRO" else middle
            return self._dated(anchor, _ANCHOR_FAMILY[prefix], ticker, day)
        if gpr := _GPR_ANCHOR.match(anchor):
            month = f"{gpr.group(1)}-{gpr.group(2)}-01"
            return self._dated(anchor, "geopolitical_analysis", "", month)
        if _CONTRACT.match(anchor):
            return self._contract(anchor)
        return self._value_key(anchor)

    def _contract_entries(self, anchor: str) -> list[tuple[str, str]]:
        """(value key, preferred anchor) of the context's entries that ``anchor`` names: as
        their key, or as a legacy alias. One string can be both (pricing's old
        ``SPY_avg_spread_pct`` is liquidity's key), and then both values are candidates."""
        contract = self.context.citation_contract if self.context else {}
        return [
            (key, entry.preferred_anchor)
            for key, entry in contract.items()
            if anchor == key or anchor in entry.legacy_aliases
        ]

    def _dated(
        self, anchor: str, family: str, ticker: str, day: str
    ) -> tuple[list[_Candidate], str | None]:
        partitions = [p for p in self.partitions(family) if p >= day][:_PARTITIONS_PAST_DATE]
        for partition in partitions:
            answer = self.answer(family, partition, ticker)
            if answer is None:
                continue
            keys = [k for k in answer.values if answer.preferred[k] == anchor]
            if keys:
                stale = self._is_stale(family, ticker, anchor, day)
                return [_candidate(anchor, k, answer.values[k], stale) for k in keys], None
        return [], f"no {family} snapshot holds {anchor}"

    def _is_stale(self, family: str, ticker: str, anchor: str, day: str) -> bool:
        """Older than what the newest partition answers with the same kind of anchor."""
        newest = self._newest(family, ticker)
        if newest is None:
            return False
        kind = anchor[: -len(day)] if family != "geopolitical_analysis" else "GPR_"
        newer = [a for a in newest.preferred.values() if a.startswith(kind) and a != anchor]
        current = [a for a in newest.preferred.values() if a == anchor]
        return bool(newer) and not current

    def _contract(self, symbol: str) -> tuple[list[_Candidate], str | None]:
        """The newest options_analysis partition that names contract ``symbol``. A chain
        observed after the contract's expiry cannot hold it, so those partitions go unread."""
        try:
            expiry = datetime.strptime(symbol[-15:-9], "%y%m%d").date().isoformat()
        except ValueError:
            return [], f"{symbol} has no valid expiry date (YYMMDD after the root)"
        partitions = self.partitions("options_analysis")
        for partition in reversed([p for p in partitions if p <= expiry]):
            rows = load_snapshot(self.store, "options_analysis", partition).rows
            for ticker, row in rows.items():
                if symbol not in (row.get(c) for c in _CONTRACT_COLUMNS):
                    continue
                answer = self.answer("options_analysis", partition, ticker)
                assert answer is not None, "the ticker's row was just read"
                keys = [k for a, k in answer.extra_anchors if a == symbol and k in answer.values]
                stale = partition != partitions[-1]
                return [_candidate(symbol, k, answer.values[k], stale) for k in keys], None
        return [], f"no options_analysis snapshot up to its expiry ({expiry}) names {symbol}"

    def _value_key(self, key: str) -> tuple[list[_Candidate], str | None]:
        """A value key or a legacy alias, read from the newest partitions (never stale)."""
        found, why = self._keyed(key)
        found += self._legacy(key)
        return found, None if found else why

    def _newest(self, family: str, ticker: str) -> FamilyAnswer | None:
        partitions = self.partitions(family)
        return self.answer(family, partitions[-1], ticker) if partitions else None

    def _keyed(self, key: str) -> tuple[list[_Candidate], str | None]:
        ticker, entry = _split_key(key)
        if entry is None:
            return [], f"{key!r} is neither an anchor nor a value key"
        family = entry.family
        if entry.key == key and "{T}" not in entry.key and family != "geopolitical_analysis":
            contract = self.context.citation_contract if self.context else {}
            if prefixed := sorted(k for k in contract if k.endswith(f"_{key}")):
                return (
                    [],
                    f"{key!r} is several tickers' value in the context: cite one of {prefixed}",
                )
            return [], f"{key!r} needs a ticker prefix (SPY_{key}) or the payload as context"
        if not self.partitions(family):
            return [], f"no {family} partition is materialized"
        answer = self._newest(family, ticker)
        unprefixed = key if "{T}" in entry.key or not ticker else key[len(ticker) + 1 :]
        if answer is None or unprefixed not in answer.values:
            return [], f"the newest {family} snapshot has no {key}"
        return [_candidate(key, unprefixed, answer.values[unprefixed], False)], None

    def _legacy(self, alias: str) -> list[_Candidate]:
        """The values whose legacy aliases name ``alias`` (``SPY_avg_spread_pct``), in the
        newest partitions of the per-ticker families."""
        ticker = alias.split("_", 1)[0]
        return [
            _candidate(alias, key, answer.values[key], False)
            for family in sorted(PER_TICKER_FAMILIES)
            if (answer := self._newest(family, ticker)) is not None
            for key, aliases in answer.legacy_aliases.items()
            if alias in aliases and key in answer.values
        ]


def _split_key(key: str) -> tuple[str, Any]:
    """(ticker, catalogue entry) of a value key, with or without the multi-ticker prefix."""
    entry = value_key(key)
    if entry is not None:
        match = entry.pattern.match(key)
        return (match.groupdict().get("T") or "") if match else "", entry
    ticker, _, rest = key.partition("_")
    entry = value_key(rest) if rest else None
    return (ticker, entry) if entry is not None and "{T}" not in entry.key else ("", None)


def _candidate(anchor: str, key: str, value: Any, stale: bool) -> _Candidate:
    entry = value_key(key)
    return _Candidate(anchor, key, value, entry.unit if entry else "label", stale)


def _stored_number(value: Any, unit: str) -> Decimal | None:
    if unit not in NUMERIC_UNITS or value is None or isinstance(value, bool):
        return None
    text = value.strip().rstrip("%") if isinstance(value, str) else repr(value)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def _rounds_to(true: Decimal, written: Decimal, decimals: int) -> bool:
    """Whether ``true`` rounds to ``written`` at ``decimals`` places. A tie (1.305 at two places)
    rounds either way: half up gives 1.31, and Python's ``f"{1.305:.2f}"`` gives 1.30."""
    return abs(true - written) <= Decimal(5).scaleb(-decimals - 1)


def _value_verdict(
    written: Decimal, decimals: int, percent: bool, candidate: _Candidate, magnitude: int = 1
) -> tuple[ValueVerdict, Decimal, bool] | None:
    """("VERIFIED" | "UNIT_ERROR" | "MISMATCH", true value in the written scale, whether the
    value has the written form at all), or None when the candidate is not a number.
    ``magnitude`` is the written suffix's (1,000 for ``k``): ``11.7M`` is ``written`` 11.7
    with a magnitude of a million."""
    stored = _stored_number(candidate.value, candidate.unit)
    if stored is None:
        return None
    if percent and candidate.unit in FRACTION_UNITS:
        scaled: Decimal | None = stored * 100
    elif percent and candidate.unit not in PERCENT_UNITS:
        scaled = None  # a count, price or level has no percent form
    elif magnitude != 1 and candidate.unit not in MAGNITUDE_UNITS:
        scaled = None  # a ratio, score or number of days has no "k" or "M" form
    else:
        scaled = stored / magnitude
    if scaled is None:
        return "MISMATCH", stored, False
    if magnitude != 1 and not written and stored:
        return "MISMATCH", scaled, True  # "0bn" for 194,671,665 rounds, but claims nothing
    if _rounds_to(scaled, written, decimals):
        return "VERIFIED", scaled, True
    if _rounds_to(scaled * 100, written, decimals) or _rounds_to(scaled / 100, written, decimals):
        return "UNIT_ERROR", scaled, True
    return "MISMATCH", scaled, True


@dataclass(frozen=True)
class _Bracket:
    start: int
    end: int
    kind: str  # "silver", "other" (another source), "sentinel"
    anchors: tuple[str, ...] = ()


def _bracket(match: re.Match[str]) -> _Bracket | None:
    content = match.group(1)
    labelled = _LABELLED.match(content)
    if labelled:
        if labelled.group(1).strip().lower() != "silver":
            return _Bracket(match.start(), match.end(), "other")
        content = labelled.group(2)
    items = [item.strip() for item in content.split(",") if item.strip()]
    anchors = tuple(item for item in items if item.lower() not in SENTINELS)
    if not anchors:
        return _Bracket(match.start(), match.end(), "sentinel")
    if labelled or all(_ANCHOR_TOKEN.match(item) for item in anchors):
        return _Bracket(match.start(), match.end(), "silver", anchors)
    return None  # a bare bracket that names no anchor ("[sic]", "[see above]") cites nothing


def _is_day_of_month(text: str, start: int, end: int, number: int) -> bool:
    if not 1 <= number <= 31:
        return False
    # A bounded window: a month name is short, and a long text must not be split per number.
    before = text[max(0, start - 16) : start].split()
    after = text[end : end + 16].split()
    return bool(
        (before and _MONTH.match(before[-1].strip(",;:(")))
        or (after and _MONTH.match(after[0].strip(",.;:)")))
    )


def _is_list_marker(text: str, match: re.Match[str], opens_list: bool) -> bool:
    """A number of one or two digits that opens the sentence ``text`` before ``.`` or ``)`` and
    the item's text numbers a list item; ``opens_list``: see :func:`_may_open_a_list_item`."""
    return (
        opens_list
        and len(match.group(0)) <= 2
        and _LIST_MARK.match(text, match.end()) is not None
        # The sentence's first word (no slice of its whole prefix per number).
        and _LEADING_SPACE.match(text).end() == match.start()  # type: ignore[union-attr]
    )


def _unit_word(word: str | None) -> str:
    """The word run into or after a number, as the unit sets spell it ("BPS" is "bps")."""
    return (word or "").strip().lower()


def _is_in_a_name(text: str, start: int) -> bool:
    """A whole number hyphenated to the word before it names a thing: "COVID-19", "Nasdaq-100"."""
    return start >= 2 and text[start - 1] == "-" and text[start - 2].isalpha()


def _is_claim(text: str, match: re.Match[str], opens_list: bool) -> bool:
    _, digits, fraction, percent, suffix, word = match.groups()
    if word and _unit_word(word) not in _UNIT_WORDS:
        # "12th percentile" is a value; "3rd", "13F" or "52wk" are not.
        return bool(fraction) or _PERCENTILE_AFTER.match(text, match.end()) is not None
    if percent or fraction or word:
        return True
    if suffix:
        # A whole number of "m" is months ("12m"), and "1M" or "3M" before an options word a
        # tenor, not millions.
        tenor = suffix == "m" or (suffix == "M" and _TENOR_AFTER.match(text, match.end()))
        return not (tenor and digits in _TENOR_MONTHS)
    if (
        _COMPOUND.match(text, match.end())
        or _DTE_AFTER.match(text, match.end())
        or _is_in_a_name(text, match.start())
        or _is_list_marker(text, match, opens_list)
    ):
        return False
    plain = digits.replace(",", "")
    if len(plain) > 4:  # 10,000 or more (and int() refuses thousands of digits)
        return True
    number = int(plain)
    if "," not in digits and 2020 <= number <= 2030:
        return False  # a year
    if _is_day_of_month(text, match.start(), match.end(), number):
        return False
    return number >= 10


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans. A full stop after an abbreviation ("vs.") ends none, and a Silver bracket
    right after a full stop cites the sentence before it (see :func:`_cited_after_stop`)."""
    spans, start = [], 0
    for boundary in _SENTENCE_END.finditer(text):
        if boundary.start() <= start:
            continue  # inside a bracket already moved to the sentence before
        # The last word only, from a window: re-splitting a long sentence after each "vs."
        # would be quadratic.
        words = text[max(start, boundary.start() - 16) : boundary.start()].split()
        if words and words[-1].lstrip("([{\"'").rstrip(".") in _ABBREVIATIONS:
            continue
        if _LIST_NUMBER.fullmatch(text, start, boundary.start()):
            continue  # "10. " numbers a list item; it ends no sentence
        end = _cited_after_stop(text, start, boundary.start(), boundary.end())
        spans.append((start, end))
        start = max(end, boundary.end())
    spans.append((start, len(text)))
    return [(a, b) for a, b in spans if text[a:b].strip()]


def _cited_after_stop(text: str, start: int, end: int, after: int) -> int:
    """Where the sentence ``text[start:end]`` ends: past the bracket at ``after`` when it ends
    with a full stop in the same paragraph, holds a number and no bracket of its own, and the
    bracket is a Silver citation ("was 1.31. [Silver: A]"); otherwise at ``end``."""
    opening = _BRACKET.match(text, after)
    if (
        opening is None
        or not text[start:end].endswith(".")
        or text.count("\n", end, after) > 1  # a new paragraph cites for itself
        or "[" in text[start:end]
        or not _NUMBER.search(text, start, end)
    ):
        return end
    cited = _bracket(opening)
    return opening.end() if cited is not None and cited.kind != "other" else end


def verify_claims(
    text: str,
    settings: Settings | None = None,
    context: CitationContext | Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Verdicts of every claim in ``text`` (a dumped :class:`VerifyResult`).

    ``context`` is an optional query payload: with it, value keys cited without a ticker
    prefix resolve through its citation contract. Raises :class:`TextTooLong` past
    :data:`MAX_TEXT_CHARS` characters and :class:`InvalidContext` for a context without a
    well-formed citation contract.
    """
    if len(text) > MAX_TEXT_CHARS:
        raise TextTooLong(
            f"text is {len(text):,} characters; verify_claims accepts at most {MAX_TEXT_CHARS:,}"
        )
    settings = settings or Settings.from_env()
    resolver = _Resolver(SnapshotStore(settings.snapshot_root), parse_context(context))
    claims: list[Claim] = []
    for index, (lo, hi) in enumerate(_sentences(text)):
        sentence = text[lo:hi]
        brackets = [b for m in _BRACKET.finditer(sentence) if (b := _bracket(m)) is not None]
        starts = [b.start for b in brackets]
        masked = _masked(sentence)
        opens_list = _may_open_a_list_item(text, lo)
        for match in _NUMBER.finditer(masked):
            if not _is_claim(masked, match, opens_list):
                continue
            # The first bracket after the number, else the last before it (brackets do not
            # overlap numbers, which are masked inside them).
            following = bisect_left(starts, match.end())
            if following < len(brackets):
                cited: _Bracket | None = brackets[following]
            else:
                cited = brackets[following - 1] if following else None
            if cited is not None and cited.kind != "silver":
                continue  # another source's claim, or explicitly nothing claimed
            claims.append(_verdict(resolver, match, lo, index, cited))
    counts: dict[str, int] = {}
    for claim in claims:
        counts[claim.verdict] = counts.get(claim.verdict, 0) + 1
    result = VerifyResult(claims=claims, counts=counts, all_verified=set(counts) <= {"VERIFIED"})
    return result.model_dump(mode="json")


def _masked(sentence: str) -> str:
    """``sentence`` with its brackets, dates, index names and currency prefixes blanked. Each is
    found in the sentence as written: a heading number is a date only on a line without a
    bracket."""
    chars = list(sentence)
    for pattern in (_BRACKET, _DATES, _INDEX_NAMES, _CURRENCY_BEFORE):
        for found in pattern.finditer(sentence):
            chars[found.start() : found.end()] = " " * (found.end() - found.start())
    return "".join(chars)


def _may_open_a_list_item(text: str, start: int) -> bool:
    """Whether the sentence at ``start`` opens a line, after one that leaves no parenthesis
    open ("(about\n9999) exceed" is a wrapped line, not an item)."""
    while start > 0 and text[start - 1] in " \t":
        start -= 1
    if start > 0 and text[start - 1] != "\n":
        return False
    previous = text[text.rfind("\n", 0, max(start - 1, 0)) + 1 : max(start - 1, 0)]
    return previous.count("(") <= previous.count(")")


def _verdict(
    resolver: _Resolver, match: re.Match[str], offset: int, sentence: int, cited: _Bracket | None
) -> Claim:
    sign, digits, fraction, percent, suffix, word = match.groups()
    claim = partial(Claim, text=match.group(0), start=offset + match.start(), sentence=sentence)
    if cited is None:
        return claim(anchors=[], verdict="UNCITED")
    candidates: list[_Candidate] = []
    unknown: list[str] = []
    for anchor in cited.anchors:
        found, why = resolver.resolve(anchor)
        candidates += found
        if not found:
            unknown.append(f"{anchor}: {why}")
    claim = partial(claim, anchors=list(cited.anchors))
    if not candidates:
        return claim(verdict="UNKNOWN_ANCHOR", anchor=cited.anchors[0], detail="; ".join(unknown))
    sign = "-" if sign and sign.strip() in _MINUS_SIGNS else (sign or "")
    written = Decimal(f"{sign}{(digits or '0').replace(',', '')}{fraction or ''}")
    decimals = len(fraction) - 1 if fraction else 0
    magnitude = _MAGNITUDE[suffix.strip()] if suffix else 1
    unit = _unit_word(word)
    if unit in _BASIS_POINTS:  # 419bps is 4.19 percentage points
        written, decimals = written / 100, decimals + 2
    in_percent = bool(percent) or unit in _IN_PERCENT
    judged = [
        (verdict, scaled, comparable, c)
        for c in candidates
        if (v := _value_verdict(written, decimals, in_percent, c, magnitude)) is not None
        for verdict, scaled, comparable in [v]
    ]
    if not judged:
        return claim(verdict="MISMATCH", anchor=candidates[0].anchor, detail="no numeric value")
    rank = {"VERIFIED": 0, "UNIT_ERROR": 1, "MISMATCH": 2}
    verdict: Verdict
    # The closest value is named: first one that has the written form ("16.5%" is no count).
    verdict, _, _, best = min(
        judged, key=lambda j: (rank[j[0]], not j[2], abs(j[1] - written) / (abs(j[1]) + 1))
    )
    detail = None
    if best.stale:
        detail = f"{best.anchor} is older than the newest materialized partition ({verdict})"
        verdict = "STALE_ANCHOR"
    elif verdict == "UNIT_ERROR":
        detail = f"{best.key} is {best.value}: {UNIT_RULES[best.unit]}"
    return claim(
        verdict=verdict,
        anchor=best.anchor,
        key=best.key,
        true_value=best.value,
        detail=detail,
    )
