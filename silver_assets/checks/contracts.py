"""Contract validation of the Silver datasets (SPEC §2), without Dagster.

Three layers, in the order a reader would fail: the files exist (``NO_FILES``), each footer is
readable (``READ_FAILED`` names the file), the required columns are there (``MISSING_COLUMNS``
names them), then pandera schemas check types and unit contracts on the rows. Options files in
the older 18-column layout pass with a warning that names them and what they lack.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pandera.pandas as pa
import pyarrow.parquet as pq

from silver_assets.lake.layout import NEWER_OPTIONS_COLUMNS, OPTIONS_SCHEMA

# SPEC §1's required options columns: the writer's layout less the two it may leave out.
OPTIONAL_OPTIONS_COLUMNS = frozenset({"in_the_money", "moneyness_ratio"})
OPTIONS_REQUIRED = tuple(n for n in OPTIONS_SCHEMA.names if n not in OPTIONAL_OPTIONS_COLUMNS)
MACRO_REQUIRED = ("observation_date", "symbol", "value", "daily_change_pct", "mom_change_pct")
GPR_REQUIRED = ("date", "gpr", "gpr_percentile", "gpr_mom_pct")

SAMPLE_ROWS = 5
# Percentage-point columns of a real chain always hold values above 1 (far-from-the-money spreads
# and moneyness); a column whose every value is <= 1 was written as fractions.
MIN_ROWS_FOR_UNIT_HEURISTIC = 20


@dataclass
class ContractReport:
    """Outcome of one dataset's contract validation."""

    dataset: str
    status: str = "OK"
    files_checked: int = 0
    rows_checked: int = 0
    failure_count: int = 0
    failure_samples: list[dict[str, Any]] = field(default_factory=list)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "OK" and self.failure_count == 0


def _float_column(name: str, *checks: pa.Check) -> pa.Column:
    return pa.Column(float, list(checks), nullable=True, coerce=True, required=False, name=name)


def _fractions_not_pp(column: str) -> pa.Check:
    def check(frame: pd.DataFrame) -> bool:
        values = frame[column].dropna().abs() if column in frame else pd.Series(dtype=float)
        return len(values) < MIN_ROWS_FOR_UNIT_HEURISTIC or bool(values.max() > 1.0)

    return pa.Check(check, name=f"{column}_is_percentage_points_not_fractions")


def _close(left: pd.Series, right: pd.Series) -> pd.Series:
    both = left.notna() & right.notna()
    return ~both | ((left - right).abs() <= 1e-6 + 1e-6 * right.abs())


def _options_schema() -> pa.DataFrameSchema:
    def pp_matches_ratio(pp: str, ratio: str) -> pa.Check:
        def check(frame: pd.DataFrame) -> pd.Series:
            if ratio not in frame:
                return pd.Series(True, index=frame.index)
            return _close(frame[pp], 100.0 * frame[ratio])

        return pa.Check(check, name=f"{pp}_equals_100x_{ratio}")

    def moneyness_matches_strike(frame: pd.DataFrame) -> pd.Series:
        expected = 100.0 * (frame["strike"] / frame["underlying_price"] - 1.0).abs()
        return ~(expected.notna() & frame["moneyness_pct"].notna()) | (
            (frame["moneyness_pct"] - expected).abs() <= 0.01 + 1e-4 * expected
        )

    def bid_le_ask(frame: pd.DataFrame) -> pd.Series:
        both = frame["bid"].notna() & frame["ask"].notna()
        return ~both | (frame["bid"] <= frame["ask"])

    return pa.DataFrameSchema(
        {
            "snapshot_date": pa.Column("datetime64[ns]", nullable=False, coerce=True),
            "expiration": pa.Column("datetime64[ns]", nullable=False, coerce=True),
            "option_type": pa.Column(str, pa.Check.isin(["call", "put"]), nullable=False),
            "symbol": pa.Column(str, nullable=False),
            "dte": pa.Column(float, pa.Check.ge(0), nullable=True, coerce=True),
            "strike": _float_column("strike", pa.Check.gt(0)),
            "underlying_price": _float_column("underlying_price", pa.Check.gt(0)),
            "bid": _float_column("bid", pa.Check.ge(0)),
            "ask": _float_column("ask", pa.Check.ge(0)),
            "volume": _float_column("volume", pa.Check.ge(0)),
            "open_interest": _float_column("open_interest", pa.Check.ge(0)),
            "implied_volatility": _float_column(
                "implied_volatility",
                pa.Check.in_range(0, 5, error="implied_volatility must be a fraction (0.18 = 18%)"),
            ),
            "moneyness_pct": _float_column("moneyness_pct", pa.Check.ge(0)),
            "spread_pct": _float_column("spread_pct", pa.Check.ge(0)),
            "spread_ratio": _float_column("spread_ratio", pa.Check.ge(0)),
            "moneyness_ratio": _float_column("moneyness_ratio", pa.Check.ge(0)),
        },
        checks=[
            pa.Check(bid_le_ask, name="bid_le_ask"),
            pa.Check(moneyness_matches_strike, name="moneyness_pct_is_100x_abs_strike_over_spot"),
            pp_matches_ratio("spread_pct", "spread_ratio"),
            pp_matches_ratio("moneyness_pct", "moneyness_ratio"),
            _fractions_not_pp("spread_pct"),
            _fractions_not_pp("moneyness_pct"),
        ],
        strict=False,
    )


def _macro_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "observation_date": pa.Column("datetime64[ns]", nullable=False, coerce=True),
            "symbol": pa.Column(str, nullable=False),
            "value": _float_column("value"),
            "daily_change_pct": _float_column("daily_change_pct", pa.Check.in_range(-100, 1000)),
            "mom_change_pct": _float_column("mom_change_pct", pa.Check.in_range(-100, 1000)),
        },
        strict=False,
    )


