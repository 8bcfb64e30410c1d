"""Contract validation of the Silver datasets (docs/contracts.md), without Dagster.

Three layers, in the order a reader would fail: the files exist (``NO_FILES``), each footer is
readable (``READ_FAILED`` names the file), the required columns are there (``MISSING_COLUMNS``
names them), then pandera schemas check every row: types, unit contracts, one row per key, and
liquid implied-volatility coverage per ticker-day. Options files in the older 18-column layout
pass with a warning that names them and what they lack.

The schemas use pandera's polars backend and are the one definition of the rules. Rows are read
with DuckDB (by column name, so both layouts load together, and cast to the schema's types
there) a few dates at a time, each row tagged with its file so a failure names it. Each chunk is
first screened in one DuckDB pass compiled from the schema (``screen``); only a chunk where a
rule fails crosses into polars for pandera, whose failure cases make the report. A unit
heuristic looks at one file at a time, so a single file written in the wrong unit is caught
among good ones.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import duckdb
import pandera.polars as pa
import polars as pl
import pyarrow.parquet as pq
import pyarrow.types as pa_types

from silver_assets import storage
from silver_assets.lake.layout import NEWER_OPTIONS_COLUMNS, OPTIONS_SCHEMA
from silver_assets.metrics import sql

# docs/lake.md's required options columns: the writer's layout less the two it may leave out.
OPTIONAL_OPTIONS_COLUMNS = frozenset({"in_the_money", "moneyness_ratio"})
OPTIONS_REQUIRED = tuple(n for n in OPTIONS_SCHEMA.names if n not in OPTIONAL_OPTIONS_COLUMNS)
MACRO_REQUIRED = ("observation_date", "symbol", "value", "daily_change_pct", "mom_change_pct")
GPR_REQUIRED = ("date", "gpr", "gpr_percentile", "gpr_mom_pct")
# Validated when present; a macro file without retrieval_date takes its folder's date.
OPTIONAL_COLUMNS = {"options": ("moneyness_ratio",), "macro": ("retrieval_date",), "gpr": ()}
# The key each row is unique by (GPR: one row per month, a rule of its own).
ROW_KEYS = {
    "options": ("snapshot_date", "symbol", "contract_symbol"),
    "macro": ("symbol", "observation_date", "retrieval_date"),
}
FILE_COLUMN = "source_file"
# The screen's groups: one file's rows; options: of one date and ticker (the unit of its rules).
SCREEN_GROUPS = {"options": ("snapshot_date", "symbol"), "macro": (), "gpr": ()}
GROUP_ROWS = "rows_of_group"

SAMPLE_ROWS = 5
FILES_NAMED = 3
# Percentage-point columns of a real chain always hold values above 1 (far-from-the-money spreads
# and moneyness); a file whose every value is <= 1 was written as fractions.
MIN_ROWS_FOR_UNIT_HEURISTIC = 20
# A ticker-day whose liquid contracts lack implied volatility this often is worth a warning; when
# all of them lack it, the day has no ATM IV or skew and the contract fails.
IV_MISSING_WARN_SHARE = 0.5
# Rows read and validated at once: bounds memory (about 1.3 KB a row while pandera checks it)
# whatever the number of tickers or days.
ROW_CHUNK_ROWS = 250_000
# Chunks screened at once: one DuckDB query alone keeps about one core busy (its chunk is
# small), and the chunks are independent. Each holds one chunk's columns in memory.
SCREEN_WORKERS = 2


@dataclass
class ContractReport:
    """Outcome of one dataset's contract validation."""

    dataset: str
    status: str = "OK"
    files_checked: int = 0
    rows_checked: int = 0
    failure_count: int = 0
    failure_samples: list[dict[str, Any]] = field(default_factory=list)
    failures_by_rule: dict[str, dict[str, int]] = field(default_factory=dict)
    missing_columns: dict[str, list[str]] = field(default_factory=dict)
    unreadable: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    message: str = ""

    @property
    def passed(self) -> bool:
        return self.status == "OK" and self.failure_count == 0


# ------------------------------------------------------------------------------------- rules


def _float_column(*checks: pa.Check) -> pa.Column:
    return pa.Column(pl.Float64, list(checks), nullable=True, required=False)


@dataclass(frozen=True)
class ScreenForm:
    """A frame rule's form in the one-pass DuckDB screen (see ``screen``).

    ``aggregates`` name SQL aggregates over one group's rows (a group: the rows of one file and,
    for options, one date and ticker); ``failing`` turns the groups' aggregates into the rule's
    failing rows per group. A uniqueness rule instead gives ``distinct_keys``: SQL values that
    must be unique over the whole chunk. ``reads`` names the columns it needs beyond the
    schema's own.
    """

    aggregates: Mapping[str, str] = field(default_factory=dict)
    failing: pl.Expr | None = None
    distinct_keys: tuple[str, ...] = ()
    reads: tuple[str, ...] = ()


