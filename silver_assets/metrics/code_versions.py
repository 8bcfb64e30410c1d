"""Code versions of the metric assets: a digest of the code that computes each one.

Dagster marks a partition stale when its asset's code version differs from the one it was
materialized with, so a change to a family's SQL flags exactly that family's snapshots for a
rerun. The family builders (values and anchors) run at query time and are not part of it.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable

from silver_assets.metrics import compute, liquidity, sql

# The code each asset's snapshot rows depend on; the daily scan assets add their own query.
_SHARED_DAILY: tuple[Callable[..., object], ...] = (sql.prepare, sql.load_chains, sql.daily_tables)
_FAMILY_CODE: dict[str, tuple[Callable[..., object], ...]] = {
    "put_call_ratio": (sql.latest_as_of, compute.option_family),
    "options_analysis": (
        sql.iv_rank_as_of,
        sql.latest_as_of,
        sql.join_rank_and_skew,
        compute.option_family,
    ),
    "liquidity_analysis": (
        sql.latest_as_of,
        compute.option_family,
        liquidity.market_impact_risk,
    ),
    "pricing_spread": (sql.latest_as_of, compute.option_family),
    "macro_analysis": (sql.macro_as_of, compute.macro_family),
    "geopolitical_analysis": (sql.gpr_as_of, compute.gpr_family),
}


def code_version(asset: str) -> str | None:
    """A 12-character digest of the code behind ``asset``; None for assets not computed here."""
    if asset in sql.DAILY_QUERIES:
        # Each daily asset is cut from the one shared aggregation of the chains.
        parts = [inspect.getsource(f) for f in _SHARED_DAILY]
        parts += [sql.DAILY_INPUTS_SQL, sql.DAILY_QUERIES[asset]]
    elif asset in _FAMILY_CODE:
        parts = [inspect.getsource(f) for f in (sql.prepare, *_FAMILY_CODE[asset])]
    else:
        return None
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:12]