def _gpr_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "date": pa.Column("datetime64[ns]", nullable=False, coerce=True),
            "gpr": _float_column("gpr", pa.Check.ge(0)),
            "gpr_percentile": _float_column("gpr_percentile", pa.Check.in_range(0, 100)),
            "gpr_mom_pct": _float_column("gpr_mom_pct", pa.Check.ge(-100)),
        },
        checks=[_fractions_not_pp("gpr_percentile")],
        strict=False,
    )


DATASETS: dict[str, tuple[tuple[str, ...], Any]] = {
    "options": (OPTIONS_REQUIRED, _options_schema),
    "macro": (MACRO_REQUIRED, _macro_schema),
    "gpr": (GPR_REQUIRED, _gpr_schema),
}


def _read_frame(paths: Sequence[Path], columns: Sequence[str]) -> pd.DataFrame:
    # Column names come from our own contract, never from user input; paths are bound.
    quoted = ", ".join(f'"{c}"' for c in columns) or "*"
    with duckdb.connect() as con:
        return con.execute(
            f"SELECT {quoted} FROM read_parquet(?, union_by_name = true)",
            [[str(p) for p in paths]],
        ).df()


def validate(
    dataset: str, paths: Sequence[Path], row_paths: Sequence[Path] | None = None
) -> ContractReport:
    """Validate ``paths`` of ``dataset`` ('options', 'macro' or 'gpr') against its contract.

    Footers and columns are checked for every file; rows are validated for ``row_paths`` (by
    default all of ``paths``).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    required, schema_factory = DATASETS[dataset]
    report = ContractReport(dataset=dataset, files_checked=len(paths))
    if not paths:
        report.status = "NO_FILES"
        report.message = f"no {dataset} files found"
        return report

    readable: list[Path] = []
    present: set[str] = set()
    for path in paths:
        try:
            names = set(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for corrupt footers
            report.unreadable[str(path)] = f"{type(exc).__name__}: {exc}"
            continue
        missing = [c for c in required if c not in names]
        # The older layout lacks all four newer columns; losing only some of them is damage.
        legacy = dataset == "options" and not names & NEWER_OPTIONS_COLUMNS
        if missing and legacy and set(missing) <= NEWER_OPTIONS_COLUMNS:
            lacks = ", ".join(sorted(NEWER_OPTIONS_COLUMNS))
            report.warnings.append(f"{path.name} uses the older 18-column layout; lacks {lacks}")
        elif missing:
            report.missing_columns[str(path)] = missing
        readable.append(path)
        present |= names

    if report.unreadable:
        report.status = "READ_FAILED"
        report.message = "unreadable Parquet: " + "; ".join(
            f"{Path(p).name} ({why})" for p, why in report.unreadable.items()
        )
        return report
    if report.missing_columns:
        report.status = "MISSING_COLUMNS"
        columns = sorted({c for cols in report.missing_columns.values() for c in cols})
        names = ", ".join(Path(p).name for p in report.missing_columns)
        report.message = f"missing required columns {', '.join(columns)} in {names}"
        return report

    wanted = set(map(str, paths if row_paths is None else row_paths))
    row_files = [p for p in readable if str(p) in wanted]
    if row_files:
        columns = sorted(present & (set(required) | {"moneyness_ratio"}))
        try:
            frame = _read_frame(row_files, columns)
        except duckdb.Error:
            # The footer was fine but a data page is not: find and name the file(s).
            report.unreadable = unreadable_files(row_files, columns)
            report.status = "READ_FAILED"
            report.message = "unreadable Parquet rows: " + "; ".join(
                f"{Path(p).name} ({why})" for p, why in report.unreadable.items()
            )
            return report
        report.rows_checked = len(frame)
        try:
            schema_factory().validate(frame, lazy=True)
        except pa.errors.SchemaErrors as errors:
            # A row-wise DataFrame check is reported once per column: count each row once.
            cases = errors.failure_cases.drop_duplicates(subset=["check", "index"])
            report.status = "CONTRACT_FAILED"
            report.failure_count = len(cases)
            report.failure_samples = _samples(cases, frame)
            per_check = cases.groupby("check", dropna=False).size().sort_index()
            report.message = f"{report.failure_count} contract failures: " + ", ".join(
                f"{check} ({count})" for check, count in per_check.items()
            )
            return report
    report.message = f"{report.files_checked} files, {report.rows_checked} rows valid"
    if report.warnings:
        report.message += f"; {len(report.warnings)} warnings"
    return report


def unreadable_files(paths: Sequence[Path], columns: Sequence[str] = ()) -> dict[str, str]:
    """``{path: error}`` for each file whose rows cannot be read (one read per file)."""
    broken = {}
    for path in paths:
        try:
            _read_frame([path], columns)
        except duckdb.Error as exc:
            broken[str(path)] = f"{type(exc).__name__}: {exc}"
    return broken or {", ".join(map(str, paths)): "rows unreadable together"}


def _samples(cases: pd.DataFrame, frame: pd.DataFrame) -> list[dict[str, Any]]:
    samples = []
    for case in cases.head(SAMPLE_ROWS).to_dict("records"):
        sample = {"check": str(case.get("check"))}
        if case.get("schema_context") == "Column":
            sample |= {"column": case.get("column"), "value": case.get("failure_case")}
        index = case.get("index")
        if index is not None and not pd.isna(index) and index in frame.index:
            row = frame.loc[index]
            # The failing row itself, so a person can find it in the file.
            sample |= {key: row[key] for key in row.index}
        samples.append({k: _jsonable(v) for k, v in sample.items()})
    return samples


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if pd.isna(value) else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