# A rule's screen form, given the columns the chunk has (a rule may need an optional one).
ScreenFormFactory = Callable[[frozenset[str]], ScreenForm]
SCREEN_FORM = "screen_form"  # where a pandera check keeps its factory, in its statistics


def _frame_check(name: str, expression: pl.Expr, screen_form: ScreenFormFactory) -> pa.Check:
    """A row-wise rule: ``expression`` is true for every row that keeps the contract."""
    return pa.Check(
        lambda data: data.lazyframe.select(expression),
        name=name,
        statistics={SCREEN_FORM: screen_form},
    )


def _count_where(condition: str) -> str:
    """The SQL aggregate counting a group's rows where ``condition`` holds (as a BIGINT)."""
    # A sum of 0/1 is cheaper in DuckDB than count(*) FILTER or count_if; a null adds nothing.
    return f"CAST(sum(CAST({condition} AS INTEGER)) AS BIGINT)"


def _row_rule(name: str, breaks: str) -> ScreenFormFactory:
    """The screen form of a row-wise rule whose SQL ``breaks`` is true where a row breaks it.

    A missing operand makes ``breaks`` null, which counts as keeping the rule, as in pandera's
    form; leaving out the ``IS NULL`` branches makes the screen's expressions cheaper.
    """
    return lambda _: ScreenForm({name: _count_where(breaks)}, pl.col(name))


def _unique(keys: Sequence[str]) -> pa.Check:
    quoted = tuple(f'"{key}"' for key in keys)
    return _frame_check(
        f"one_row_per_{'_'.join(keys)}",
        ~pl.struct(keys).is_duplicated(),
        lambda _: ScreenForm(distinct_keys=quoted),
    )


def _close(left: str, right: pl.Expr) -> pl.Expr:
    value = pl.col(left)
    return value.is_null() | right.is_null() | ((value - right).abs() <= 1e-6 + 1e-6 * right.abs())


def _pp_matches_ratio(pp: str, ratio: str) -> pa.Check:
    name = f"{pp}_equals_100x_{ratio}"

    def screen_form(columns: frozenset[str]) -> ScreenForm:
        expected = f"100.0 * {ratio}"
        apart = f"abs({pp} - {expected}) > 1e-6 + 1e-6 * abs({expected})"
        return _row_rule(name, apart if ratio in columns else "false")(columns)

    return pa.Check(
        lambda data: data.lazyframe.select(
            _close(pp, 100.0 * pl.col(ratio))
            if ratio in data.lazyframe.collect_schema()
            else pl.lit(True)
        ),
        name=name,
        statistics={SCREEN_FORM: screen_form},
    )


def _percentage_points_per_file(column: str) -> pa.Check:
    """Fails every row of a file whose ``column`` values are all <= 1 (fractions, not pp)."""
    values = pl.col(column).abs()
    per_file = values.max().over(FILE_COLUMN), values.count().over(FILE_COLUMN)
    largest, counted = f"{column}_largest", f"{column}_values"
    fractions = (pl.col(counted).sum().over(FILE_COLUMN) >= MIN_ROWS_FOR_UNIT_HEURISTIC) & (
        pl.col(largest).max().over(FILE_COLUMN) <= 1.0
    )
    return _frame_check(
        f"{column}_is_percentage_points_not_fractions",
        (per_file[1] < MIN_ROWS_FOR_UNIT_HEURISTIC) | (per_file[0] > 1.0),
        lambda _: ScreenForm(
            {largest: f"max(abs({column}))", counted: f"count({column})"},
            pl.when(fractions).then(pl.col(GROUP_ROWS)).otherwise(0),
        ),
    )


def liquid_iv_missing_share() -> pl.Expr:
    """Share of a group's liquid contracts without implied volatility (NaN when none is liquid)."""
    liquid = pl.col("is_liquid").fill_null(False)
    return (liquid & pl.col("implied_volatility").is_null()).sum() / liquid.sum()


# The screen's per-group counts behind the liquid IV rule and the IV coverage warnings.
LIQUID, LIQUID_IV_MISSING = "liquid", "liquid_iv_missing"


def _liquid_iv_screen(_: frozenset[str]) -> ScreenForm:
    liquid = "coalesce(is_liquid, false)"
    day = ("snapshot_date", "symbol")
    missing, total = (pl.col(c).sum().over(day) for c in (LIQUID_IV_MISSING, LIQUID))
    return ScreenForm(
        {
            LIQUID: _count_where(liquid),
            LIQUID_IV_MISSING: _count_where(f"{liquid} AND implied_volatility IS NULL"),
        },
        pl.when((total > 0) & (missing == total)).then(pl.col(LIQUID)).otherwise(0),
        reads=("is_liquid",),
    )


EXPECTED_MONEYNESS_SQL = "100.0 * abs(strike / underlying_price - 1.0)"


