"""The CLI on the Postgres deployment: materialize, query, and two materializations at once."""

from __future__ import annotations

import json
import subprocess

import dagster as dg
import pytest

from silver_assets_tests.conftest import BIN, build_lake
from silver_assets_tests.deploy.conftest import deploy_env, open_instance, silver_assets

pytestmark = [pytest.mark.postgres, pytest.mark.e2e]
REQUEST = ["--tickers", "SPY", "--metrics", "Put/Call Ratio", "--time-window", "today"]


def test_materialize_and_query_on_postgres(tmp_path, monkeypatch, postgres_home, postgres_url):
    settings = build_lake(tmp_path, days=4)
    env = deploy_env(settings, postgres_home, postgres_url)

    done = silver_assets("materialize", "--all", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    answer = silver_assets("query", *REQUEST, env=env)
    assert answer.returncode == 0, answer.stderr
    payload = json.loads(answer.stdout)
    assert {"pcr_volume", "pcr_open_interest"} <= set(payload["values"]), payload["values"]
    assert {c["partition_key"] for c in payload["citation_contract"].values()} == {"2026-04-30"}

    instance = open_instance(monkeypatch, env)
    assert type(instance.run_storage).__name__ == "PostgresRunStorage"
    runs = instance.get_runs()
    assert {run.job_name for run in runs} >= {"options_job", "macro_job", "gpr_job"}
    assert all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
    assert not (postgres_home / "history").exists(), "runs went to SQLite, not Postgres"


def test_two_concurrent_materializations_on_a_fresh_instance(
    tmp_path, monkeypatch, postgres_home, postgres_url
):
    settings = build_lake(tmp_path, days=4)
    env = deploy_env(settings, postgres_home, postgres_url)
    command = [str(BIN / "silver-assets"), "materialize", "--all"]
    processes = [
        subprocess.Popen(
            command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=600)[0] for process in processes]
    assert [process.returncode for process in processes] == [0, 0], "\n".join(outputs)

    instance = open_instance(monkeypatch, env)
    assert instance.get_dynamic_partitions("options_anchor_dates") == sorted(
        set(instance.get_dynamic_partitions("options_anchor_dates"))
    )
    answer = silver_assets("query", *REQUEST, env=env)
    assert answer.returncode == 0, answer.stderr
    assert "pcr_volume" in json.loads(answer.stdout)["values"]
