"""Deterministic generator of a SYNTHETIC demo Silver lake (docs/lake.md layouts).

Nothing under ``options/`` or ``macro/`` is market data: option chains are Black-Scholes prices
off a put-skewed smile, driven by seeded spot, volatility-regime and rate paths, and the macro rows
are derived from the same paths. The GPR file mixes the real published index (2024-05..2026-04,
read from ``reference/``) with synthetic months before and after, flagged by ``is_synthetic``.
Every Parquet file carries ``silver_assets.*`` key-value metadata saying so.

Determinism: the same ``(days, seed, tickers, end_date)`` gives byte-identical files. Paths are
drawn outward from a fixed anchor day, and each ticker-day has its own seed, so a short lake holds
exactly the same files as the tail of a longer one with the same seed and end date.
"""

from __future__ import annotations

import bisect
import math
import os
import re
import sys
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import exchange_calendars as xcals
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from tqdm import tqdm

from silver_assets.anchors import write_state
from silver_assets.lake.layout import MACRO_SCHEMA, OPTIONS_SCHEMA
from silver_assets.storage import Location, is_remote

DEFAULT_TICKERS: tuple[str, ...] = ("SPY", "QQQ", "IWM", "GLD", "SLV")
DEFAULT_END_DATE = date(2026, 4, 30)

REFERENCE_DIR = Path(__file__).parent / "reference"
TIER1_TICKERS = frozenset({"SPY", "QQQ", "IWM"})

# Random paths start here and run outward, so every lake passes through the same levels.
_ANCHOR_DAY = date(2026, 4, 30)
_GPR_FIRST_MONTH = date(2020, 1, 1)
_GPR_ENRICHED = ("gpr_mom_pct", "gpr_yoy_pct", "gpr_3m_ma", "gpr_percentile")
_SYMBOL_RE = re.compile(r"[A-Z0-9]{1,6}")  # OCC option roots are at most 6 characters

# symbol -> (name, asset_class, unit, source ticker, multiple of its spot); strings as in the
# real macro CSV (^RUT is not in it, so its strings follow the same pattern).
_DAILY_MACRO: dict[str, tuple[str, str, str, str, float]] = {
    "^GSPC": ("S&P 500", "Equity Index", "Points", "SPY", 10.0),
    "^IXIC": ("NASDAQ", "Equity Index", "Points", "QQQ", 37.0),
    "^RUT": ("Russell 2000", "Equity Index", "Points", "IWM", 10.0),
    "^VIX": ("VIX Volatility", "Volatility Index", "Points", "SPY", 0.0),
    "GLD": ("Gold ETF", "Commodity ETF", "USD", "GLD", 1.0),
    "SLV": ("Silver ETF", "Commodity ETF", "USD", "SLV", 1.0),
}
_MONTHLY_MACRO: dict[str, tuple[str, str, str]] = {
    "FEDFUNDS": ("Effective Federal Funds Rate", "Interest Rate", "%"),
    "CPIAUCSL": ("CPI (Inflation)", "Inflation", "Index"),
}


@dataclass(frozen=True)
class LakeSummary:
    """What ``generate_lake`` wrote."""

    root: Path
    trading_days: list[date]
    tickers: tuple[str, ...]
    option_files: int
    option_rows: int
    macro_files: int
    gpr_rows: int
    bytes_written: int
    seconds: float


@dataclass(frozen=True)
class _Profile:
    spot: float  # level on _ANCHOR_DAY
    vol: float  # long-run ATM implied vol (fraction)
    dividend: float  # continuous dividend yield
    skew: float  # put-skew strength of the smile
    factor: str  # common return/vol factor the ticker loads on
    beta: float  # loading of daily returns on that factor
    regime_beta: float  # how far the market vol regime moves this ticker's vol
    spread: float  # bid/ask width multiplier (SPY = 1)
    volume: float  # expected daily volume of a near-term ATM contract


_PROFILES: dict[str, _Profile] = {
    "SPY": _Profile(700.0, 0.16, 0.012, 0.12, "equity", 0.95, 1.0, 1.0, 20_000),
    "QQQ": _Profile(600.0, 0.20, 0.006, 0.11, "equity", 0.90, 1.0, 1.1, 12_000),
    "IWM": _Profile(250.0, 0.22, 0.013, 0.10, "equity", 0.85, 1.0, 1.5, 5_000),
    "GLD": _Profile(400.0, 0.16, 0.0, 0.03, "metals", 0.90, 0.4, 1.8, 2_000),
    "SLV": _Profile(70.0, 0.30, 0.0, 0.02, "metals", 0.80, 0.4, 2.2, 1_500),
}
# Scale benchmarks name their extra tickers G001, G002, ... after the named ones.
GENERIC_PREFIX = "G"

