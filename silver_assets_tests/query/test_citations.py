"""Every field of the citation contract, for one and for several tickers."""

from __future__ import annotations

from silver_assets.metrics.families import SOURCE_CHANNEL, FamilyAnswer
from silver_assets.query.citations import citation_anchor_map, citation_entries
from silver_assets.query.payload import CitationEntry

PROVENANCE = {
    "asset_key": "options_analysis",
    "partition_key": "2026-04-24",
    "run_id": "3f1c2d4e-0000-4000-8000-000000000001",
    "source_data_version": "72a4a4b259ff891d",
    "ignored": "not a provenance field",
}


def answer(ticker: str) -> FamilyAnswer:
    result = FamilyAnswer("options_analysis", ticker)
    result.add("latest_atm_iv", 0.21, f"IVRANK_{ticker}_2026-04-24", "2026-04-24")
    result.add("latest_iv_skew", 0.05, f"IVSKEW_{ticker}_2026-04-23", "2026-04-23")
    result.add_anchor(f"{ticker}260515C00500000", "latest_atm_iv")
    # One alias without the ticker, one already prefixed: only the first gains a prefix.
    result.legacy_aliases["latest_atm_iv"] = ["atm_iv", f"{ticker}_iv_atm"]
    return result


def test_every_field_of_a_single_ticker_entry():
    entries = citation_entries(answer("SPY"), PROVENANCE, multi_ticker=False)
    assert entries == {
        "latest_atm_iv": {
            "preferred_anchor": "IVRANK_SPY_2026-04-24",
            "audit_lineage_anchors": [
                "IVRANK_SPY_2026-04-24",
                "IVSKEW_SPY_2026-04-23",
                "SPY260515C00500000",
            ],
            "legacy_aliases": ["atm_iv", "SPY_iv_atm"],
            "observed_at": "2026-04-24",
            "source_channel": SOURCE_CHANNEL,
            "family": "options_analysis",
            "asset_key": "options_analysis",
            "partition_key": "2026-04-24",
            "run_id": "3f1c2d4e-0000-4000-8000-000000000001",
            "source_data_version": "72a4a4b259ff891d",
        },
        "latest_iv_skew": {
            "preferred_anchor": "IVSKEW_SPY_2026-04-23",
            "audit_lineage_anchors": [
                "IVRANK_SPY_2026-04-24",
                "IVSKEW_SPY_2026-04-23",
                "SPY260515C00500000",
            ],
            "legacy_aliases": [],
            "observed_at": "2026-04-23",
            "source_channel": SOURCE_CHANNEL,
            "family": "options_analysis",
            "asset_key": "options_analysis",
            "partition_key": "2026-04-24",
            "run_id": "3f1c2d4e-0000-4000-8000-000000000001",
            "source_data_version": "72a4a4b259ff891d",
        },
    }
    assert SOURCE_CHANNEL == "silver.dagster_snapshot"
    for entry in entries.values():  # exactly the fields of the payload's model
        assert CitationEntry.model_validate(entry).model_dump() == entry


def test_several_tickers_prefix_keys_and_legacy_aliases_per_ticker():
    contract = {}
    for ticker in ("SPY", "QQQ", "GLD"):
        contract.update(citation_entries(answer(ticker), PROVENANCE, multi_ticker=True))
    assert sorted(contract) == sorted(
        f"{t}_{key}" for t in ("SPY", "QQQ", "GLD") for key in ("latest_atm_iv", "latest_iv_skew")
    )
    for ticker in ("SPY", "QQQ", "GLD"):
        entry = contract[f"{ticker}_latest_atm_iv"]
        assert entry["legacy_aliases"] == [f"{ticker}_atm_iv", f"{ticker}_iv_atm"]
        assert entry["preferred_anchor"] == f"IVRANK_{ticker}_2026-04-24"
        assert entry["audit_lineage_anchors"][-1] == f"{ticker}260515C00500000"
        assert entry["family"] == "options_analysis"
    anchors = citation_anchor_map(contract)
    assert anchors == {key: entry["preferred_anchor"] for key, entry in contract.items()}
    assert anchors["QQQ_latest_iv_skew"] == "IVSKEW_QQQ_2026-04-23"


def test_a_dropped_value_takes_its_own_anchors_along():
    result = answer("IWM")
    result.drop({"latest_atm_iv"})
    (entry,) = citation_entries(result, PROVENANCE, multi_ticker=False).values()
    assert entry["audit_lineage_anchors"] == ["IVSKEW_IWM_2026-04-23"]


def test_gpr_values_keep_their_keys_in_a_multi_ticker_request():
    result = FamilyAnswer("geopolitical_analysis", "")
    result.add("gpr_index_level", 131.2, "GPR_202604", "2026-04-01")
    entries = citation_entries(result, {"asset_key": "geopolitical_analysis"}, multi_ticker=True)
    assert list(entries) == ["gpr_index_level"]
    assert entries["gpr_index_level"]["run_id"] is None  # provenance the row lacks stays None
    assert entries["gpr_index_level"]["audit_lineage_anchors"] == ["GPR_202604"]