def _options_schema() -> pa.DataFrameSchema:
    moneyness = pl.col("moneyness_pct")
    expected_moneyness = 100.0 * (pl.col("strike") / pl.col("underlying_price") - 1.0).abs()
    all_liquid_iv_missing = liquid_iv_missing_share().over("snapshot_date", "symbol") == 1.0
    return pa.DataFrameSchema(
        {
            "snapshot_date": pa.Column(pl.Date, nullable=False),
            "expiration": pa.Column(pl.Date, nullable=False),
            "option_type": pa.Column(str, pa.Check.isin(["call", "put"]), nullable=False),
            "symbol": pa.Column(str, nullable=False),
            "contract_symbol": pa.Column(str, nullable=False),
            "dte": _float_column(pa.Check.ge(0)),
            "strike": _float_column(pa.Check.gt(0)),
            "underlying_price": _float_column(pa.Check.gt(0)),
            "bid": _float_column(pa.Check.ge(0)),
            "ask": _float_column(pa.Check.ge(0)),
            "volume": _float_column(pa.Check.ge(0)),
            "open_interest": _float_column(pa.Check.ge(0)),
            "implied_volatility": _float_column(
                pa.Check.in_range(0, 5, error="implied_volatility must be a fraction (0.18 = 18%)"),
            ),
            "moneyness_pct": _float_column(pa.Check.ge(0)),
            "spread_pct": _float_column(pa.Check.ge(0)),
            "spread_ratio": _float_column(pa.Check.ge(0)),
            "moneyness_ratio": _float_column(pa.Check.ge(0)),
        },
        checks=[
            _unique(ROW_KEYS["options"]),
            _frame_check(
                "bid_le_ask",
                pl.col("bid").is_null()
                | pl.col("ask").is_null()
                | (pl.col("bid") <= pl.col("ask")),
                _row_rule("bid_le_ask", "bid > ask"),
            ),
            _frame_check(
                "moneyness_pct_is_100x_abs_strike_over_spot",
                moneyness.is_null()
                | expected_moneyness.is_null()
                | ((moneyness - expected_moneyness).abs() <= 0.01 + 1e-4 * expected_moneyness),
                _row_rule(
                    "moneyness_pct_is_100x_abs_strike_over_spot",
                    f"abs(moneyness_pct - {EXPECTED_MONEYNESS_SQL}) "
                    f"> 0.01 + 1e-4 * {EXPECTED_MONEYNESS_SQL}",
                ),
            ),
            _pp_matches_ratio("spread_pct", "spread_ratio"),
            _pp_matches_ratio("moneyness_pct", "moneyness_ratio"),
            _percentage_points_per_file("spread_pct"),
            _percentage_points_per_file("moneyness_pct"),
            _frame_check(
                "liquid_implied_volatility_not_all_missing",
                ~(pl.col("is_liquid").fill_null(False) & all_liquid_iv_missing.fill_null(False)),
                _liquid_iv_screen,
            ),
        ],
        strict=False,
    )


def _macro_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "observation_date": pa.Column(pl.Date, nullable=False),
            "retrieval_date": pa.Column(pl.Date, nullable=False),
            "symbol": pa.Column(str, nullable=False),
            "value": _float_column(),
            "daily_change_pct": _float_column(pa.Check.in_range(-100, 1000)),
            "mom_change_pct": _float_column(pa.Check.in_range(-100, 1000)),
        },
        checks=[_unique(ROW_KEYS["macro"])],
        strict=False,
    )


def _gpr_schema() -> pa.DataFrameSchema:
    return pa.DataFrameSchema(
        {
            "date": pa.Column(pl.Date, nullable=False),
            "gpr": _float_column(pa.Check.ge(0)),
            "gpr_percentile": _float_column(pa.Check.in_range(0, 100)),
            "gpr_mom_pct": _float_column(pa.Check.ge(-100)),
        },
        checks=[
            _frame_check(
                "one_row_per_month",
                ~pl.col("date").dt.truncate("1mo").is_duplicated(),
                lambda _: ScreenForm(distinct_keys=("date_trunc('month', \"date\")",)),
            ),
            _percentage_points_per_file("gpr_percentile"),
        ],
        strict=False,
    )


DATASETS: dict[str, tuple[tuple[str, ...], Any]] = {
    "options": (OPTIONS_REQUIRED, _options_schema),
    "macro": (MACRO_REQUIRED, _macro_schema),
    "gpr": (GPR_REQUIRED, _gpr_schema),
}


# ------------------------------------------------------------------------------------ reading


# How the reading query casts a column to its schema type. A value that does not parse (a date
# string that is no date) becomes null, which the schema's ``nullable=False`` then reports.
SQL_CASTS = {
    pl.Date: "TRY_CAST({} AS DATE)",
    pl.Float64: "nn({})",  # a NaN counts as missing, in the rules as in the metrics
    pl.String: "CAST({} AS VARCHAR)",
}