# Market vol regimes: calm, normal, stressed. ATM vol multipliers and daily transition matrix.
_REGIME_VOL = np.array([0.8, 1.0, 1.55])
_REGIME_SPREAD = np.array([0.9, 1.0, 1.35])
_REGIME_VOLUME = np.array([0.85, 1.0, 1.4])
_REGIME_TRANSITIONS = np.array(
    [
        [0.985, 0.015, 0.0],
        [0.010, 0.980, 0.010],
        [0.0, 0.040, 0.960],
    ]
)


# --- calendars and seeds -------------------------------------------------------------------


def _sessions(start: date, end: date) -> list[date]:
    """NYSE sessions in [start, end] from exchange_calendars' XNYS rules."""
    pad = timedelta(days=7)  # the calendar must extend past both ends of the query
    calendar = xcals.get_calendar("XNYS", start=start - pad, end=end + pad)
    return [ts.date() for ts in calendar.sessions_in_range(start, end)]


def trading_days_ending(end: date, days: int) -> list[date]:
    """The last ``days`` NYSE sessions on or before ``end``, oldest first."""
    if isinstance(days, bool) or not isinstance(days, int) or days < 1:
        raise ValueError(f"days must be an integer >= 1, got {days!r}")
    span = days * 7 // 5 + 20  # calendar days that hold `days` sessions, with holidays to spare
    while True:
        found = _sessions(end - timedelta(days=span), end)
        if len(found) >= days:
            return found[-days:]
        span *= 2


def _key(text: str) -> int:
    """A stable integer for a name (``hash`` is salted per process)."""
    return zlib.crc32(text.encode("utf-8"))


def _rng(seed: int, *names: str | int) -> np.random.Generator:
    entropy = [seed] + [n if isinstance(n, int) else _key(n) for n in names]
    return np.random.default_rng(np.random.SeedSequence(entropy))


def _outward_normals(seed: int, name: str, anchor: int, length: int) -> np.ndarray:
    """Standard normals for ``length`` steps, drawn outward from index ``anchor``.

    Extending the range only appends draws, so values already handed out never change.
    """
    back = _rng(seed, name, "back").standard_normal(anchor + 1)
    forward = _rng(seed, name, "forward").standard_normal(length - anchor - 1)
    return np.concatenate([back[::-1], forward])


def _outward_ar1(z: np.ndarray, anchor: int, phi: float) -> np.ndarray:
    """AR(1) with unit stationary variance, 0 at ``anchor`` and run outward from it.

    Starting at 0 pins every profile's vol to its nominal level on the anchor day.
    """
    x = np.empty_like(z)
    x[anchor] = 0.0
    scale = math.sqrt(1.0 - phi * phi)
    for i in range(anchor + 1, len(z)):
        x[i] = phi * x[i - 1] + scale * z[i]
    for i in range(anchor - 1, -1, -1):
        x[i] = phi * x[i + 1] + scale * z[i]
    return x


def _outward_regimes(seed: int, anchor: int, length: int) -> np.ndarray:
    """Markov vol regime per session, starting 'normal' at the anchor."""
    u = np.concatenate(
        [
            _rng(seed, "regime", "back").random(anchor + 1)[::-1],
            _rng(seed, "regime", "forward").random(length - anchor - 1),
        ]
    )
    cumulative = np.cumsum(_REGIME_TRANSITIONS, axis=1)
    states = np.empty(length, dtype=np.int64)
    states[anchor] = 1
    for i in range(anchor + 1, length):
        states[i] = min(np.searchsorted(cumulative[states[i - 1]], u[i]), 2)
    for i in range(anchor - 1, -1, -1):
        states[i] = min(np.searchsorted(cumulative[states[i + 1]], u[i]), 2)
    return states


def _month_index(d: date) -> int:
    return d.year * 12 + d.month - 1


