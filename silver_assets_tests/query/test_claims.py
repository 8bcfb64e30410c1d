"""The claim checker against the materialized demo snapshots: verdict tables and an end-to-end
draft built from a real payload."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from silver_assets import SilverQueryResource
from silver_assets.lake import files
from silver_assets.query import claims
from silver_assets.query.catalogue import CATALOGUE
from silver_assets.query.claims import (
    MAX_TEXT_CHARS,
    InvalidContext,
    TextTooLong,
    _rounds_to,
    verify_claims,
)
from silver_assets.snapshots import SnapshotStore
from silver_assets_tests.conftest import make_settings

CLI = str(Path(sys.executable).parent / "silver-assets")

METRICS = ["PCR", "IV", "Skew", "Liquidity", "Options Pricing / Spread", "Price", "GPR Index"]


@pytest.fixture(scope="module")
def payload(materialized):
    resource = SilverQueryResource(
        snapshot_root=str(materialized.settings.snapshot_root),
        state_path=str(materialized.settings.state_path),
        audit_root=str(materialized.settings.audit_root),
    )
    return resource.query({"tickers": ["SPY"], "metrics": METRICS, "time_window": "past_week"})


@pytest.fixture(scope="module")
def earlier(materialized):
    """A payload as of three sessions before the last: its anchors are stale now."""
    day = files.options_dates(materialized.settings.lake_root)[-3]
    resource = SilverQueryResource(
        snapshot_root=str(materialized.settings.snapshot_root),
        state_path=str(materialized.settings.state_path),
        audit_root=str(materialized.settings.audit_root),
    )
    return resource.query({"tickers": ["SPY"], "metrics": METRICS}, as_of=day)


def _check(materialized, text, context=None):
    return verify_claims(text, materialized.settings, context)


def _anchor(payload, key):
    return payload["citation_contract"][key]["preferred_anchor"]


def _verdicts(result):
    return [(c["text"], c["verdict"]) for c in result["claims"]]


# ------------------------------------------------------------------- verdict tables


def test_true_claims_verify_in_every_written_form(materialized, payload) -> None:
    v = payload["values"]
    iv, spread = v["latest_atm_iv"], v["SPY_avg_spread_pct"]
    rank_anchor, liq = _anchor(payload, "latest_atm_iv"), _anchor(payload, "SPY_avg_spread_pct")
    text = (
        f"ATM IV was {iv} [Silver: {rank_anchor}]. "
        f"Written as a percentage it is {iv * 100:.2f}% [{rank_anchor}]. "
        f"Rounded: {iv:.2f} [Silver: {rank_anchor}]. "
        f"The average spread was {spread:.2f}% [Silver: {liq}] or {spread:.1f} [Silver: {liq}]. "
        f"GPR stood at {v['gpr_percentile']} of its history [Silver: GPR_202604]. "
        f"Volume was {v['SPY_daily_option_volume']:,} contracts [Silver: {liq}]."
    )
    result = _check(materialized, text)
    assert {verdict for _, verdict in _verdicts(result)} == {"VERIFIED"}, result
    assert len(result["claims"]) == 7
    assert result["all_verified"]


def test_wrong_claims_are_mismatches_with_the_true_value(materialized, payload) -> None:
    pcr = payload["values"]["pcr_volume"]
    anchor = _anchor(payload, "pcr_volume")
    result = _check(materialized, f"SPY's put/call volume ratio was {pcr + 0.2:.3f} [{anchor}].")
    (claim,) = result["claims"]
    assert claim["verdict"] == "MISMATCH"
    assert (claim["key"], claim["true_value"], claim["anchor"]) == ("pcr_volume", pcr, anchor)


@pytest.mark.parametrize(
    ("key", "written"),
    [
        ("latest_atm_iv", lambda x: f"{x:.4f}%"),  # a fraction written as if in percent
        ("latest_atm_iv", lambda x: f"{x * 100:.2f}"),  # percent without the sign
        ("SPY_avg_spread_pct", lambda x: f"{x * 100:.2f}%"),  # points multiplied again
        ("SPY_avg_spread_pct", lambda x: f"{x / 100:.6f}"),  # points as a fraction
    ],
)
def test_unit_slips_are_unit_errors(materialized, payload, key, written) -> None:
    value = payload["values"][key]
    text = f"The value was {written(value)} [Silver: {_anchor(payload, key)}]."
    (claim,) = _check(materialized, text)["claims"]
    assert (claim["verdict"], claim["key"]) == ("UNIT_ERROR", key), claim


def test_stale_and_unknown_anchors(materialized, payload, earlier) -> None:
    old_pcr, old_anchor = earlier["values"]["pcr_volume"], _anchor(earlier, "pcr_volume")
    assert old_anchor != _anchor(payload, "pcr_volume")
    text = (
        f"PCR was {old_pcr} [Silver: {old_anchor}]. "
        f"PCR was 1.5 [Silver: PCR_AGG_NOPE_2026-04-30]. "
        f"It was 12.5% [Silver: not_a_key_at_all]."
    )
    claims = _check(materialized, text)["claims"]
    assert [c["verdict"] for c in claims] == ["STALE_ANCHOR", "UNKNOWN_ANCHOR", "UNKNOWN_ANCHOR"]
    assert claims[0]["true_value"] == old_pcr


def test_which_numbers_are_claims(tmp_path) -> None:
    settings = make_settings(tmp_path)
    text = (
        "In 2026, on April 30 and 2026-04-30, 3 analysts saw 7 of 9 signals [1]. "
        "Volume rose 12% while the ratio hit 1.25 and 450 contracts traded. "
        "Gold was 2,350.5 [Gold: LBMA_2026-04-30]. Nothing to report 42.0 [Silver: n/a]. "
        "Numbers in brackets [Silver: 99.9] are not claims; 30 April 2026 neither."
    )
    result = verify_claims(text, settings)
    assert _verdicts(result) == [
        ("12%", "UNCITED"),
        ("1.25", "UNCITED"),
        ("450", "UNCITED"),
    ]
    assert not result["all_verified"]


def test_names_compounds_and_abbreviations_are_read_as_prose(tmp_path) -> None:
    text = (
        "The 30-day IV of the S&P 500 and the Russell 2000 moved on 22 May; no more. "
        "PCR was 1.25 vs. 1.5 a week ago [Silver: n/a]. "
        "The spread was 12.5%. [Silver: n/a] Volume was 450."
    )
    result = verify_claims(text, make_settings(tmp_path))
    assert _verdicts(result) == [("450", "UNCITED")]


def test_a_bracket_after_a_full_stop_cites_only_its_own_sentence(tmp_path) -> None:
    text = (
        "SPY IV was 16.5%. [Gold: desk note] agrees. "
        "Overview. [Silver: PCR_AGG_SPY_2026-04-30] PCR was 1.31 today. "
        "IV was 22.0%.\n\n[Silver: IVRANK_SPY_2026-04-30] PCR printed 1.32 today. "
        "IV was 16.5%-ish [Silver: n/a]. The Nasdaq 15.2% drop took the DAX to 18,500."
    )
    result = verify_claims(text, make_settings(tmp_path))  # no snapshots: cited is unknown
    assert _verdicts(result) == [
        ("16.5%", "UNCITED"),  # another source's bracket opens the next sentence
        ("1.31", "UNKNOWN_ANCHOR"),  # the bracket opens its own sentence
        ("22.0%", "UNCITED"),  # a new paragraph
        ("1.32", "UNKNOWN_ANCHOR"),
        ("15.2%", "UNCITED"),  # a move of an index, not its name
        ("18,500", "UNCITED"),
    ]


def test_each_table_row_cites_for_itself(tmp_path) -> None:
    text = (
        "| ticker | PCR | IV |\n|---|---|---|\n"
        "| SPY | 1.31 [Silver: PCR_AGG_SPY_2026-04-30] | 16.5% [IVRANK_SPY_2026-04-30] |\n"
        "| QQQ | 1.36 | 20.1% |\n"
    )
    result = verify_claims(text, make_settings(tmp_path))  # no snapshots: cited is unknown
    assert _verdicts(result) == [
        ("1.31", "UNKNOWN_ANCHOR"),
        ("16.5%", "UNKNOWN_ANCHOR"),
        ("1.36", "UNCITED"),
        ("20.1%", "UNCITED"),
    ]


def test_a_context_must_be_a_citation_contract(tmp_path) -> None:
    settings = make_settings(tmp_path)
    for context, problem in [
        ({"citation_contract": []}, "citation_contract: Input should be a valid dictionary"),
        ({"citation_contract": {"pcr_volume": {}}}, "pcr_volume.preferred_anchor: Field required"),
        ({"values": {}}, "citation_contract: Field required"),
    ]:
        with pytest.raises(InvalidContext, match=problem):
            verify_claims("PCR was 1.31 [pcr_volume].", settings, context)
    # Entries naming each other are read from the snapshots, not looked up again.
    looped = {
        "citation_contract": {
            "a_b": {"preferred_anchor": "b_a"},
            "b_a": {"preferred_anchor": "a_b"},
        }
    }
    result = verify_claims("PCR was 1.31 [a_b].", settings, looped)
    assert _verdicts(result) == [("1.31", "UNKNOWN_ANCHOR")]


def test_contract_symbol_and_value_key_anchors(materialized, payload) -> None:
    iv = payload["values"]["latest_atm_iv"]
    contract = next(a for a in payload["lineage_anchors"] if a.startswith("SPY2"))
    text = (
        f"The ATM contract's IV was {iv} [Silver: {contract}]. "
        f"PCR {payload['values']['pcr_volume']} [SPY_pcr_volume]. "
        f"PCR {payload['values']['pcr_volume']} [Silver: pcr_volume]."
    )
    bare = _check(materialized, text)
    assert [c["verdict"] for c in bare["claims"]] == ["VERIFIED", "VERIFIED", "UNKNOWN_ANCHOR"]
    with_context = _check(materialized, text, context=payload)
    assert with_context["all_verified"], with_context


@pytest.mark.parametrize(
    ("written", "decimals", "rounds"),
    [
        ("1.30", 2, True),  # Python's f"{1.305:.2f}" (the float is just under the tie)
        ("1.31", 2, True),  # half up
        ("1.3", 1, True),
        ("1.305", 3, True),
        ("1.29", 2, False),
        ("1.32", 2, False),
        ("1.30", 3, False),
    ],
)
def test_a_tie_rounds_either_way(written, decimals, rounds) -> None:
    assert _rounds_to(Decimal("1.305"), Decimal(written), decimals) is rounds


def test_numbers_with_a_magnitude_or_a_unicode_minus(materialized, payload) -> None:
    volume = payload["values"]["SPY_daily_option_volume"]
    liq = _anchor(payload, "SPY_daily_option_volume")
    text = (
        f"Volume was {volume / 1000:.1f}k [Silver: {liq}]. "
        f"Volume was {volume / 1000 + 0.5:.1f}k [Silver: {liq}]. "
        f"Volume was {volume / 1e6:.4f}M contracts [Silver: {liq}]. "
        f"It fell \u2212{volume / 1000:.1f}k [Silver: {liq}]. "
        f"PCR was 0.0M [Silver: {_anchor(payload, 'pcr_volume')}]. "
        "Version 1.2.3 and 3rd place are no numbers."
    )
    claims = _check(materialized, text)["claims"]
    assert [(c["text"], c["verdict"]) for c in claims] == [
        (f"{volume / 1000:.1f}k", "VERIFIED"),
        (f"{volume / 1000 + 0.5:.1f}k", "MISMATCH"),
        (f"{volume / 1e6:.4f}M", "VERIFIED"),
        (f"\u2212{volume / 1000:.1f}k", "MISMATCH"),  # the sign counts
        ("0.0M", "MISMATCH"),  # a ratio has no magnitude suffix
    ]


@pytest.mark.parametrize("dash", ["\u2013", "\u2012", "\u2014", "\ufe63", "\uff0d", "\u2212", "-"])
def test_a_dash_before_a_number_is_a_minus(materialized, payload, dash) -> None:
    """Taken for nothing, the dash would let a false sign verify."""
    pcr, anchor = payload["values"]["pcr_volume"], _anchor(payload, "pcr_volume")
    (claim,) = _check(materialized, f"PCR was {dash}{pcr} [Silver: {anchor}].")["claims"]
    assert (claim["text"], claim["verdict"]) == (f"{dash}{pcr}", "MISMATCH")


def test_word_magnitudes_percent_words_and_bare_decimals(materialized, payload) -> None:
    v = payload["values"]
    volume, liquid = v["SPY_daily_option_volume"], v["SPY_liquid_contracts"]
    liq, iv = _anchor(payload, "SPY_daily_option_volume"), _anchor(payload, "latest_atm_iv")
    text = (
        f"Volume was {volume / 1e6:.1f} million [Silver: {liq}]. "
        f"Volume was {volume / 1e6:.1f}mm [Silver: {liq}]. "
        f"Liquid contracts were {liquid} thousand [Silver: {liq}]. "
        f"Open interest was 0bn [Silver: {liq}]. "
        f"IV was {v['latest_atm_iv'] * 100:.1f} percent [Silver: {iv}]. "
        f"IV was {v['latest_atm_iv'] * 100:.1f}\uff05 [Silver: {iv}]. "
        f"IV was {str(v['latest_atm_iv']).removeprefix('0')} [Silver: {iv}]."
    )
    assert _verdicts(_check(materialized, text)) == [
        (f"{volume / 1e6:.1f} million", "VERIFIED"),
        (f"{volume / 1e6:.1f}mm", "VERIFIED"),
        (f"{liquid} thousand", "MISMATCH"),  # no count of the anchor is thousands of that
        ("0bn", "MISMATCH"),  # rounds to 0 at the written precision, but claims nothing
        (f"{v['latest_atm_iv'] * 100:.1f} percent", "VERIFIED"),
        (f"{v['latest_atm_iv'] * 100:.1f}\uff05", "VERIFIED"),
        (str(v["latest_atm_iv"]).removeprefix("0"), "VERIFIED"),
    ]


def test_a_word_run_into_a_number_keeps_it_a_claim_unless_it_names_a_span(tmp_path) -> None:
    text = (
        "PCR was 9.99x, the spread 419bps and the price 699.99USD [Silver: n/a]. "
        "It was 1.3x and 419bps; the 52wk high, the 10Y, the 30DTE chain and the 1990s, "
        "the 21st session at 10am. IV rank of 29 marks a low; it declined 12 points."
    )
    assert _verdicts(verify_claims(text, make_settings(tmp_path))) == [
        ("1.3x", "UNCITED"),
        ("419bps", "UNCITED"),
        ("29", "UNCITED"),  # "marks" is no month, "declined" no December
        ("12", "UNCITED"),
    ]


def test_list_numbers_are_no_claims_and_huge_or_odd_text_is_read_fast(tmp_path) -> None:
    settings = make_settings(tmp_path)
    listed = "Items:\n10. PCR was 1.305 today.\n11) IV was 16.5% today.\n12 contracts traded."
    assert _verdicts(verify_claims(listed, settings)) == [
        ("1.305", "UNCITED"),
        ("16.5%", "UNCITED"),
        ("12", "UNCITED"),  # no list marker after it
    ]
    huge = "9" * 5000  # int() refuses numbers this long
    assert _verdicts(verify_claims(f"OI was {huge} contracts.", settings)) == [(huge, "UNCITED")]
    # A lazy label before "\s*:" backtracked quadratically: this took over a minute.
    spaced = "PCR was 1.305 [a" + " " * (MAX_TEXT_CHARS - 100) + "b]."
    assert _verdicts(verify_claims(spaced, settings)) == [("1.305", "UNCITED")]


def test_units_signs_and_layouts_a_second_review_found(materialized, payload) -> None:
    v = payload["values"]
    pcr, iv, spread = v["pcr_volume"], v["latest_atm_iv"], v["SPY_quote_avg_spread_pct"]
    price, volume = v["SPY_underlying_price"], v["SPY_daily_option_volume"]
    pcra, ivr = _anchor(payload, "pcr_volume"), _anchor(payload, "latest_atm_iv")
    px, liq = _anchor(payload, "SPY_underlying_price"), _anchor(payload, "SPY_daily_option_volume")
    gpr, lookback = _anchor(payload, "gpr_percentile"), v["iv_rank_lookback_days"]
    cases = [
        (f"The spread was {spread * 100:.0f}bps [Silver: {px}].", ["VERIFIED"]),
        (f"The spread was {spread:.2f}bps [Silver: {px}].", ["UNIT_ERROR"]),  # was VERIFIED
        (f"The spread was {spread * 100:.0f} basis points [Silver: {px}].", ["VERIFIED"]),
        (f"IV was {iv:.3f} pct [Silver: {ivr}].", ["UNIT_ERROR"]),  # was VERIFIED
        (f"IV was {iv * 100:.1f}pct [Silver: {ivr}].", ["VERIFIED"]),
        # Not a date "d/m": both numbers of a pair are claims.
        (f"IV then and now: {iv + 0.8:.3f}/{iv} [Silver: {ivr}].", ["MISMATCH", "VERIFIED"]),
        (f"A ratio of {pcr + 29:.0f} may look high [Silver: {pcra}].", ["MISMATCH"]),
        (f"The price was\n{price + 1:.0f}. [Silver: {px}]", ["MISMATCH"]),  # no list item
        (f"The ratio was _{pcr + 1}_ [Silver: {pcra}].", ["MISMATCH"]),
        (f"The ratio fell \u2212 {pcr} [Silver: {pcra}].", ["MISMATCH"]),
        (f"IV ranged {iv * 100:.1f}%\u2013{iv * 100:.1f}% [Silver: {ivr}].", ["VERIFIED"] * 2),
        (f"The ratio was **-{pcr}** [Silver: {pcra}].", ["MISMATCH"]),  # Markdown keeps the sign
        (f"The ratio was 99M options [Silver: {liq}].", ["MISMATCH"]),  # no tenor of 99 months
        (f"IV rank looks back {lookback} days [Silver: {ivr}].", ["VERIFIED"]),  # days are claims
        (f"The spread was {spread:.2f} BPS [Silver: {px}].", ["UNIT_ERROR"]),  # any case
        (f"IV was {iv}percent [Silver: {ivr}].", ["UNIT_ERROR"]),
        (f"The change was `-{pcr}` [Silver: {pcra}].", ["MISMATCH"]),
        (f"The price was USD{price + 50:.0f} [Silver: {px}].", ["MISMATCH"]),
        (f"The price was {price:.0f}USD [Silver: {px}].", ["VERIFIED"]),
        (
            f"Volume was {volume / 1e6:.1f}m, or {volume / 1e6:.1f} mn [Silver: {liq}].",
            ["VERIFIED"] * 2,
        ),
        (f"GPR is in the {v['gpr_percentile'][:2]}th percentile [Silver: {gpr}].", ["MISMATCH"]),
    ]
    for text, verdicts in cases:
        assert [c["verdict"] for c in _check(materialized, text)["claims"]] == verdicts, text


def test_times_dates_names_spans_and_headings_are_no_claims(tmp_path) -> None:
    text = (
        "At 10:30 ET and 9:30 a.m., over April 27\u201330 and on Apr-30 in Q1'26, since "
        "COVID-19, for the Nasdaq-100, in 30-45 DTE and the 1M ATM IV, the S&P 500 rose 12.5%."
        "\n\n## 10. Risks\n\n### 2.1 Volatility\n\nS&P 9999 is a level.\n\n"
        "## 9.99 is the ratio [Silver: PCR_AGG_SPY_2026-04-30]\n\n"
        "Ranks 23/18 and '99.17' are no dates; SPY's count (about\n9999) is no list item. "
        "It hit 1.99 in the U.S. Gold rose 3% [Gold: WGC]. In April 99% agreed."
    )
    assert _verdicts(verify_claims(text, make_settings(tmp_path))) == [
        ("12.5%", "UNCITED"),
        ("9999", "UNCITED"),  # no index is named "S&P 9999"
        ("9.99", "UNKNOWN_ANCHOR"),  # a cited heading is no section number
        ("23", "UNCITED"),
        ("18", "UNCITED"),
        ("99.17", "UNCITED"),
        ("9999", "UNCITED"),
        ("1.99", "UNCITED"),  # "U.S." ends its sentence: no borrowing the Gold bracket
        ("99%", "UNCITED"),  # no day of April
    ]


def test_an_unprefixed_key_of_a_multi_ticker_context_names_the_keys_to_cite(
    materialized,
) -> None:
    resource = SilverQueryResource(
        snapshot_root=str(materialized.settings.snapshot_root),
        state_path=str(materialized.settings.state_path),
        audit_root=str(materialized.settings.audit_root),
    )
    both = resource.query({"tickers": ["SPY", "QQQ"], "metrics": ["PCR"]})
    (claim,) = _check(materialized, "PCR was 1.305 [pcr_volume].", both)["claims"]
    assert claim["verdict"] == "UNKNOWN_ANCHOR"
    assert "cite one of ['QQQ_pcr_volume', 'SPY_pcr_volume']" in claim["detail"]


def test_a_mismatch_names_the_closest_value_that_has_the_written_form(
    materialized, payload
) -> None:
    anchor = _anchor(payload, "latest_atm_iv")
    (claim,) = _check(materialized, f"IV fell \u221216.5% [Silver: {anchor}].")["claims"]
    # The lookback (180 days) has no percent form, however close its number.
    assert (claim["verdict"], claim["key"]) in {
        ("MISMATCH", "latest_atm_iv"),
        ("MISMATCH", "latest_atm_iv_rank_pct"),
    }, claim


def test_a_legacy_alias_that_is_also_a_key_offers_both_values(materialized, payload) -> None:
    quoted, chain = (
        payload["values"]["SPY_quote_avg_spread_pct"],
        payload["values"]["SPY_avg_spread_pct"],
    )
    contract = payload["citation_contract"]
    assert contract["SPY_quote_avg_spread_pct"]["legacy_aliases"] == ["SPY_avg_spread_pct"]
    assert quoted != chain
    text = (
        f"The quoted spread was {quoted}% [Silver: SPY_avg_spread_pct]. "
        f"The chain's was {chain}% [SPY_avg_spread_pct]. "
        f"Or {quoted + chain:.2f}% [SPY_avg_spread_pct]."
    )
    for context in (None, payload):
        claims = _check(materialized, text, context)["claims"]
        assert [(c["verdict"], c["key"]) for c in claims][:2] == [
            ("VERIFIED", "SPY_quote_avg_spread_pct"),
            ("VERIFIED", "SPY_avg_spread_pct"),
        ], context is None
        assert claims[2]["verdict"] == "MISMATCH"


def test_older_contract_and_gpr_anchors_are_stale(materialized, payload) -> None:
    settings = materialized.settings
    first = files.options_dates(settings.lake_root)[0]
    resource = SilverQueryResource(
        snapshot_root=str(settings.snapshot_root),
        state_path=str(settings.state_path),
        audit_root=str(settings.audit_root),
    )
    oldest = resource.query({"tickers": ["SPY"], "metrics": METRICS}, as_of=first)
    old_contracts = [
        a
        for a in oldest["lineage_anchors"]
        if a.startswith("SPY2") and a not in payload["lineage_anchors"]
    ]
    assert old_contracts, "the first day's contracts are all still current"
    months = SnapshotStore(settings.snapshot_root).partitions("geopolitical_analysis")
    assert len(months) > 1, months
    old_month = "GPR_" + months[-2][:7].replace("-", "")
    text = f"IV was 0.5 [Silver: {old_contracts[0]}]. GPR was 123.4 [Silver: {old_month}]."
    claims = _check(materialized, text)["claims"]
    assert [(c["verdict"], c["anchor"]) for c in claims] == [
        ("STALE_ANCHOR", old_contracts[0]),
        ("STALE_ANCHOR", old_month),
    ]


@pytest.mark.parametrize(
    ("expiry", "detail"),
    [("before", "up to its expiry"), ("991399", "no valid expiry date")],
)
def test_a_contract_symbol_is_looked_up_only_up_to_its_expiry(
    materialized, monkeypatch, expiry, detail
) -> None:
    """A chain observed after the contract's expiry cannot hold it: nothing after is read."""
    days = SnapshotStore(materialized.settings.snapshot_root).partitions("options_analysis")
    if expiry == "before":
        expiry = (date.fromisoformat(days[0]) - timedelta(days=1)).strftime("%y%m%d")
    reads = []
    read = claims.load_snapshot
    monkeypatch.setattr(
        claims,
        "load_snapshot",
        lambda store, family, wanted: reads.append(family) or read(store, family, wanted),
    )
    (claim,) = _check(materialized, f"IV was 0.5 [Silver: SPY{expiry}C00700000].")["claims"]
    assert claim["verdict"] == "UNKNOWN_ANCHOR"
    assert detail in claim["detail"]
    assert "options_analysis" not in reads


