"""Metric routing, strict tickers, macro aliases and value-key prefixing."""

from __future__ import annotations

import difflib
from datetime import date

import pytest

from silver_assets.query.catalogue import (
    ALIASES,
    CATALOGUE,
    WITHOUT_HANDLER,
    SurfaceMetric,
    catalogue_markdown,
    normalize_metric_name,
)
from silver_assets.query.routing import (
    FAMILIES,
    FUZZY_CUTOFF,
    METRIC_ROUTES,
    ONTOLOGY,
    RoutedMetric,
    Routing,
    normalize_tickers,
    prefix_value_keys,
    route_metrics,
    suggestions,
    unsupported_metrics_message,
)
from silver_assets.settings import PROJECT_ROOT
from silver_assets.tickers import macro_anchor, macro_symbol_for


def test_every_family_has_a_route_and_every_route_is_in_the_ontology() -> None:
    assert set(METRIC_ROUTES.values()) == set(FAMILIES)
    assert set(METRIC_ROUTES) < set(ONTOLOGY)
    assert "Dividend Yield" in ONTOLOGY


def test_exact_route() -> None:
    routing = route_metrics(["Put/Call Ratio"])
    assert routing == Routing(
        routed=(RoutedMetric("Put/Call Ratio", "Put/Call Ratio", "put_call_ratio", "exact"),),
        unsupported=(),
    )


@pytest.mark.parametrize("name", list(METRIC_ROUTES))
def test_normalised_route_finds_each_surface_name(name: str) -> None:
    # Lower-case with the punctuation dropped: no two surface names normalise alike.
    requested = "".join(c for c in name.lower() if c.isalnum() or c == " ")
    (routed,) = route_metrics([requested]).routed
    assert (routed.canonical, routed.family) == (name, METRIC_ROUTES[name])
    assert routed.how == ("exact" if requested == name else "normalized")


def test_fuzzy_route() -> None:
    routing = route_metrics(["Put-Call Ratios", "Implied Volatilty", "Open Interst"])
    assert [(r.canonical, r.how) for r in routing.routed] == [
        ("Put/Call Ratio", "fuzzy"),
        ("Implied Volatility (IV)", "fuzzy"),
        ("Open Interest", "fuzzy"),
    ]


def test_unsupported_and_ontology_without_handler() -> None:
    routing = route_metrics(["Dividend Yield", "dividend yeild", "Weather", "IV Skew"])
    assert [r.canonical for r in routing.routed] == ["IV Skew"]
    # "dividend yeild" is a fuzzy hit on a name no handler answers: unsupported, not dropped.
    assert routing.unsupported == ("Dividend Yield", "dividend yeild", "Weather")


def test_duplicates_collapse_and_order_is_kept() -> None:
    routing = route_metrics(
        ["GPR Index", "IV Skew", "gpr index", "Implied Volatility", "Weather", "weather", "  "]
    )
    assert [r.requested for r in routing.routed] == ["GPR Index", "IV Skew", "Implied Volatility"]
    assert routing.families == ("geopolitical_analysis", "options_analysis")
    assert routing.unsupported == ("Weather",)


def test_paraphrases_route_exactly_as_listed() -> None:
    routing = route_metrics(["Price Change", "Open Interst", "EPS", "Institutional Flows"])
    assert [(r.requested, r.canonical, r.how) for r in routing.routed] == [
        ("Price Change", "Price Change (%)", "normalized"),
        ("Open Interst", "Open Interest", "fuzzy"),
        ("Institutional Flows", "Institutional Flow", "alias"),
    ]
    assert routing.unsupported == ("EPS",)


@pytest.mark.parametrize(
    ("requested", "closest", "ratio", "routed_to"),
    [
        # difflib ratio 2 * matches / total length, against the normalised ontology names.
        ("Nsvolume", "optionsvolume", 16 / 21, "Options Volume"),  # 0.762: just above
        ("Otrend", "macrotrend", 12 / 16, "Macro Trend"),  # 0.75: the cutoff itself is in
        ("Nterest", "openinterest", 14 / 19, None),  # 0.737: just below
    ],
)
def test_fuzzy_cutoff_boundary(requested, closest, ratio, routed_to) -> None:
    # Names no curated alias would hold, so only the difflib cutoff decides.
    key = normalize_metric_name(requested)
    assert difflib.SequenceMatcher(None, key, closest).ratio() == pytest.approx(ratio)
    routing = route_metrics([requested])
    if routed_to is None:
        assert (routing.routed, routing.unsupported) == ((), (requested,))
    else:
        (routed,) = routing.routed
        assert (routed.canonical, routed.how) == (routed_to, "fuzzy")
    assert FUZZY_CUTOFF == 0.75


