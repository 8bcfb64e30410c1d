"""End to end through the real ``silver-assets`` console script, in a temporary DAGSTER_HOME."""

from __future__ import annotations

import json
import os
import subprocess

import pytest

from silver_assets_tests.conftest import make_settings, run_command

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cli_env(tmp_path_factory):
    root = tmp_path_factory.mktemp("cli")
    (root / "dagster_home").mkdir()
    return {
        **os.environ,
        **make_settings(root).environment(),
        "DAGSTER_HOME": str(root / "dagster_home"),
    }


def run(env, *args, stdin: str | None = None) -> subprocess.CompletedProcess:
    return run_command("silver-assets", *args, env=env, stdin=stdin)


def test_generate_materialize_query(cli_env):
    made = run(
        cli_env, "lake", "generate", "--days", "4", "--tickers", "SPY", "QQQ", "--no-progress"
    )
    assert made.returncode == 0, made.stderr
    assert "SYNTHETIC" in made.stdout
    assert "4 trading days" in made.stdout

    everything = run(cli_env, "materialize", "--all")
    assert everything.returncode == 0, everything.stdout + everything.stderr
    assert "[options] ok" in everything.stdout
    assert "[gpr] ok" in everything.stdout
    assert "options daily scan: 4/4 dates" in everything.stderr  # progress in the run log

    one = run(cli_env, "materialize", "--anchor", "2026-04-29", "--dataset", "options")
    assert one.returncode == 0
    assert "1 anchor(s) 2026-04-29..2026-04-29" in one.stdout

    answer = run(
        cli_env,
        "query",
        "--tickers",
        "SPY",
        "QQQ",
        "--metrics",
        "Put/Call Ratio",
        "IV Skew",
        "--time-window",
        "past_week",
    )
    assert answer.returncode == 0, answer.stderr
    payload = json.loads(answer.stdout)
    assert {"SPY_pcr_volume", "QQQ_pcr_volume", "SPY_latest_iv_skew"} <= set(payload["values"])
    assert all(k in payload["citation_contract"] for k in payload["values"])

    request = {"tickers": ["SPY"], "metrics": ["GPR Index"], "llm_confidence": 0.9}
    from_stdin = run(cli_env, "query", "--request", "-", stdin=json.dumps(request))
    assert json.loads(from_stdin.stdout)["values"]["gpr_percentile"] == "97.58%"

    past = run(
        cli_env, "query", "--tickers", "SPY", "--metrics", "Put/Call Ratio", "--as-of", "2026-04-28"
    )
    assert (
        json.loads(past.stdout)["citation_contract"]["pcr_volume"]["partition_key"] == "2026-04-28"
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("materialize", "--anchor", "2026-13-01"), "'2026-13-01' is not a calendar date"),
        # Python 3.11's date.fromisoformat reads this as 2026-04-30; a request refuses it too.
        (("query", "--tickers", "SPY", "--metrics", "PCR", "--as-of", "20260430"), "YYYY-MM-DD"),
        (("materialize", "--from", "2026-04-10"), "--from and --to go together"),
        (("query", "--tickers", "SPY"), "--metrics"),
        (("query", "--request", "/nonexistent/request.json"), "cannot read request"),
        (("lake", "generate", "--days", "0", "--no-progress"), "days"),
    ],
)
def test_bad_input_gets_a_clear_error(cli_env, args, message):
    result = run(cli_env, *args)
    assert result.returncode == 2
    assert message in result.stderr


def test_unreadable_gpr_file_is_a_clear_error(tmp_path):
    root = tmp_path / "broken"
    env = {**os.environ, **make_settings(root).environment(), "DAGSTER_HOME": str(tmp_path)}
    assert (
        run(env, "lake", "generate", "--days", "2", "--tickers", "SPY", "--no-progress").returncode
        == 0
    )
    (root / "silver" / "gpr" / "gpr_monthly_enriched.parquet").write_bytes(b"garbage")
    result = run(env, "materialize", "--all", "--dataset", "gpr")
    assert result.returncode == 2
    assert "gpr_monthly_enriched.parquet" in result.stderr


def test_malformed_request_file(cli_env, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"tickers": "SPY", "metrics": ["Price"]}')
    result = run(cli_env, "query", "--request", str(bad))
    assert result.returncode == 2
    assert "tickers" in result.stderr
    bad.write_text("{not json")
    result = run(cli_env, "query", "--request", str(bad))
    assert result.returncode == 2
    assert "not valid JSON" in result.stderr


def test_demo_leaves_every_asset_materialized(tmp_path):
    """After the README's main command, no catalog asset reads "Never materialized"."""
    import dagster as dg

    from silver_assets.definitions import build_defs

    settings = make_settings(tmp_path)
    home = tmp_path / "dagster_home"
    home.mkdir()
    env = {**os.environ, **settings.environment(), "DAGSTER_HOME": str(home)}
    result = run(env, "demo", "--days", "6")
    assert result.returncode == 0, result.stderr[-2000:]
    assert "[standing_answers] ok" in result.stdout
    graph = build_defs(settings).resolve_asset_graph()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        never = [
            key.to_user_string()
            for key in graph.materializable_asset_keys
            if instance.get_latest_materialization_event(key) is None
        ]
    assert never == []
    assert (settings.snapshot_root / "standing_answers" / "latest.json").exists()