def _select_list(
    dataset: str, schema: pa.DataFrameSchema, columns: Sequence[str], file: str = "filename"
) -> str:
    """The reading query's columns, cast to the schema's types (casting in DuckDB is fast).

    ``file`` tags each row with its file: its name, or ``file_index`` (its place in the list
    read), which is cheaper to carry and group by.
    """
    selected = []
    for name in columns:
        quoted = '"' + name + '"'  # names come from our own contract, never from user input
        column = schema.columns.get(name)
        cast = SQL_CASTS[column.dtype.type] if column is not None else "{}"
        if not (dataset == "macro" and name == "retrieval_date"):
            selected.append(f"{cast.format(quoted)} AS {quoted}")
    if dataset == "macro":
        # Older macro files lack retrieval_date: the folder's date stands in (as in the metrics).
        stored = "TRY_CAST(retrieval_date AS DATE)" if "retrieval_date" in columns else "NULL"
        selected.append(f"coalesce({stored}, {sql.MACRO_FILE_DATE}) AS retrieval_date")
    return ", ".join([*selected, f"{file} AS {FILE_COLUMN}"])


def _read_frame(
    dataset: str, schema: pa.DataFrameSchema, paths: Sequence[Path], columns: Sequence[str]
) -> pl.DataFrame:
    """The rows of ``paths`` as a polars frame of the schema's types, each row with its file."""
    with duckdb.connect() as con:
        table = (
            sql.prepare(con)
            .sql(
                f"SELECT {_select_list(dataset, schema, columns)} "
                "FROM read_parquet($paths, union_by_name = true, filename = true)",
                params={"paths": storage.duckdb_paths(con, paths)},
            )
            .to_arrow_table()
        )
    # A Table (never an Array) converts to a DataFrame; pyarrow's missing types hide that.
    return cast(pl.DataFrame, pl.from_arrow(table, rechunk=False))


def _chunks(paths: Sequence[Path], rows: Mapping[Path, int], max_rows: int) -> Iterator[list[Path]]:
    """``paths`` in groups of at most ``max_rows`` rows (or one file, if larger).

    A group holds whole dates where they fit. A date over the budget alone is split between its
    files: each file is one ticker's chain of that date, so every rule still sees whole
    (date, ticker) groups, the unit of the uniqueness and coverage rules.
    """
    folders: dict[Path, list[Path]] = {}
    for path in paths:
        folders.setdefault(path.parent, []).append(path)
    chunk: list[Path] = []
    chunk_rows = 0
    for group in folders.values():
        group_rows = sum(rows[path] for path in group)
        units = [group] if group_rows <= max_rows else [[path] for path in group]
        for unit in units:
            unit_rows = sum(rows[path] for path in unit)
            if chunk and chunk_rows + unit_rows > max_rows:
                yield chunk
                chunk, chunk_rows = [], 0
            chunk += unit
            chunk_rows += unit_rows
    if chunk:
        yield chunk


def unreadable_files(
    paths: Sequence[storage.Location], columns: Sequence[str] = ()
) -> dict[str, str]:
    """``{path: error}`` for each file whose rows cannot be read (one read per file)."""
    broken = {}
    for path in paths:
        try:
            with duckdb.connect() as con:
                quoted = ", ".join(f'"{c}"' for c in columns) or "*"
                read = storage.duckdb_paths(con, [path])
                con.execute(f"SELECT {quoted} FROM read_parquet(?)", read).fetchall()
        except duckdb.Error as exc:
            broken[str(path)] = f"{type(exc).__name__}: {exc}"
    return broken or {", ".join(map(str, paths)): "rows unreadable together"}


# ------------------------------------------------------------------------------------ screen
#
# pandera validating rows in polars costs several times a scan: the rows must first cross from
# DuckDB into Python. So each chunk is first screened by one DuckDB aggregate that counts, per
# file, the rows failing each rule of the schema; only a chunk where some rule fails is read and
# validated by pandera, whose failure cases then make the report. The screen is compiled from the
# schema itself: pandera's built-in column checks from their statistics, its frame checks from the
# screen form each keeps beside its polars expression (tests hold the two forms to agreement).


def _sql_literal(value: Any) -> str:
    return "'" + value.replace("'", "''") + "'" if isinstance(value, str) else repr(value)


# pandera's built-in checks as SQL on a column ``c``; a null passes, as pandera ignores it.
BUILTIN_SQL: dict[str, Callable[[str, Mapping[str, Any]], str]] = {
    "greater_than": lambda c, s: f"{c} > {s['min_value']!r}",
    "greater_than_or_equal_to": lambda c, s: f"{c} >= {s['min_value']!r}",
    "less_than": lambda c, s: f"{c} < {s['max_value']!r}",
    "less_than_or_equal_to": lambda c, s: f"{c} <= {s['max_value']!r}",
    "in_range": lambda c, s: (
        f"{c} {'>=' if s['include_min'] else '>'} {s['min_value']!r} AND "
        f"{c} {'<=' if s['include_max'] else '<'} {s['max_value']!r}"
    ),
    "isin": lambda c, s: f"{c} IN ({', '.join(map(_sql_literal, s['allowed_values']))})",
}


