"""Golden answers: every value, anchor, status and citation field of the full query payload for
the fixed SYNTHETIC golden lake, compared with the reviewed files in ``golden/``."""

from __future__ import annotations

import dagster as dg
import pytest

from silver_assets_tests.golden import (
    GOLDEN_CASES,
    GOLDEN_LOOKBACK_DAYS,
    GOLDEN_TICKERS,
    LATENCY,
    RUN_ID,
    build_golden_lake,
    diff,
    golden_payloads,
    materialize_golden,
    normalise,
)


@pytest.fixture(scope="module")
def payloads(tmp_path_factory) -> dict[str, dict]:
    settings = build_golden_lake(tmp_path_factory.mktemp("golden"))
    instance = dg.DagsterInstance.ephemeral()
    materialize_golden(settings, instance)
    return golden_payloads(settings, instance)


@pytest.mark.parametrize("case", sorted(GOLDEN_CASES))
def test_payload_matches_the_reviewed_golden_answer(payloads, case):
    changed = diff(case, payloads[case])
    assert not changed, (
        f"the {case} answer changed; if intended, review and rewrite with "
        f"`python3 dev.py golden --update`:\n{changed}"
    )


def test_golden_cases_cover_every_family_ticker_and_a_ranked_window(payloads):
    for payload in payloads.values():
        assert sorted(payload["values_by_ticker"]) == sorted(GOLDEN_TICKERS)
        assert len(payload["status"]["freshness"]) == 6
        assert not payload["status"]["missing"]
        for ticker in GOLDEN_TICKERS:
            ranked = payload["values"][f"{ticker}_latest_atm_iv_rank_pct"]
            assert ranked is not None
            assert 0 <= ranked <= 100
            assert payload["values"][f"{ticker}_iv_rank_lookback_days"] == GOLDEN_LOOKBACK_DAYS
    saturday = payloads["as_of_2026-04-25_saturday"]["status"]["freshness"]
    assert {f["used_partition"] for k, f in saturday.items() if f["dataset"] != "gpr"} == {
        "2026-04-24"
    }


def test_normalise_rejects_a_run_id_that_is_no_run_and_names_versions():
    entry = {"run_id": "not-a-run", "source_data_version": "abc"}
    payload = {"citation_contract": {"SPY_pcr_volume": entry}, "latency_ms": 1.5}
    with pytest.raises(AssertionError, match="not-a-run"):
        normalise(payload, lambda run_id: False, {})
    out = normalise(payload, lambda run_id: True, {"abc": "<options files of 2026-04-24>"})
    assert out["citation_contract"]["SPY_pcr_volume"] == {
        "run_id": RUN_ID,
        "source_data_version": "<options files of 2026-04-24>",
    }
    assert out["latency_ms"] == LATENCY
    assert payload["citation_contract"]["SPY_pcr_volume"]["run_id"] == "not-a-run"