def _month_start(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


# --- shared market state ---------------------------------------------------------------------


@dataclass(frozen=True)
class _Market:
    """Spot, vol and rate paths shared by the option and macro writers."""

    sessions: list[date]
    position: dict[date, int]
    regime: np.ndarray
    spot: dict[str, np.ndarray]
    short_vol: dict[str, np.ndarray]  # ATM vol at the short end of the term structure
    noise: dict[str, np.ndarray]  # per-session noise of the derived macro series
    first_month: int
    monthly: dict[str, np.ndarray]  # FEDFUNDS and CPIAUCSL by month index from first_month

    def month_value(self, series: str, month: int) -> float:
        return float(self.monthly[series][month - self.first_month])

    def month_open_spot(self, ticker: str, day: date) -> float:
        """Spot on the month's first session: strike increments are reset monthly."""
        return float(self.spot[ticker][bisect.bisect_left(self.sessions, day.replace(day=1))])


def demo_tickers(count: int) -> tuple[str, ...]:
    """``count`` tickers: the named ones first, then generic ``G001``, ``G002``, ..."""
    if isinstance(count, bool) or not isinstance(count, int) or count < 1:
        raise ValueError(f"ticker count must be an integer >= 1, got {count!r}")
    generic = (f"{GENERIC_PREFIX}{i:03d}" for i in range(1, count - len(DEFAULT_TICKERS) + 1))
    return (DEFAULT_TICKERS + tuple(generic))[:count]


def _profile(ticker: str) -> _Profile:
    """A named ticker's profile; any other gets one drawn from its name alone (not the seed),
    so a generic ticker looks the same in every lake: a single name near 100, mid-size vol."""
    if ticker in _PROFILES:
        return _PROFILES[ticker]
    draw = _rng(0, "profile", ticker).random(7)
    return _Profile(
        spot=round(100.0 * math.exp(1.2 * draw[0] - 0.6), 2),  # 55 .. 182
        vol=0.18 + 0.22 * draw[1],
        dividend=0.0,
        skew=0.04 + 0.08 * draw[2],
        factor="metals" if draw[3] < 0.1 else "equity",
        beta=0.5 + 0.4 * draw[4],
        regime_beta=0.6 + 0.4 * draw[5],
        spread=1.5 + 1.5 * draw[6],
        volume=300.0 + 1_500.0 * draw[0],
    )


def _atm_term(profile: _Profile, short: float | np.ndarray, t: np.ndarray) -> np.ndarray:
    """ATM vol by maturity: the short end relaxes toward a long-run level a little above the
    profile's, so calm markets show an upward-sloping term structure and stressed ones invert."""
    long = profile.vol * 1.05
    return long + (short - long) * np.exp(-t / 0.3)


def _build_market(seed: int, sessions: list[date], tickers: Sequence[str]) -> _Market:
    anchor = next(i for i, d in enumerate(sessions) if d >= _ANCHOR_DAY)
    n = len(sessions)
    regime = _outward_regimes(seed, anchor, n)
    factors = {
        name: (
            _outward_normals(seed, f"{name}-returns", anchor, n),
            _outward_ar1(_outward_normals(seed, f"{name}-vol", anchor, n), anchor, 0.97),
        )
        for name in ("equity", "metals")
    }
    spot: dict[str, np.ndarray] = {}
    short_vol: dict[str, np.ndarray] = {}
    for ticker in tickers:
        p = _profile(ticker)
        factor_returns, factor_vol = factors[p.factor]
        idio = _outward_normals(seed, f"{ticker}-returns", anchor, n)
        idio_vol = _outward_ar1(_outward_normals(seed, f"{ticker}-vol", anchor, n), anchor, 0.95)
        vol = (
            p.vol
            * _REGIME_VOL[regime] ** p.regime_beta
            * np.exp(0.10 * factor_vol + 0.06 * idio_vol)
        )
        # Realised vol runs below implied (the variance premium); returns load on the factor.
        sigma = vol / 1.1 / math.sqrt(252.0)
        shocks = p.beta * factor_returns + math.sqrt(1.0 - p.beta**2) * idio
        log_returns = (0.06 / 252.0 - 0.5 * sigma**2) + sigma * shocks
        path = np.cumsum(log_returns)
        spot[ticker] = p.spot * np.exp(path - path[anchor])
        short_vol[ticker] = vol
    noise = {
        symbol: _outward_normals(seed, f"macro-{symbol}", anchor, n) for symbol in _DAILY_MACRO
    }
    first_month, monthly = _monthly_series(seed, sessions)
    return _Market(
        sessions=sessions,
        position={d: i for i, d in enumerate(sessions)},
        regime=regime,
        spot=spot,
        short_vol=short_vol,
        noise=noise,
        first_month=first_month,
        monthly=monthly,
    )


def _monthly_series(seed: int, sessions: list[date]) -> tuple[int, dict[str, np.ndarray]]:
    """FEDFUNDS and CPIAUCSL levels through the real 2026 prints (3.64 and 327.46)."""
    # 14 months of history before the first session: previous month's value plus its YoY base.
    first = _month_index(sessions[0]) - 14
    last = _month_index(sessions[-1])
    n = last - first + 1
    fed_anchor = _month_index(date(2026, 3, 1)) - first
    cpi_anchor = _month_index(date(2026, 2, 1)) - first
    # The target rate moves in 25bp steps now and then; the effective rate wobbles around it.
    u = np.concatenate(
        [
            _rng(seed, "fedfunds", "back").random(fed_anchor + 1)[::-1],
            _rng(seed, "fedfunds", "forward").random(n - fed_anchor - 1),
        ]
    )
    steps = np.where(u < 0.07, -0.25, np.where(u > 0.95, 0.25, 0.0))
    target = np.cumsum(steps)
    fed_noise = 0.01 * _outward_normals(seed, "fedfunds-noise", fed_anchor, n)
    fed = np.clip(3.64 + target - target[fed_anchor] + fed_noise - fed_noise[fed_anchor], 0.05, 6.5)
    inflation = 0.0025 + 0.0015 * _outward_normals(seed, "cpi", cpi_anchor, n)
    log_cpi = np.cumsum(inflation)
    cpi = 327.46 * np.exp(log_cpi - log_cpi[cpi_anchor])
    return first, {"FEDFUNDS": np.round(fed, 2), "CPIAUCSL": np.round(cpi, 2)}


# --- options ---------------------------------------------------------------------------------


def _norm_cdf(x: np.ndarray) -> np.ndarray:
    """Standard normal CDF, Abramowitz & Stegun 26.2.17 (absolute error < 7.5e-8)."""
    ax = np.abs(x)
    t = 1.0 / (1.0 + 0.2316419 * ax)
    poly = t * (
        0.319381530 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429)))
    )
    upper = 1.0 - np.exp(-0.5 * ax * ax) / math.sqrt(2.0 * math.pi) * poly
    cdf: np.ndarray = np.where(x >= 0.0, upper, 1.0 - upper)
    return cdf