def _not_null_alias(column: str) -> str:
    return f"{column} not_nullable"


def _check_alias(column: str, check: pa.Check) -> str:
    return f"{column} {check.error}"


# The bounds a built-in check puts on a column's (min, max), for a proof from statistics.
BUILTIN_BOUNDS: dict[str, Callable[[Any, Any, Mapping[str, Any]], bool]] = {
    "greater_than": lambda low, _, s: low > s["min_value"],
    "greater_than_or_equal_to": lambda low, _, s: low >= s["min_value"],
    "less_than": lambda _, high, s: high < s["max_value"],
    "less_than_or_equal_to": lambda _, high, s: high <= s["max_value"],
    "in_range": lambda low, high, s: (
        (low >= s["min_value"] if s["include_min"] else low > s["min_value"])
        and (high <= s["max_value"] if s["include_max"] else high < s["max_value"])
    ),
}
# Stored types the read does not change: a null count from the footer is then the column's.
UNCAST_TYPES: dict[Any, Callable[[pa_types.DataType], bool]] = {
    pl.Date: pa_types.is_date32,
    pl.String: lambda kind: pa_types.is_string(kind) or pa_types.is_large_string(kind),
}


@dataclass(frozen=True)
class ColumnProof:
    """What a column's footer statistics can prove: its not-null rule (by alias, when the
    schema has one) and its bound rules (alias, bound test, the check's statistics)."""

    name: str
    dtype: Any
    not_null: str | None
    bounds: tuple[tuple[str, Callable[[Any, Any, Mapping[str, Any]], bool], Any], ...]


def _provable_number(kind: Any) -> bool:
    # pyarrow hands float16 statistics over as raw bytes, so only these types are compared.
    return bool(pa_types.is_float32(kind) or pa_types.is_float64(kind) or pa_types.is_integer(kind))


def column_proofs(schema: pa.DataFrameSchema) -> list[ColumnProof]:
    """The column rules of ``schema`` that footer statistics may prove (:func:`proven_rules`)."""
    proofs = []
    for name, column in schema.columns.items():
        bounds = tuple(
            (_check_alias(name, check), BUILTIN_BOUNDS[check.name], check.statistics)
            for check in column.checks
            if check.name in BUILTIN_BOUNDS
        )
        not_null = None if column.nullable else _not_null_alias(name)
        if bounds or not_null:
            proofs.append(ColumnProof(name, column.dtype.type, not_null, bounds))
    return proofs


def proven_rules(footer: pq.FileMetaData, proofs: Sequence[ColumnProof]) -> frozenset[str]:
    """The column rules of ``proofs`` (by screen alias) that every row of the file keeps,
    proven by the min, max and null count its writer stored for every row group.

    Bounds are proven on float32, float64 and integer columns only, which the read only widens
    to DOUBLE; Parquet leaves NaN out of min and max, and the read turns NaN into null, which
    passes. A row group without statistics proves nothing, so its rules stay in the screen.
    """
    stored = footer.schema.to_arrow_schema()
    fields, types = stored.names, stored.types
    leaves = {name: index for index, name in enumerate(footer.schema.names)}
    groups = [footer.row_group(group) for group in range(footer.num_row_groups)]
    proven = set()
    for proof in proofs:
        index = leaves.get(proof.name)
        # Leaves and fields line up in a flat file; where they do not, this proves nothing.
        if index is None or index >= len(fields) or fields[index] != proof.name:
            continue
        statistics = [group.column(index).statistics for group in groups]
        if not statistics or any(s is None or not s.has_null_count for s in statistics):
            continue
        kind = types[index]
        uncast = UNCAST_TYPES.get(proof.dtype, lambda _: False)(kind)
        if proof.not_null and uncast and all(s.null_count == 0 for s in statistics):
            proven.add(proof.not_null)
        if proof.bounds and _provable_number(kind):
            ranges = [(s.min, s.max) for s in statistics if s.has_min_max]
            if len(ranges) == len(statistics) and all(
                isinstance(bound, int | float) for pair in ranges for bound in pair
            ):
                proven.update(
                    alias
                    for alias, bound, limits in proof.bounds
                    if all(bound(low, high, limits) for low, high in ranges)
                )
    return frozenset(proven)


@dataclass(frozen=True)
class ScreenRule:
    """One rule of a schema in the screen: the name pandera reports it by, and its form."""

    check: str
    form: ScreenForm