def test_bare_string_is_rejected() -> None:
    with pytest.raises(TypeError, match="metrics"):
        route_metrics("IV Skew")
    with pytest.raises(TypeError, match="tickers"):
        normalize_tickers("SPY", cap=5)


def test_unsupported_message() -> None:
    assert unsupported_metrics_message([]) is None
    message = unsupported_metrics_message(["Dividend Yield", "Weather"])
    assert message is not None
    assert "'Dividend Yield'" in message
    assert "'Weather'" in message
    assert "Put/Call Ratio" in message
    assert "GPR Index" in message


def test_tickers_are_never_fuzzy() -> None:
    assert normalize_tickers(["spy ", "SPYG", " SPX", "qqq", "QQQM"], cap=10) == (
        ["SPY", "SPYG", "SPX", "QQQ", "QQQM"],
        [],
    )


def test_ticker_cap_keeps_first_unique_tickers() -> None:
    kept, dropped = normalize_tickers(["SPY", "spy", "", "  ", "QQQ", "IWM", "GLD"], cap=2)
    assert (kept, dropped) == (["SPY", "QQQ"], ["IWM", "GLD"])
    with pytest.raises(ValueError, match="cap"):
        normalize_tickers(["SPY"], cap=0)


def test_macro_aliases_and_anchors() -> None:
    assert macro_symbol_for("SPY") == ("^GSPC", "^GSPC")
    assert macro_symbol_for("qqq") == ("^IXIC", "^IXIC")
    assert macro_symbol_for("GLD") == ("GLD", None)
    assert macro_symbol_for("^VIX") == ("^VIX", None)
    obs = date(2026, 4, 29)
    assert macro_anchor("SPY", "^GSPC", obs) == "MACRO_SPY_AS_^GSPC_2026-04-29"
    assert macro_anchor("GLD", None, obs) == "MACRO_GLD_2026-04-29"


def test_single_ticker_keys_stay_as_they_are() -> None:
    values = {"SPY": {"pcr_volume": 0.8, "SPY_open_interest": 10}, "": {"gpr_index_level": 230.77}}
    assert prefix_value_keys(values, multi_ticker=False) == {
        "pcr_volume": 0.8,
        "SPY_open_interest": 10,
        "gpr_index_level": 230.77,
    }


def test_two_tickers_do_not_collide() -> None:
    values = {
        "SPY": {"pcr_volume": 0.8, "SPY_open_interest": 10},
        "QQQ": {"pcr_volume": 1.2, "QQQ_open_interest": 7},
        "": {"gpr_index_level": 230.77},
    }
    assert prefix_value_keys(values, multi_ticker=True) == {
        "SPY_pcr_volume": 0.8,
        "SPY_open_interest": 10,
        "QQQ_pcr_volume": 1.2,
        "QQQ_open_interest": 7,
        "gpr_index_level": 230.77,
    }


def test_a_collision_raises_instead_of_overwriting() -> None:
    with pytest.raises(ValueError, match="pcr_volume"):
        prefix_value_keys({"SPY": {"pcr_volume": 1}, "QQQ": {"pcr_volume": 2}}, False)


# ------------------------------------------------------------------------- catalogue aliases

ALIAS_ROWS = [(alias, m.name, m.family) for m in CATALOGUE for alias in m.aliases]


@pytest.mark.parametrize(("alias", "name", "family"), ALIAS_ROWS)
def test_every_alias_routes_exactly_to_its_metric(alias: str, name: str, family: str) -> None:
    for spelling in (alias, alias.upper(), f" {alias.lower()} "):
        (routed,) = route_metrics([spelling]).routed
        assert (routed.canonical, routed.family) == (name, family)
        assert routed.how in {"alias", "exact", "normalized"}


