"""The column layouts of the Silver datasets as real writers produce them (docs/lake.md)."""

import pyarrow as pa

OPTIONS_SCHEMA = pa.schema(
    [
        ("snapshot_date", pa.string()),
        ("symbol", pa.string()),
        ("contract_symbol", pa.string()),
        ("option_type", pa.string()),
        ("strike", pa.float64()),
        ("expiration", pa.string()),
        ("dte", pa.int64()),
        ("underlying_price", pa.float64()),
        ("bid", pa.float64()),
        ("ask", pa.float64()),
        ("last_price", pa.float64()),
        ("volume", pa.int64()),
        ("open_interest", pa.int64()),
        ("implied_volatility", pa.float64()),
        ("in_the_money", pa.bool_()),
        ("moneyness_pct", pa.float64()),
        ("moneyness_ratio", pa.float64()),
        ("spread_ratio", pa.float64()),
        ("spread_pct", pa.float64()),
        ("is_liquid_basic", pa.bool_()),
        ("is_liquid", pa.bool_()),
        ("is_executable_liquid", pa.bool_()),
    ]
)

MACRO_SCHEMA = pa.schema(
    [
        ("retrieval_date", pa.date32()),
        ("observation_date", pa.date32()),
        ("symbol", pa.string()),
        ("name", pa.string()),
        ("asset_class", pa.string()),
        ("value", pa.float64()),
        ("unit", pa.string()),
        ("frequency", pa.string()),
        ("daily_change_pct", pa.float64()),
        ("mom_change_pct", pa.float64()),
        ("yoy_change_pct", pa.float64()),
    ]
)

# Older options files have 18 columns: these four came later.
NEWER_OPTIONS_COLUMNS = frozenset(
    {"moneyness_ratio", "spread_ratio", "is_liquid_basic", "is_executable_liquid"}
)
LEGACY_OPTIONS_SCHEMA = pa.schema(
    [field for field in OPTIONS_SCHEMA if field.name not in NEWER_OPTIONS_COLUMNS]
)