def screen_rules(
    schema: pa.DataFrameSchema, columns: frozenset[str], proven: frozenset[str] = frozenset()
) -> list[ScreenRule]:
    """Every rule of ``schema`` that applies to a chunk with ``columns``, in its screen form,
    but the column rules ``proven`` for every row by the chunk's footers (:func:`proven_rules`).

    The read casts every column to its schema type, so pandera's dtype checks hold by
    construction; everything else the schema says must have a form here, or this fails.
    """
    rules = []
    for name, column in schema.columns.items():
        if name not in columns:  # an optional column no file of the chunk has
            continue
        if column.unique:
            raise ValueError(f"the screen has no form for the unique flag of column {name!r}")
        quoted = f'"{name}"'
        if not column.nullable and _not_null_alias(name) not in proven:
            alias = _not_null_alias(name)
            form = ScreenForm({alias: _count_where(f"{quoted} IS NULL")}, pl.col(alias))
            rules.append(ScreenRule("not_nullable", form))
        for check in column.checks:
            to_sql = BUILTIN_SQL.get(check.name)
            if to_sql is None:
                raise ValueError(f"the screen has no form for check {check.name!r} of {name!r}")
            alias = _check_alias(name, check)
            if alias in proven:
                continue
            ok = to_sql(quoted, check.statistics)
            form = ScreenForm({alias: _count_where(f"NOT ({ok})")}, pl.col(alias))
            rules.append(ScreenRule(str(check.error), form))
    for check in schema.checks:
        factory = (check.statistics or {}).get(SCREEN_FORM)
        if factory is None:
            raise ValueError(f"the screen has no form for frame check {check.name!r}")
        rules.append(ScreenRule(str(check.name), factory(columns)))
    return rules


@dataclass
class Screen:
    """One chunk screened: its rows, its groups' aggregates and the failing rows per rule.

    ``failing`` maps (rule, file name) to failing rows; a uniqueness rule names no file ("")
    and counts the rows beyond the first of each key.
    """

    rows: int
    groups: pl.DataFrame
    failing: Counter[tuple[str, str]]


def screen(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    schema: pa.DataFrameSchema,
    paths: Sequence[Path],
    columns: Sequence[str],
    proven: frozenset[str] = frozenset(),
) -> Screen:
    """Count the rows of ``paths`` failing each rule of ``schema``, in one pass of DuckDB,
    but the column rules ``proven`` by the footers of all of them."""
    present = frozenset(columns) | ({"retrieval_date"} if dataset == "macro" else set())
    rules = screen_rules(schema, present, proven)
    aggregates = {alias: sql for rule in rules for alias, sql in rule.form.aggregates.items()}
    keys = [FILE_COLUMN, *SCREEN_GROUPS[dataset]]
    # Only what a rule reads: the required columns no rule checks need not be decoded.
    read = {*schema.columns, *(column for rule in rules for column in rule.form.reads)}
    columns = [column for column in columns if column in read]
    unique_rules = [rule for rule in rules if rule.form.distinct_keys]
    # Distinct 64-bit hashes of each key: a collision can only raise a false alarm, which
    # pandera's validation of the chunk then clears, so the screen never misses a duplicate.
    duplicates = [
        f"count(*) - count(DISTINCT hash({', '.join(rule.form.distinct_keys)})) AS dup{i}"
        for i, rule in enumerate(unique_rules)
    ]
    # One statement, so the files are decoded once (the chunk is small) for both aggregates;
    # ``no_key`` keeps the per-chunk select list valid for a schema without a uniqueness rule.
    selected = _select_list(dataset, schema, columns, file="file_index")
    query = (
        f"WITH chunk AS MATERIALIZED (SELECT {selected} "
        "FROM read_parquet($paths, union_by_name = true, filename = true)), "
        f"per_group AS (SELECT {', '.join(keys)}, count(*) AS {GROUP_ROWS}, "
        + ", ".join(f'{sql} AS "{alias}"' for alias, sql in aggregates.items())
        + " FROM chunk GROUP BY ALL), "
        f"per_chunk AS (SELECT {', '.join(['0 AS no_key', *duplicates])} FROM chunk) "
        "SELECT * FROM per_group, per_chunk"
    )
    params = {"paths": storage.duckdb_paths(con, paths)}
    groups = cast(pl.DataFrame, pl.from_arrow(con.sql(query, params=params).to_arrow_table()))
    names = pl.Series(FILE_COLUMN, [str(path) for path in paths])
    groups = groups.with_columns(names.gather(groups[FILE_COLUMN]))
    row_rules = [rule for rule in rules if rule.form.failing is not None]
    per_file = (
        groups.select(
            FILE_COLUMN,
            *(cast(pl.Expr, r.form.failing).alias(str(i)) for i, r in enumerate(row_rules)),
        )
        .group_by(FILE_COLUMN)
        .sum()
    )
    failing: Counter[tuple[str, str]] = Counter()
    for row in per_file.iter_rows(named=True):
        for i, rule in enumerate(row_rules):
            if row[str(i)]:
                failing[(rule.check, Path(row[FILE_COLUMN]).name)] += row[str(i)]
    for i, rule in enumerate(unique_rules):
        if len(groups) and groups[f"dup{i}"][0]:
            failing[(rule.check, "")] += int(groups[f"dup{i}"][0])
    return Screen(int(groups[GROUP_ROWS].sum()), groups, failing)


