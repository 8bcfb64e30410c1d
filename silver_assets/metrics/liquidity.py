"""Market-impact risk of the liquidity family, from the tier policy kept in ``config/``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

POLICY_FILE = "liquidity_policy.json"


@dataclass(frozen=True)
class Thresholds:
    low_spread: float
    low_count: int
    medium_spread: float
    medium_count: int


@dataclass(frozen=True)
class LiquidityPolicy:
    tiers: dict[str, frozenset[str]]
    thresholds: dict[str, Thresholds]

    def tier_of(self, ticker: str) -> str | None:
        return next((tier for tier, members in self.tiers.items() if ticker in members), None)


def load_policy(config_dir: Path) -> LiquidityPolicy:
    """Read ``config/liquidity_policy.json``; raise ``ValueError`` naming what is wrong."""
    path = Path(config_dir) / POLICY_FILE
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        tiers = {name: frozenset(members) for name, members in raw["tiers"].items()}
        thresholds = {name: Thresholds(**values) for name, values in raw["thresholds"].items()}
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"liquidity policy {path} is unusable: {exc}") from exc
    missing = set(tiers) - set(thresholds)
    if missing:
        raise ValueError(f"liquidity policy {path} has no thresholds for {sorted(missing)}")
    return LiquidityPolicy(tiers, thresholds)


def market_impact_risk(
    ticker: str, avg_spread_pct: Any, liquid_contracts: Any, policy: LiquidityPolicy
) -> str:
    """Low / Medium / High from the liquid contracts' average spread (pp) and their count.

    Unknown when the ticker is in no tier or an input is missing (None or NaN).
    """
    tier = policy.tier_of(ticker)
    missing = [v for v in (avg_spread_pct, liquid_contracts) if v is None or v != v]
    if tier is None or missing:
        return "Unknown"
    limits = policy.thresholds[tier]
    if avg_spread_pct <= limits.low_spread and liquid_contracts >= limits.low_count:
        return "Low"
    if avg_spread_pct <= limits.medium_spread and liquid_contracts >= limits.medium_count:
        return "Medium"
    return "High"
