"""The ``silver-assets`` command line: demo lake, materializations, queries, the demo, the bench.

argparse (not click/typer) because the documented flags take several values after one flag:
``--tickers SPY QQQ`` and ``--days 21 63 252``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

from silver_assets.registry import DATASET_NAMES, anchor_key
from silver_assets.settings import PROJECT_ROOT, Settings

DATASETS = DATASET_NAMES
SAMPLE_REQUEST = {
    "tickers": ["SPY", "QQQ"],
    "metrics": ["Put/Call Ratio", "IV Skew", "Options Liquidity", "Price", "GPR Index"],
    "time_window": "past_week",
}


class CliError(Exception):
    """A user error: printed as one line, exit code 2."""


def _date(value: str) -> date:
    """A date argument, read as a request's dates are: ``YYYY-MM-DD`` only (``20260430``,
    which Python's ``date.fromisoformat`` takes too, is refused rather than guessed at)."""
    from silver_assets.query.models import parse_date

    try:
        day = parse_date(value, "the date")
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    assert day is not None, "a string is never None"
    return day


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except ValueError as exc:
        raise CliError(str(exc)) from exc


def _instance():
    import dagster as dg
    from filelock import FileLock

    os.environ.setdefault("DAGSTER_HOME", str(PROJECT_ROOT / "dagster_home"))
    home = Path(os.environ["DAGSTER_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # Opening a new instance creates and stamps its SQLite databases; two commands doing that at
    # once can leave two alembic_version rows and an instance nobody can open again.
    with FileLock(home / ".instance.lock"):
        return dg.DagsterInstance.get()


# ------------------------------------------------------------------------------- lake generate


def cmd_lake_generate(args: argparse.Namespace) -> int:
    from silver_assets.lake import generator

    settings = _settings()
    options: dict[str, Any] = {}
    if args.tickers:
        options["tickers"] = tuple(args.tickers)
    if args.end_date:
        options["end_date"] = args.end_date
    try:
        summary = generator.generate_lake(
            args.root or settings.lake_root,
            days=args.days,
            seed=args.seed,
            state_path=args.state_path or settings.state_path,
            progress=not args.no_progress,
            **options,
        )
    except ValueError as exc:
        raise CliError(str(exc)) from exc
    print(
        f"SYNTHETIC demo lake at {summary.root}: {len(summary.trading_days)} trading days "
        f"{summary.trading_days[0]}..{summary.trading_days[-1]}, {summary.option_files} option "
        f"files, {summary.option_rows:,} contracts, {summary.bytes_written / 1e6:.1f} MB, "
        f"{summary.seconds:.1f}s"
    )
    return 0


# --------------------------------------------------------------------------------- materialize


def partition_keys_for(
    dataset: str,
    settings: Settings,
    anchor: date | None = None,
    start: date | None = None,
    end: date | None = None,
    history: bool = False,
) -> list[str]:
    """The anchors a ``materialize`` call targets for one dataset.

    Raises ``MissingLakeData`` when the lake holds nothing for the anchor.
    """
    from silver_assets.partitions import MissingLakeData, anchor_keys, lake_dates

    try:
        if start is not None and end is not None:
            lo = anchor_key(dataset, start)
            keys = [d.isoformat() for d in lake_dates(dataset, settings) if lo <= d <= end]
            if not keys:
                raise CliError(f"the lake has no {dataset} dates between {start} and {end}")
        else:
            keys = anchor_keys(dataset, settings, history=history, anchor=anchor)
    except MissingLakeData:
        raise
    except ValueError as exc:  # an unreadable lake file, named by the error
        raise CliError(str(exc)) from exc
    return keys


def materialize_datasets(
    datasets: Sequence[str],
    anchor: date | None = None,
    start: date | None = None,
    end: date | None = None,
    history: bool = False,
    workers: int = 1,
) -> bool:
    """Run each dataset's job over its anchors (in ``workers`` ranged runs at once); print
    progress; True when all succeed.

    A dataset whose anchor the lake has no data for fails without running (nothing is
    written); the other datasets still run.
    """
    from silver_assets.anchors import resolve_anchor
    from silver_assets.audit import AuditLog
    from silver_assets.automation.runs import fail_orphaned_runs
    from silver_assets.automation.workers import run_in_workers
    from silver_assets.definitions import build_defs
    from silver_assets.partitions import MissingLakeData

    settings = _settings()
    defs = build_defs(settings)
    instance = _instance()
    orphaned = fail_orphaned_runs(instance)
    if orphaned:
        print(
            f"marked {len(orphaned)} run(s) of killed commands failed: {', '.join(orphaned)}",
            file=sys.stderr,
            flush=True,
        )
    ok = True
    for dataset in datasets:
        if anchor is None and start is None:
            state = resolve_anchor(dataset, settings.state_path)
            if state.is_fallback:
                print(f"[{dataset}] warning: {state.fallback_reason}", file=sys.stderr, flush=True)
                AuditLog(settings.audit_root).write(
                    "ANCHOR_FALLBACK", dataset=dataset, reason=state.fallback_reason
                )
        try:
            keys = partition_keys_for(dataset, settings, anchor, start, end, history)
        except MissingLakeData as exc:
            print(f"[{dataset}] FAILED: {exc}; nothing written", file=sys.stderr, flush=True)
            ok = False
            continue
        began = time.perf_counter()
        print(f"[{dataset}] materializing {len(keys)} anchor(s) {keys[0]}..{keys[-1]}", flush=True)
        try:
            run = run_in_workers(
                defs, instance, dataset, keys, workers, lambda line: print(line, flush=True)
            )
        except ValueError as exc:  # anchors another run is writing, or an unreadable file
            raise CliError(str(exc)) from exc
        checks = f"; failed checks: {', '.join(run.failed_checks)}" if run.failed_checks else ""
        print(
            f"[{dataset}] {'ok' if run.success else 'FAILED'} in "
            f"{time.perf_counter() - began:.1f}s (runs {', '.join(run.run_ids)}){checks}",
            flush=True,
        )
        ok &= run.success
    return ok


def run_standing_answers() -> bool:
    """Materialize ``standing_answers`` from the current snapshots; True on success."""
    from silver_assets.automation.runs import INFO_LOGS
    from silver_assets.definitions import build_defs
    from silver_assets.query.assets import standing_answers_job

    job = build_defs(_settings()).resolve_job_def(standing_answers_job.name)
    result = job.execute_in_process(
        instance=_instance(), raise_on_error=False, run_config=INFO_LOGS
    )
    print(f"[standing_answers] {'ok' if result.success else 'FAILED'} (run {result.run_id})")
    return result.success


def cmd_materialize(args: argparse.Namespace) -> int:
    if bool(args.from_) != bool(args.to):
        raise CliError("--from and --to go together")
    if args.from_ and args.from_ > args.to:
        raise CliError(f"--from {args.from_} is after --to {args.to}")
    if args.workers < 1:
        raise CliError(f"--workers must be at least 1, got {args.workers}")
    ok = materialize_datasets(
        args.dataset or DATASETS,
        args.anchor,
        args.from_,
        args.to,
        history=args.all,
        workers=args.workers,
    )
    return 0 if ok else 1


# ------------------------------------------------------------------------------------- query


def _read_text(source: str, what: str) -> str:
    """The UTF-8 text of file ``source`` (``-``: standard input), the ``what`` of a command."""
    try:
        raw = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
    except OSError as exc:
        raise CliError(f"cannot read {what} {source}: {exc}") from exc
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CliError(f"{what} {source} is not UTF-8 text: {exc}") from exc


def _read_json(source: str, what: str) -> Any:
    """The JSON document of file ``source``: clear errors for unreadable, non-UTF-8, invalid or
    pathologically nested input."""
    text = _read_text(source, what)
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise CliError(f"{what} {source} is not valid JSON: {exc}") from exc
    except RecursionError:
        raise CliError(f"{what} {source} is nested too deeply to be a {what}") from None


# Keys of a request file that wraps the MetadataExtraction under "request".
_ENVELOPE_KEYS = frozenset({"request", "time_predicates"})


def _request_parts(body: object) -> tuple[Any, Any]:
    """(request, time predicates) of a request file: a MetadataExtraction (which may hold
    ``as_of``), or ``{"request": ..., "time_predicates": ...}``. Both are still unchecked JSON:
    the query validates them."""
    if isinstance(body, dict) and "request" in body:
        unknown = sorted(set(body) - _ENVELOPE_KEYS)
        if unknown:
            raise CliError(
                f"unknown key(s) {', '.join(map(repr, unknown))} beside 'request'; "
                f"expected {', '.join(sorted(_ENVELOPE_KEYS))}"
            )
        return body["request"], body.get("time_predicates")
    return body, None


def cmd_query(args: argparse.Namespace) -> int:
    from silver_assets import InvalidRequest, SilverQueryResource

    if args.request:
        if args.tickers or args.metrics:
            raise CliError("use either --request or --tickers/--metrics")
        request, predicates = _request_parts(_read_json(args.request, "request"))
    else:
        if not args.metrics:
            raise CliError("give --metrics (and --tickers), or --request FILE")
        request = {"tickers": args.tickers or [], "metrics": args.metrics}
        if args.time_window:
            request["time_window"] = args.time_window
        predicates = None
    try:
        payload = SilverQueryResource().query(request, predicates, as_of=args.as_of)
    except InvalidRequest as exc:
        raise CliError(str(exc)) from exc
    print(json.dumps(payload, indent=2))
    return 0


def cmd_metrics(args: argparse.Namespace) -> int:
    from silver_assets.query.catalogue import catalogue_markdown, list_metrics

    print(json.dumps(list_metrics(), indent=2) if args.json else catalogue_markdown())
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from silver_assets.query.claims import InvalidContext, TextTooLong, verify_claims

    context = _read_json(args.context, "context") if args.context else None
    try:
        result = verify_claims(_read_text(args.text, "text"), _settings(), context)
    except TextTooLong as exc:
        raise CliError(str(exc)) from exc
    except InvalidContext as exc:
        raise CliError(f"{args.context}: {exc}") from exc
    print(json.dumps(result, indent=2))
    # Like a linter: a pipeline can gate on the draft without reading the JSON.
    return 0 if result["all_verified"] else 1


def cmd_mcp(args: argparse.Namespace) -> int:
    from silver_assets.query.mcp_server import RefusedToServe, serve_http, serve_stdio

    if not args.http:
        serve_stdio()
        return 0
    try:
        serve_http(args.host, args.port)
    except RefusedToServe as exc:
        raise CliError(str(exc)) from exc
    return 0


# -------------------------------------------------------------------------------------- demo


def cmd_demo(args: argparse.Namespace) -> int:
    """Build the demo lake, materialize everything, answer a sample query."""
    from silver_assets import SilverQueryResource
    from silver_assets.lake import generator

    settings = _settings()
    print(f"1/3 generating a SYNTHETIC {args.days}-day demo lake in {settings.lake_root}")
    summary = generator.generate_lake(
        settings.lake_root, days=args.days, seed=args.seed, state_path=settings.state_path
    )
    print(
        f"    {summary.option_files} option files, {summary.option_rows:,} contracts, "
        f"{summary.bytes_written / 1e6:.1f} MB in {summary.seconds:.1f}s"
    )
    print(
        f"2/3 materializing every anchor, then the standing answers, into {settings.snapshot_root}"
    )
    if not materialize_datasets(DATASETS, history=True):
        print("materialization failed; see the run logs above", file=sys.stderr)
        return 1
    # Without a daemon, nothing else freezes the standing answers for this demo.
    if not run_standing_answers():
        print("standing_answers failed; see the run logs above", file=sys.stderr)
        return 1
    print(f"3/3 sample query: {json.dumps(SAMPLE_REQUEST)}")
    payload = SilverQueryResource().query(SAMPLE_REQUEST)
    shown = {k: payload[k] for k in ("values", "lineage_anchors", "status", "latency_ms")}
    print(json.dumps(shown, indent=2, default=str))
    first = next(iter(payload["citation_contract"].items()), None)
    if first:
        print(f"citation_contract[{first[0]!r}] = {json.dumps(first[1], default=str)}")
    return 0


# ------------------------------------------------------------------------------------- bench


def cmd_bench(args: argparse.Namespace) -> int:
    from silver_assets.benchmark import run_benchmark

    if any(days < 2 for days in args.days):
        raise CliError("--days values must be at least 2 (one anchor to backfill, one to add)")
    run_benchmark(
        args.days,
        tickers=tuple(args.tickers),
        seed=args.seed,
        repeat=args.repeat,
        lakes_root=args.lakes_root,
        json_path=args.json,
        agent_calls=args.agent_calls,
    )
    return 0


def cmd_bench_scale(args: argparse.Namespace) -> int:
    from silver_assets.benchmark import run_scale_benchmark

    if any(count < 1 for count in args.tickers_count):
        raise CliError("--tickers-count values must be at least 1")
    if args.days < 2:
        raise CliError("--days must be at least 2 (one anchor to backfill, one to add)")
    run_scale_benchmark(
        args.tickers_count,
        args.days,
        seed=args.seed,
        lakes_root=args.lakes_root,
        json_path=args.json,
    )
    return 0


# -------------------------------------------------------------------------------------- main


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="silver-assets",
        description="Dagster snapshots of Silver option, macro and GPR metrics, cited for agents.",
    )
    commands = parser.add_subparsers(dest="command", required=True)

    lake = commands.add_parser("lake", help="build a demo Silver lake")
    lake_commands = lake.add_subparsers(dest="lake_command", required=True)
    gen = lake_commands.add_parser("generate", help="generate a SYNTHETIC demo lake")
    gen.add_argument("--root", type=Path, help="lake root (default SILVER_LAKE_ROOT)")
    gen.add_argument("--days", type=int, default=21, help="trading days (default 21)")
    gen.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    gen.add_argument("--tickers", nargs="+", help="tickers (default SPY QQQ IWM GLD SLV)")
    gen.add_argument("--end-date", type=_date, help="last day (default 2026-04-30)")
    gen.add_argument("--state-path", type=Path, help="state file (default SILVER_STATE_PATH)")
    gen.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    gen.set_defaults(func=cmd_lake_generate)

    mat = commands.add_parser("materialize", help="materialize snapshots in DAGSTER_HOME")
    which = mat.add_mutually_exclusive_group()
    which.add_argument("--anchor", type=_date, help="one anchor date")
    which.add_argument("--from", dest="from_", type=_date, help="first anchor date (with --to)")
    which.add_argument("--all", action="store_true", help="every lake date up to the anchors")
    mat.add_argument("--to", type=_date, help="last anchor date (with --from)")
    mat.add_argument("--dataset", nargs="+", choices=DATASETS, help="only these datasets")
    mat.add_argument(
        "--workers", type=int, default=1, help="ranged runs at once, one process each (default 1)"
    )
    mat.set_defaults(func=cmd_materialize)

    query = commands.add_parser(
        "query",
        help="answer a MetadataExtraction as JSON",
        description="Answer a MetadataExtraction from the snapshots. Metric names: "
        "`silver-assets metrics` lists every name and alias.",
    )
    query.add_argument("--tickers", nargs="+", help="tickers, e.g. SPY QQQ (none for GPR only)")
    query.add_argument("--metrics", nargs="+", help='metric names, e.g. "Put/Call Ratio"')
    query.add_argument("--time-window", help="today, yesterday, past_week, past_month, ...")
    query.add_argument("--as-of", type=_date, help="answer as of this past date")
    query.add_argument("--request", help="a MetadataExtraction JSON file, or - for stdin")
    query.set_defaults(func=cmd_query)

    verify = commands.add_parser(
        "verify",
        help="check the cited numbers of a drafted answer against the snapshots",
        description="Print the verdict of every claim: VERIFIED, MISMATCH, UNIT_ERROR, "
        "STALE_ANCHOR, UNKNOWN_ANCHOR, or UNCITED for a number without an anchor.",
    )
    verify.add_argument("--text", required=True, help="the answer's text file, or - for stdin")
    verify.add_argument(
        "--context",
        help="the query payload (JSON) the draft was written from: unprefixed value keys such "
        "as [pcr_volume] resolve through its citation contract",
    )
    verify.set_defaults(func=cmd_verify)

    mcp = commands.add_parser(
        "mcp",
        help="serve the MCP tools (stdio, or streamable HTTP at /mcp)",
        description="Serve query_metrics, list_metrics, verify_claims and data_status over MCP. "
        "Over HTTP a host other than loopback needs SILVER_MCP_TOKEN; with a token set, every "
        "request must send Authorization: Bearer <token>.",
    )
    mcp.add_argument("--http", action="store_true", help="streamable HTTP instead of stdio")
    mcp.add_argument("--host", default="127.0.0.1", help="HTTP bind address (default 127.0.0.1)")
    mcp.add_argument("--port", type=int, default=8765, help="HTTP port (default 8765)")
    mcp.set_defaults(func=cmd_mcp)

    metrics = commands.add_parser("metrics", help="list the metric catalogue (names, aliases)")
    metrics.add_argument("--json", action="store_true", help="print JSON instead of a table")
    metrics.set_defaults(func=cmd_metrics)

    demo = commands.add_parser("demo", help="demo lake + materialize everything + sample query")
    demo.add_argument("--days", type=int, default=63, help="trading days (default 63)")
    demo.add_argument("--seed", type=int, default=7, help="random seed (default 7)")
    demo.set_defaults(func=cmd_demo)

    bench = commands.add_parser("bench", help="benchmark snapshots against query-time compute")
    bench.add_argument("--days", type=int, nargs="+", default=[21, 63, 252], help="lake sizes")
    bench.add_argument("--tickers", nargs="+", default=["SPY", "QQQ", "IWM", "GLD", "SLV"])
    bench.add_argument("--seed", type=int, default=7)
    bench.add_argument("--repeat", type=int, default=3, help="runs per timing (median)")
    bench.add_argument("--lakes-root", type=Path, help="where lakes are built and reused")
    bench.add_argument("--json", type=Path, help="also write the figures as JSON here")
    bench.add_argument(
        "--agent-calls", type=int, default=200, help="MCP and in-process queries per round"
    )
    bench.set_defaults(func=cmd_bench)
    bench_commands = bench.add_subparsers(dest="bench_command")
    scale = bench_commands.add_parser(
        "scale", help="backfill, checks, daily run and query against a one-pass reference"
    )
    scale.add_argument(
        "--tickers-count", type=int, nargs="+", default=[5, 20, 100], help="lake sizes"
    )
    scale.add_argument("--days", type=int, default=252, help="trading days (default 252)")
    scale.add_argument("--seed", type=int, default=7)
    scale.add_argument("--lakes-root", type=Path, help="where lakes are built and reused")
    scale.add_argument("--json", type=Path, help="also write the figures as JSON here")
    scale.set_defaults(func=cmd_bench_scale)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