def _strike_step(spot: float) -> float:
    """The 1-2-2.5-5 increment closest (in log terms) to 0.13% of spot (SPY ~700: 1).

    Strikes are counted in these steps, so a chain keeps about the same size as spot drifts.
    """
    candidates = np.array([1.0, 2.0, 2.5, 5.0])[None, :] * 10.0 ** np.arange(-2, 4)[:, None]
    candidates = candidates.ravel()
    return float(candidates[np.argmin(np.abs(np.log(candidates / (spot * 0.0013))))])


def _strike_units(spot: float, step: float) -> np.ndarray:
    """Strikes (in units of ``step``) from 0.5x to 1.5x spot, finer near the money.

    70 steps either side of the money, then 20 steps of 5 units, then 10-unit strikes out to
    the 0.5x/1.5x wings, the way listed chains thin out.
    """
    centre = round(spot / step)
    lo, hi = math.ceil(0.5 * spot / step), math.floor(1.5 * spot / step)
    inner = np.arange(centre - 70, centre + 71)
    middle = np.arange((centre - 170) // 5 * 5, centre + 171, 5)
    outer = np.arange(lo // 10 * 10, hi + 1, 10)
    units = np.unique(np.concatenate([inner, middle, outer]))
    return units[(units >= lo) & (units <= hi) & (units > 0)]


def _expirations(day: date, session_set: frozenset[date]) -> tuple[np.ndarray, np.ndarray]:
    """Weekly Fridays for 8 weeks plus monthly third Fridays out about a year.

    An expiry Friday that is an exchange holiday moves to the session before, as listed options
    do. Returns the expiry dates (datetime64[D]) and whether each is a monthly expiry.
    """
    first_friday = day + timedelta(days=(4 - day.weekday()) % 7 or 7)
    expiries, monthly = [], []
    for week in range(53):
        friday = first_friday + timedelta(weeks=week)
        third_friday = 15 <= friday.day <= 21
        if (friday - day).days > 371 or not (third_friday or (friday - day).days <= 56):
            continue
        expiry = friday
        while expiry not in session_set:
            expiry -= timedelta(days=1)
        if expiry > day:
            expiries.append(expiry)
            monthly.append(third_friday)
    return np.array(expiries, dtype="datetime64[D]"), np.array(monthly)


def _option_table(
    seed: int,
    ticker: str,
    day: date,
    market: _Market,
    expiries: np.ndarray,
    monthly: np.ndarray,
) -> pa.Table:
    p = _profile(ticker)
    i = market.position[day]
    regime = market.regime[i]
    spot = round(float(market.spot[ticker][i]), 2)
    short_vol = float(market.short_vol[ticker][i])
    rate = market.month_value("FEDFUNDS", _month_index(day) - 1) / 100.0
    rng = _rng(seed, "options", ticker, day.toordinal())

    dte_e = (expiries - np.datetime64(day, "D")).astype(np.int64)
    t_e = dte_e / 365.0
    step = _strike_step(market.month_open_spot(ticker, day))
    units = _strike_units(spot, step)
    strikes_u = np.round(units * step, 4)

    # Chains widen with maturity; beyond the weeklies only every 5th strike is listed.
    width = np.minimum(0.5, 0.15 + 0.6 * np.sqrt(t_e))
    listed = np.abs(strikes_u[None, :] / spot - 1.0) <= width[:, None]
    listed &= (dte_e[:, None] <= 63) | (units[None, :] % 5 == 0)
    e_idx, k_idx = np.nonzero(listed)
    n_half = e_idx.size
    is_put = np.repeat([False, True], n_half)
    e_idx, k_idx = np.tile(e_idx, 2), np.tile(k_idx, 2)
    order = np.lexsort((k_idx, is_put, e_idx))  # expiry, then calls before puts, then strike
    e_idx, k_idx, is_put = e_idx[order], k_idx[order], is_put[order]
    n = e_idx.size

    strike = strikes_u[k_idx]
    dte = dte_e[e_idx]
    t = t_e[e_idx]
    sqrt_t = np.sqrt(t)
    forward = spot * np.exp((rate - p.dividend) * t)
    log_m = np.log(strike / forward)

    # Put-skewed smile in standardised moneyness: wings rise, the downside much faster.
    atm = _atm_term(p, short_vol, t)
    z = log_m / (atm * sqrt_t)
    smile = 1.0 + 0.12 * (np.sqrt(1.0 + z * z) - 1.0) - p.skew * z
    iv = np.round(np.clip(atm * smile * np.exp(0.01 * rng.standard_normal(n)), 0.03, 2.5), 4)

    sig = iv * sqrt_t
    d1 = (np.log(spot / strike) + (rate - p.dividend + 0.5 * iv * iv) * t) / sig
    d2 = d1 - sig
    disc_s = spot * np.exp(-p.dividend * t)
    disc_k = strike * np.exp(-rate * t)
    call = disc_s * _norm_cdf(d1) - disc_k * _norm_cdf(d2)
    put = disc_k * _norm_cdf(-d2) - disc_s * _norm_cdf(-d1)
    mid = np.maximum(np.where(is_put, put, call), 0.0)

    # Quotes: a penny plus a relative width that grows away from the money and with maturity.
    moneyness_ratio = np.abs(strike / spot - 1.0)
    rel_width = (0.004 + 0.10 * moneyness_ratio + 0.02 * t) * p.spread * _REGIME_SPREAD[regime]
    quote_width = 0.01 + mid * rel_width * np.exp(0.25 * rng.standard_normal(n))
    bid = np.maximum(np.floor((mid - quote_width / 2.0) * 100.0) / 100.0, 0.0)
    ask = np.maximum(np.ceil((mid + quote_width / 2.0) * 100.0) / 100.0, 0.01)
    # Some worthless far wings have no quote at all, as in real chains.
    no_quote = (mid < 0.005) & (rng.random(n) < 0.3)
    bid[no_quote] = 0.0
    ask[no_quote] = 0.0
    last_price = np.round(np.maximum(mid + (ask - bid) * 0.5 * rng.uniform(-1, 1, n), 0.01), 2)

    # Activity concentrates near the money and in short-dated and monthly expiries.
    # Lognormal noise factors have mean 1 (exp(s*N - s^2/2)).
    reach = 0.02 + 0.10 * sqrt_t  # how far from the money trading spreads at this maturity
    leading_side = is_put if p.factor == "equity" else ~is_put  # puts lead on equity ETFs
    activity = p.volume * _REGIME_VOLUME[regime] * np.where(leading_side, 1.25, 1.0)
    activity = activity * np.where(monthly[e_idx], 1.6, 1.0)
    vol_decay = 0.75 * np.exp(-dte / 21.0) + 0.25 * np.exp(-dte / 150.0)
    volume_lambda = activity * np.exp(-moneyness_ratio / reach) * vol_decay
    volume = rng.poisson(volume_lambda * np.exp(0.8 * rng.standard_normal(n) - 0.32))
    oi_decay = 0.4 * np.exp(-dte / 60.0) + 0.6 * np.exp(-dte / 400.0)
    oi_lambda = 6.0 * activity * np.exp(-moneyness_ratio / (1.5 * reach)) * oi_decay
    # The furthest weekly was listed last: it trades, but has little open interest yet.
    newest_weekly = ~monthly & (dte_e == dte_e[~monthly].max())
    oi_lambda *= np.where(newest_weekly[e_idx], 0.02, 1.0)
    open_interest = rng.poisson(oi_lambda * np.exp(0.6 * rng.standard_normal(n) - 0.18))

    valid_quote = (ask > 0.0) & (bid >= 0.0) & (ask >= bid)
    with np.errstate(divide="ignore", invalid="ignore"):
        spread_ratio = np.where(valid_quote, (ask - bid) / ((ask + bid) / 2.0), np.nan)
    is_liquid_basic = (volume >= 50) & (open_interest >= 100) & (bid > 0.0)
    moneyness_cap = 0.15 if ticker in TIER1_TICKERS else 0.10
    with np.errstate(invalid="ignore"):
        is_executable = (
            is_liquid_basic
            & (ask >= 0.50)
            & (spread_ratio <= 0.15)
            & (moneyness_ratio <= moneyness_cap)
            & (dte >= 7)
            & (dte <= 60)
        )

    expiry_dates = pa.array(expiries).take(e_idx)
    type_letter = pa.array(np.where(is_put, "P", "C"))
    strike_code = pc.utf8_lpad(
        pa.array(np.rint(strike * 1000).astype(np.int64)).cast(pa.string()), width=8, padding="0"
    )
    contract_symbol = pc.binary_join_element_wise(
        ticker, pc.strftime(expiry_dates, format="%y%m%d"), type_letter, strike_code, ""
    )
    zeros = np.zeros(n, dtype=np.int32)
    columns = [
        pa.array([day.isoformat()]).take(zeros),
        pa.array([ticker]).take(zeros),
        contract_symbol,
        pa.array(np.where(is_put, "put", "call")),
        strike,
        expiry_dates.cast(pa.string()),
        dte,
        np.full(n, spot),
        bid,
        ask,
        last_price,
        volume.astype(np.int64),
        open_interest.astype(np.int64),
        iv,
        np.where(is_put, strike > spot, strike < spot),
        100.0 * moneyness_ratio,
        moneyness_ratio,
        spread_ratio,
        100.0 * spread_ratio,
        is_liquid_basic,
        is_liquid_basic,
        is_executable,
    ]
    return pa.Table.from_arrays(
        [
            c if isinstance(c, pa.Array) else pa.array(c, type=f.type)
            for c, f in zip(columns, OPTIONS_SCHEMA, strict=True)
        ],
        schema=OPTIONS_SCHEMA,
    )


# --- macro -----------------------------------------------------------------------------------


def _daily_macro_value(symbol: str, market: _Market, i: int) -> float:
    _, _, _, source, multiple = _DAILY_MACRO[symbol]
    noise = market.noise[symbol][i]
    if symbol == "^VIX":
        # VIX tracks SPY's 30-day ATM vol plus the skew premium it picks up from OTM puts.
        p = _profile("SPY")
        atm30 = _atm_term(p, market.short_vol["SPY"][i], np.array(30 / 365))
        return round(float(100.0 * atm30 * 1.08 * math.exp(0.03 * noise)), 2)
    # ETF rows are the option underlyings themselves; indices track them with a little noise.
    tracking = math.exp(0.0005 * noise) if multiple != 1.0 else 1.0
    return round(float(market.spot[source][i] * multiple * tracking), 2)


def _pct_change(new: float, old: float) -> float:
    return round(100.0 * (new / old - 1.0), 2)


def _macro_table(day: date, market: _Market) -> pa.Table:
    """Daily rows observed on the previous session, monthly rows for the previous month."""
    obs = market.position[day] - 1
    rows: list[dict[str, object]] = []
    for symbol, (name, asset_class, unit, _, _) in _DAILY_MACRO.items():
        value = _daily_macro_value(symbol, market, obs)
        previous = _daily_macro_value(symbol, market, obs - 1)
        rows.append(
            {
                "observation_date": market.sessions[obs],
                "symbol": symbol,
                "name": name,
                "asset_class": asset_class,
                "value": value,
                "unit": unit,
                "frequency": "Daily",
                "daily_change_pct": _pct_change(value, previous),
                "mom_change_pct": None,
                "yoy_change_pct": None,
            }
        )
    month = _month_index(day) - 1
    for symbol, (name, asset_class, unit) in _MONTHLY_MACRO.items():
        value = market.month_value(symbol, month)
        rows.append(
            {
                "observation_date": _month_start(month),
                "symbol": symbol,
                "name": name,
                "asset_class": asset_class,
                "value": value,
                "unit": unit,
                "frequency": "Monthly",
                "daily_change_pct": None,
                "mom_change_pct": _pct_change(value, market.month_value(symbol, month - 1)),
                "yoy_change_pct": _pct_change(value, market.month_value(symbol, month - 12)),
            }
        )
    for row in rows:
        row["retrieval_date"] = day
    return pa.Table.from_pylist(rows, schema=MACRO_SCHEMA)


# --- GPR -------------------------------------------------------------------------------------


def _gpr_frame(seed: int, last_month: date) -> pd.DataFrame:
    """Real 2024-05..2026-04 GPR rows, synthetic months around them, up to ``last_month``."""
    real = pd.read_csv(
        REFERENCE_DIR / "gpr_full_columns_real.csv",
        dtype={"var_name": "string", "var_label": "string"},
    )
    # `date` duplicates `month` as text; `month` becomes the TIMESTAMP `date` column.
    real = real.drop(columns="date").rename(columns={"month": "date"})
    real["date"] = pd.to_datetime(real["date"])
    real_first = _month_index(real["date"].iloc[0].date())
    real_last = _month_index(real["date"].iloc[-1].date())
    first, last = _month_index(_GPR_FIRST_MONTH), _month_index(last_month)
    n_before, n_after = real_first - first, max(0, last - real_last)

    # Log-GPR follows an AR(1) around ~115, walking outward from the real block's edges.
    def walk(start: float, shocks: np.ndarray) -> np.ndarray:
        out, level = np.empty(shocks.size), math.log(start)
        for j, shock in enumerate(shocks):
            level = math.log(115.0) + 0.75 * (level - math.log(115.0)) + 0.15 * shock
            out[j] = level
        return np.round(np.clip(np.exp(out), 60.0, 400.0), 2)

    gpr = real["gpr"].to_numpy()
    before = walk(gpr[0], _rng(seed, "gpr", "back").standard_normal(n_before))[::-1]
    after = walk(gpr[-1], _rng(seed, "gpr", "forward").standard_normal(n_after))

    # Other numeric columns follow gpr through a log-log least-squares fit on the real months,
    # plus their residual noise; the offset keeps the all-but-zero country shares defined.
    numeric = [
        c
        for c in real.columns
        if c not in ("date", "gpr", *_GPR_ENRICHED) and pd.api.types.is_numeric_dtype(real[c])
    ]
    offset = 0.01
    design = np.column_stack([np.ones(gpr.size), np.log(gpr)])
    targets = real[numeric].to_numpy(dtype=float)
    log_targets = np.log(targets + offset)
    coef, *_ = np.linalg.lstsq(design, log_targets, rcond=None)
    resid_sd = (log_targets - design @ coef).std(axis=0)
    counts = (targets == np.round(targets)).all(axis=0)  # article counts stay whole numbers

    def synthetic(levels: np.ndarray, direction: str) -> pd.DataFrame:
        noise = _rng(seed, "gpr-columns", direction).standard_normal((levels.size, len(numeric)))
        fitted = np.column_stack([np.ones(levels.size), np.log(levels)]) @ coef
        values = np.maximum(np.exp(fitted + noise * resid_sd) - offset, 0.0)
        values = np.where(counts, np.round(values), np.round(values, 2))
        return pd.DataFrame({"gpr": levels, **dict(zip(numeric, values.T, strict=True))})

    parts = [synthetic(before, "back"), real, synthetic(after, "forward")]
    frame = pd.concat(parts, ignore_index=True)
    frame = frame.assign(
        date=pd.to_datetime([_month_start(m) for m in range(first, first + len(frame))]),
        is_synthetic=np.repeat([True, False, True], [n_before, len(real), n_after]),
    )
    frame = frame.astype(real.dtypes.to_dict())[[*real.columns, "is_synthetic"]].copy()

    levels = frame["gpr"].to_numpy()
    synthetic_rows = frame["is_synthetic"].to_numpy()
    prior = np.r_[np.nan, levels[:-1]]
    year_ago = np.r_[np.full(12, np.nan), levels[:-12]][: levels.size]
    # Percentile of each month among the file's months up to and including it.
    upto = np.tril(np.ones((levels.size, levels.size), dtype=bool))
    at_or_below = (levels[None, :] <= levels[:, None]) & upto
    enriched = {
        "gpr_mom_pct": 100.0 * (levels / prior - 1.0),
        "gpr_yoy_pct": 100.0 * (levels / year_ago - 1.0),
        "gpr_3m_ma": pd.Series(levels).rolling(3).mean().to_numpy(),
        "gpr_percentile": 100.0 * at_or_below.sum(axis=1) / upto.sum(axis=1),
    }
    for column, values in enriched.items():
        frame.loc[synthetic_rows, column] = np.round(values, 2)[synthetic_rows]
    return frame[frame["date"] <= pd.Timestamp(last_month)].reset_index(drop=True)


def _gpr_table(frame: pd.DataFrame) -> pa.Table:
    def arrow_type(column: str) -> pa.DataType:
        if column == "date":
            return pa.timestamp("us")
        if pd.api.types.is_string_dtype(frame[column]):
            return pa.string()
        return pa.from_numpy_dtype(frame[column].dtype)

    schema = pa.schema([(c, arrow_type(c)) for c in frame.columns])
    return pa.Table.from_pandas(frame, schema=schema, preserve_index=False)


# --- writing ---------------------------------------------------------------------------------


def _write_atomic(table: pa.Table, path: Path, metadata: dict[str, str]) -> int:
    """Write Parquet to a hidden temp file beside ``path``, then rename it over ``path``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    # Hidden, so `*.parquet` globs skip it; a plain open keeps the umask's permissions.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        pq.write_table(table.replace_schema_metadata(metadata), tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path.stat().st_size


def _validate(seed: int, tickers: Sequence[str], end_date: date) -> tuple[str, ...]:
    """Check the arguments ``trading_days_ending`` does not; return the tickers as a tuple."""
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    if isinstance(tickers, str):
        raise ValueError(f"tickers must be a sequence of symbols, not the string {tickers!r}")
    symbols = tuple(tickers)
    if not symbols:
        raise ValueError("tickers is empty: give at least one symbol, e.g. ('SPY',)")
    for symbol in symbols:
        if not isinstance(symbol, str) or not _SYMBOL_RE.fullmatch(symbol):
            raise ValueError(
                f"ticker {symbol!r} is not an upper-case alphanumeric symbol of 1-6 characters"
            )
    if len(set(symbols)) != len(symbols):
        raise ValueError(f"tickers has duplicates: {symbols}")
    if type(end_date) is not date or end_date < _GPR_FIRST_MONTH:
        raise ValueError(f"end_date must be a date on or after 2020-01-01, got {end_date!r}")
    return symbols


def generate_lake(
    root: Location,
    days: int,
    seed: int = 7,
    tickers: Sequence[str] = DEFAULT_TICKERS,
    end_date: date = DEFAULT_END_DATE,
    state_path: Location | None = None,
    progress: bool = True,
) -> LakeSummary:
    """Write a synthetic demo lake of the last ``days`` NYSE sessions up to ``end_date``.

    Writes one options file per ticker and session, one macro file per session and the GPR file
    (2020-01 to ``end_date``'s month), each atomically; files of other dates are left alone.
    When ``state_path`` is given, the freshness keys of docs/lake.md are merged into it.
    """
    started = time.perf_counter()
    symbols = _validate(seed, tickers, end_date)
    if is_remote(root):
        raise ValueError(
            f"the demo lake is written to local disk, not {root}: generate it in a folder "
            "(lake generate --root DIR) and copy that folder to the bucket"
        )
    root = Path(root)
    trading_days = trading_days_ending(end_date, days)

    # The market paths must reach the anchor day, the first lake day's month opening (strike
    # increments) and two sessions before that day (macro rows report a session's change).
    history = _sessions(
        min(trading_days[0].replace(day=1), _ANCHOR_DAY) - timedelta(days=10),
        max(trading_days[-1], _ANCHOR_DAY),
    )
    anchor = next(i for i, d in enumerate(history) if d >= _ANCHOR_DAY)
    month_open = next(i for i, d in enumerate(history) if d >= trading_days[0].replace(day=1))
    start = min(history.index(trading_days[0]) - 2, month_open, anchor)
    macro_sources = {source for *_, source, _ in _DAILY_MACRO.values()}
    market = _build_market(seed, history[start:], sorted(set(symbols) | macro_sources))
    session_set = frozenset(_sessions(trading_days[0], trading_days[-1] + timedelta(days=380)))

    metadata = {
        "silver_assets.synthetic": "true",
        "silver_assets.generator": "silver-assets demo lake",
        "silver_assets.seed": str(seed),
    }
    option_rows = bytes_written = 0
    for day in tqdm(
        trading_days, desc="demo lake", unit="day", disable=not progress, file=sys.stderr
    ):
        iso = day.isoformat()
        expiries, monthly = _expirations(day, session_set)
        for ticker in symbols:
            table = _option_table(seed, ticker, day, market, expiries, monthly)
            option_rows += table.num_rows
            path = root / "options" / iso / f"{ticker}_options_{iso}.parquet"
            bytes_written += _write_atomic(table, path, metadata)
        path = root / "macro" / iso / f"macro_snapshot_{iso}.parquet"
        bytes_written += _write_atomic(_macro_table(day, market), path, metadata)

    last_month = end_date.replace(day=1)
    gpr = _gpr_frame(seed, last_month)
    gpr_metadata = {
        **metadata,
        "silver_assets.synthetic": "mixed",
        "silver_assets.real_rows": "2024-05..2026-04 are real published GPR figures "
        "(Caldara & Iacoviello); rows with is_synthetic=true are synthetic",
    }
    gpr_path = root / "gpr" / "gpr_monthly_enriched.parquet"
    bytes_written += _write_atomic(_gpr_table(gpr), gpr_path, gpr_metadata)

    if state_path is not None:
        last = trading_days[-1].isoformat()
        write_state(
            state_path,
            {
                "options_daily": last,
                "macro_trading_daily": last,
                "gpr_monthly": last_month.strftime("%Y-%m"),
            },
        )
    return LakeSummary(
        root=root,
        trading_days=trading_days,
        tickers=symbols,
        option_files=len(trading_days) * len(symbols),
        option_rows=option_rows,
        macro_files=len(trading_days),
        gpr_rows=len(gpr),
        bytes_written=bytes_written,
        seconds=time.perf_counter() - started,
    )