@contextmanager
def _screens(
    dataset: str,
    schema: pa.DataFrameSchema,
    chunks: Sequence[Sequence[Path]],
    columns: Sequence[str],
    proofs: Mapping[Path, frozenset[str]],
) -> Iterator[list[Future[Screen] | None]]:
    """Each chunk's screen, run by :data:`SCREEN_WORKERS` threads with a DuckDB connection
    each; the chunks not yet started when the caller leaves are dropped."""
    database = duckdb.connect()
    local = threading.local()

    def screen_chunk(chunk: Sequence[Path]) -> Screen:
        if not hasattr(local, "con"):
            local.con = sql.prepare(database.cursor())
        proven = frozenset[str].intersection(*(proofs[path] for path in chunk))
        return screen(local.con, dataset, schema, chunk, columns, proven)

    workers = ThreadPoolExecutor(SCREEN_WORKERS, thread_name_prefix="contract-screen")
    try:
        yield [workers.submit(screen_chunk, chunk) for chunk in chunks]
    finally:
        workers.shutdown(wait=True, cancel_futures=True)
        database.close()


# --------------------------------------------------------------------------------- validation


def validate(dataset: str, paths: Sequence[Path], screened: bool = True) -> ContractReport:
    """Validate every file and every row of ``paths`` of ``dataset`` ('options', 'macro', 'gpr').

    ``screened=False`` skips the DuckDB screen: pandera validates every chunk in polars (the
    slower reference the screen is measured and tested against).
    """
    if dataset not in DATASETS:
        raise ValueError(f"unknown dataset {dataset!r}; expected one of {sorted(DATASETS)}")
    required, schema_factory = DATASETS[dataset]
    report = ContractReport(dataset=dataset, files_checked=len(paths))
    if not paths:
        report.status = "NO_FILES"
        report.message = f"no {dataset} files found"
        return report

    schema = schema_factory()
    column_rules = column_proofs(schema)
    present: set[str] = set()
    rows: dict[Path, int] = {}
    proofs: dict[Path, frozenset[str]] = {}
    for path in paths:
        try:
            footer = storage.read_metadata(path)
            names = set(footer.schema.to_arrow_schema().names)
            rows[path] = footer.num_rows
        except Exception as exc:  # pyarrow raises several types for corrupt footers
            report.unreadable[str(path)] = f"{type(exc).__name__}: {exc}"
            continue
        proofs[path] = proven_rules(footer, column_rules) if screened else frozenset()
        missing = [c for c in required if c not in names]
        # The older layout lacks all four newer columns; losing only some of them is damage.
        legacy = dataset == "options" and not names & NEWER_OPTIONS_COLUMNS
        if missing and legacy and set(missing) <= NEWER_OPTIONS_COLUMNS:
            lacks = ", ".join(sorted(NEWER_OPTIONS_COLUMNS))
            report.warnings.append(f"{path.name} uses the older 18-column layout; lacks {lacks}")
        elif missing:
            report.missing_columns[str(path)] = missing
        present |= names

    if report.unreadable:
        return _read_failed(report, "unreadable Parquet")
    if report.missing_columns:
        report.status = "MISSING_COLUMNS"
        columns = sorted({c for cols in report.missing_columns.values() for c in cols})
        damaged = ", ".join(Path(p).name for p in report.missing_columns)
        report.message = f"missing required columns {', '.join(columns)} in {damaged}"
        return report

    columns = sorted(present & (set(required) | set(OPTIONAL_COLUMNS[dataset])))
    counts: Counter[tuple[str, str]] = Counter()
    chunks = list(_chunks(paths, rows, ROW_CHUNK_ROWS))
    unscreened: list[Future[Screen] | None] = [None] * len(chunks)
    with (
        _screens(dataset, schema, chunks, columns, proofs)
        if screened
        else nullcontext(unscreened) as screens
    ):
        for chunk, screening in zip(chunks, screens, strict=True):
            try:
                found = screening.result() if screening else None
                # Only where a rule fails are the rows read, for pandera to name every failure.
                read = found is None or bool(found.failing)
                frame = _read_frame(dataset, schema, chunk, columns) if read else None
            except duckdb.Error:
                # The footer was fine but a data page is not: find and name the file(s).
                report.unreadable = unreadable_files(chunk, columns)
                return _read_failed(report, "unreadable Parquet rows")
            if frame is not None:
                try:
                    schema.validate(frame, lazy=True)
                except pa.errors.SchemaErrors as errors:
                    _record_failures(report, counts, errors.failure_cases, frame)
            if found is None:
                frame = cast(pl.DataFrame, frame)
                report.rows_checked += len(frame)
            else:
                report.rows_checked += found.rows
            if dataset == "options":
                groups = liquid_counts(cast(pl.DataFrame, frame)) if found is None else found.groups
                report.warnings += iv_coverage_warnings(groups)

    if counts:
        report.status = "CONTRACT_FAILED"
        report.failure_count = sum(counts.values())
        for (check, name), count in sorted(counts.items()):
            report.failures_by_rule.setdefault(check, {})[name] = count
        report.message = f"{report.failure_count} contract failures: " + "; ".join(
            f"{check} ({sum(by_file.values())} rows in {_named(by_file)})"
            for check, by_file in report.failures_by_rule.items()
        )
        return report
    report.message = ok_message(report)
    return report