def test_no_alias_collides_with_another_metric_or_family() -> None:
    owners: dict[str, str] = {}
    for metric in CATALOGUE:
        for spelling in (metric.name, *metric.aliases):
            key = normalize_metric_name(spelling)
            assert owners.setdefault(key, metric.name) == metric.name, spelling
    blocked = {normalize_metric_name(n) for n in WITHOUT_HANDLER}
    assert not blocked & set(owners)
    assert set(ALIASES) == set(owners)


def test_a_colliding_alias_is_refused_when_the_table_is_built(monkeypatch) -> None:
    from silver_assets.query import catalogue

    clash = (*CATALOGUE, SurfaceMetric("Other", "pricing_spread", (), ("pcr",)))
    monkeypatch.setattr(catalogue, "CATALOGUE", clash)
    with pytest.raises(ValueError, match="'pcr' of 'Other' collides with 'Put/Call Ratio'"):
        catalogue._alias_index()


@pytest.mark.parametrize(
    ("name", "canonical"),
    [
        ("PCR", "Put/Call Ratio"),
        ("IV", "Implied Volatility (IV)"),
        ("Skew", "IV Skew"),
        ("Liquidity", "Options Liquidity"),
        ("Macro Trend", "Macro Trend"),
        ("Price Change (%)", "Price Change (%)"),
        ("GPR Index", "GPR Index"),
        ("implied vol", "Implied Volatility (IV)"),
        ("put call", "Put/Call Ratio"),
        ("geopolitical risk", "GPR Index"),
        ("bid/ask", "Options Pricing / Spread"),
    ],
)
def test_ground_truth_short_names_route(name: str, canonical: str) -> None:
    (routed,) = route_metrics([name]).routed
    assert routed.canonical == canonical


@pytest.mark.parametrize("name", ["DTE", "Insider Trading", "vol", "volatility", "change"])
def test_ambiguous_or_unhandled_names_stay_unsupported(name: str) -> None:
    routing = route_metrics([name])
    assert routing.routed == ()
    assert routing.unsupported == (name,)


def test_unsupported_names_get_the_closest_catalogue_names() -> None:
    assert suggestions("volatility")[:2] == ["IV Skew", "Implied Volatility (IV)"]
    assert "Options Volume" in suggestions("vol")
    assert suggestions("Insider Trading") == []
    message = unsupported_metrics_message(["volatility"])
    assert "'volatility' (closest: IV Skew, Implied Volatility (IV)" in message
    assert "silver-assets metrics" in message


def test_suggestions_are_the_three_closest_distinct_names() -> None:
    # "ivchange" is closest to the spellings 1dchange (Daily), pricechange (Price), dailychange
    # (Daily again), then yoychange (Yearly), pctchange (Price), momchange (Monthly): the third
    # distinct name lies past the three closest spellings, and a fourth (Monthly) is left out.
    assert route_metrics(["iv change"]).unsupported == ("iv change",)
    assert suggestions("iv change") == ["Daily Change (%)", "Price Change (%)", "Yearly Change (%)"]
    assert suggestions("iv change", n=4)[3] == "Monthly Change (%)"


def test_readme_lists_the_catalogue() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert catalogue_markdown() in readme


def test_blank_names_are_skipped_wherever_they_stand() -> None:
    routing = route_metrics(["  ", "IV Skew", "", "GPR Index"])
    assert [r.canonical for r in routing.routed] == ["IV Skew", "GPR Index"]


def test_bare_strings_are_named_in_the_error() -> None:
    with pytest.raises(TypeError, match=r"^metrics must be a list of strings"):
        route_metrics("IV Skew")
    with pytest.raises(TypeError, match=r"^tickers must be a list of strings"):
        normalize_tickers("SPY", 5)


def test_a_cap_of_one_keeps_one_ticker() -> None:
    assert normalize_tickers(["spy", "qqq"], 1) == (["SPY"], ["QQQ"])
    with pytest.raises(ValueError, match="at least 1, got 0"):
        normalize_tickers(["SPY"], 0)


def test_unsupported_message_lists_names_and_examples() -> None:
    assert unsupported_metrics_message(["Weather", "EPS"]) == (
        "Unsupported metric(s): 'Weather', 'EPS'. No Silver handler answers them. "
        "Supported metrics include: Put/Call Ratio, Implied Volatility (IV), "
        "Options Liquidity, Options Pricing / Spread, Macro Trend, GPR Index; "
        "`silver-assets metrics` lists every name and alias."
    )