def test_text_size_is_limited(tmp_path) -> None:
    with pytest.raises(TextTooLong, match="at most"):
        verify_claims("1.5 " * (MAX_TEXT_CHARS // 4 + 1), make_settings(tmp_path))


# ------------------------------------------------------------------------------ end to end


def _draft(payload) -> tuple[str, list[str]]:
    """One cited sentence per numeric value of the payload; the sentences in order."""
    sentences = []
    for key, value in payload["values"].items():
        if isinstance(value, str) and not value.endswith("%"):
            continue  # labels and dates are not numeric claims
        anchor = _anchor(payload, key)
        sentences.append(f"The {key.replace('_', ' ')} was {value} [Silver: {anchor}].")
    return sentences


def test_a_draft_from_a_real_payload_verifies_and_planted_errors_are_caught(
    materialized, payload
) -> None:
    sentences = _draft(payload)
    clean = _check(materialized, " ".join(sentences))
    assert clean["all_verified"]
    assert clean["counts"] == {"VERIFIED": len(sentences)}

    v = payload["values"]
    planted = list(sentences)
    index = {s.split(" was ")[0]: i for i, s in enumerate(sentences)}
    wrong_pcr = round(v["pcr_volume"] + 0.1, 3)
    planted[index["The pcr volume"]] = (
        f"The pcr volume was {wrong_pcr} [Silver: {_anchor(payload, 'pcr_volume')}]."
    )
    planted[index["The latest atm iv"]] = (
        f"The latest atm iv was {v['latest_atm_iv'] * 100:.2f} "
        f"[Silver: {_anchor(payload, 'latest_atm_iv')}]."
    )
    planted.append(f"Traders also saw {v['SPY_liquid_contracts'] + 7} liquid contracts.")
    result = _check(materialized, " ".join(planted))
    caught = [(c["text"], c["verdict"]) for c in result["claims"] if c["verdict"] != "VERIFIED"]
    assert caught == [
        (str(wrong_pcr), "MISMATCH"),
        (f"{v['latest_atm_iv'] * 100:.2f}", "UNIT_ERROR"),
        (str(v["SPY_liquid_contracts"] + 7), "UNCITED"),
    ]


# ------------------------------------------------------------------------------------ CLI


@pytest.mark.e2e
def test_cli_verify_and_metrics(materialized, payload, tmp_path) -> None:
    env = {**os.environ, **materialized.settings.environment(), "DAGSTER_HOME": str(tmp_path)}
    text = f"PCR was {payload['values']['pcr_volume']} [Silver: {_anchor(payload, 'pcr_volume')}]."
    done = subprocess.run(
        [CLI, "verify", "--text", "-"], env=env, input=text, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["counts"] == {"VERIFIED": 1}
    context = tmp_path / "payload.json"
    context.write_text(json.dumps(payload))
    keyed = f"PCR was {payload['values']['pcr_volume']} [Silver: pcr_volume]."
    runs = [
        subprocess.run(
            [CLI, "verify", "--text", "-", *extra],
            env=env,
            input=keyed,
            capture_output=True,
            text=True,
        )
        for extra in ([], ["--context", str(context)])
    ]
    # Exit 1 when any claim is not VERIFIED, as a linter's finding; the JSON is printed still.
    assert [(r.returncode, json.loads(r.stdout)["counts"]) for r in runs] == [
        (1, {"UNKNOWN_ANCHOR": 1}),
        (0, {"VERIFIED": 1}),
    ]
    done = subprocess.run(
        [CLI, "verify", "--text", "-", "--context", str(tmp_path / "draft.bin.missing")],
        env=env,
        input=keyed,
        capture_output=True,
        text=True,
    )
    assert (done.returncode, done.stderr.startswith("error: cannot read")) == (2, True)
    context.write_text(json.dumps({"citation_contract": {"pcr_volume": {}}}))
    done = subprocess.run(
        [CLI, "verify", "--text", "-", "--context", str(context)],
        env=env,
        input=keyed,
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "preferred_anchor: Field required" in done.stderr
    assert "Traceback" not in done.stderr
    binary = tmp_path / "draft.bin"
    binary.write_bytes(b"\xff\xfe")
    done = subprocess.run(
        [CLI, "verify", "--text", str(binary)], env=env, capture_output=True, text=True
    )
    assert done.returncode == 2
    assert done.stderr.startswith("error: ")
    listed = subprocess.run([CLI, "metrics", "--json"], capture_output=True, text=True, env=env)
    assert [m["name"] for m in json.loads(listed.stdout)] == [m.name for m in CATALOGUE]


def test_sentences_run_over_wrapped_lines_and_end_at_list_items(tmp_path) -> None:
    text = "The ratio was\n1.25 [Silver: n/a] today.\n- 1.5 uncited\n- and 2.5\n\nthen 3.5"
    result = verify_claims(text, make_settings(tmp_path))
    assert [(c["text"], c["sentence"]) for c in result["claims"]] == [
        ("1.5", 1),
        ("2.5", 2),
        ("3.5", 3),
    ]