def ok_message(report: ContractReport) -> str:
    """The summary of a report that passed: files, rows, and how many warnings."""
    message = f"{report.files_checked} files, {report.rows_checked} rows valid"
    return message + (f"; {len(report.warnings)} warnings" if report.warnings else "")


def _read_failed(report: ContractReport, what: str) -> ContractReport:
    report.status = "READ_FAILED"
    report.message = f"{what}: " + "; ".join(
        f"{Path(p).name} ({why})" for p, why in report.unreadable.items()
    )
    return report


def _named(by_file: dict[str, int]) -> str:
    names = sorted(by_file, key=lambda name: (-by_file[name], name))
    more = f" and {len(names) - FILES_NAMED} more files" if len(names) > FILES_NAMED else ""
    return ", ".join(names[:FILES_NAMED]) + more


def _record_failures(
    report: ContractReport,
    counts: Counter[tuple[str, str]],
    cases: pl.DataFrame,
    frame: pl.DataFrame,
) -> None:
    """Count each failing row once per rule and file; keep the first few rows as samples."""
    cases = cases.unique(subset=["check", "index"], keep="first", maintain_order=True)
    for case in cases.iter_rows(named=True):
        index = case.get("index")
        row = frame.row(index, named=True) if index is not None else {}
        name = Path(row[FILE_COLUMN]).name if row else "(whole column)"
        counts[(str(case["check"]), name)] += 1
        if len(report.failure_samples) >= SAMPLE_ROWS:
            continue
        sample: dict[str, Any] = {"check": str(case["check"]), "file": name}
        if case.get("schema_context") == "Column":
            sample |= {"column": case.get("column"), "value": _parsed(case.get("failure_case"))}
        # The failing row itself, so a person can find it in the file.
        sample |= {k: v for k, v in row.items() if k != FILE_COLUMN}
        report.failure_samples.append({k: _jsonable(v) for k, v in sample.items()})


def liquid_counts(frame: pl.DataFrame) -> pl.DataFrame:
    """The screen's liquid IV counts per file, date and ticker, from the rows themselves."""
    liquid = pl.col("is_liquid").fill_null(False)
    return frame.group_by("snapshot_date", "symbol", FILE_COLUMN).agg(
        liquid.sum().cast(pl.Int64).alias(LIQUID),
        (liquid & pl.col("implied_volatility").is_null())
        .sum()
        .cast(pl.Int64)
        .alias(LIQUID_IV_MISSING),
    )


def iv_coverage_warnings(groups: pl.DataFrame) -> list[str]:
    """One warning per ticker-day whose liquid contracts often (not always) lack an IV.

    ``groups`` are the screen's groups: liquid contracts, and those without IV, per file,
    date and ticker.
    """
    shares = (
        groups.group_by("snapshot_date", "symbol", FILE_COLUMN)
        .agg(pl.col(LIQUID).sum(), pl.col(LIQUID_IV_MISSING).sum())
        .with_columns(share=pl.col(LIQUID_IV_MISSING) / pl.col(LIQUID))
        .filter((pl.col("share") >= IV_MISSING_WARN_SHARE) & (pl.col("share") < 1.0))
        .sort("snapshot_date", "symbol")
    )
    return [
        f"{Path(row[FILE_COLUMN]).name}: {row['share']:.0%} of {row[LIQUID]} liquid contracts "
        "have no implied_volatility"
        for row in shares.iter_rows(named=True)
    ]


def vanished_tickers(files_by_day: Mapping[Any, Sequence[Path]]) -> list[str]:
    """A warning per date that lost option tickers the lake date before it had (by file name)."""
    warnings = []
    previous: set[str] | None = None
    for day in sorted(files_by_day):
        symbols = {path.name.split("_options_")[0] for path in files_by_day[day]}
        if previous is not None and previous - symbols:
            gone = ", ".join(sorted(previous - symbols))
            warnings.append(f"{day}: tickers vanished since the date before: {gone}")
        previous = symbols
    return warnings


def _parsed(value: Any) -> Any:
    try:
        return float(value)
    except (TypeError, ValueError):
        return value


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return None if value != value else value
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)
