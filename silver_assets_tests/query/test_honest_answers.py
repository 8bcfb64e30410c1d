"""What a payload does not answer, where its numbers come from, and clean request errors.

Issue 9: a requested metric the answer does not carry is listed missing (never replaced by
another value), ``status.data_origin`` names the lake's origin, and out-of-range dates, inverted
windows and unreadable request files are clean errors in the API and the CLI.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from silver_assets import InvalidRequest, SilverQueryResource, cli
from silver_assets.lake import files
from silver_assets.lake.origin import MIXED, SYNTHETIC, UNKNOWN, UNMARKED, combine
from silver_assets.metrics.families import macro_analysis
from silver_assets.settings import PROJECT_ROOT

CLI = str(Path(sys.executable).parent / "silver-assets")
MACRO_ROW = {
    "observation_date": date(2026, 4, 29),
    "value": 5000.0,
    "daily_change_pct": 0.42,
    "mom_change_pct": None,
}


@pytest.fixture
def resource(materialized, use_settings):
    use_settings(materialized.settings)
    return SilverQueryResource()


@pytest.fixture
def last_day(materialized):
    return files.options_dates(materialized.settings.lake_root)[-1]


# ------------------------------------------------------------------ asked-for values, not others


def test_monthly_change_without_a_monthly_value_is_not_the_daily_one() -> None:
    answer = macro_analysis(MACRO_ROW, "SPY", frozenset({"Monthly Change (%)"}))
    assert set(answer.values) == {"SPY_last_value"}
    daily = macro_analysis(MACRO_ROW, "SPY", frozenset({"Daily Change (%)"}))
    assert daily.values["SPY_daily_change"] == "0.42%"
    # docs/metrics.md's choice for the general names: MoM when set, else the daily change.
    trend = macro_analysis(MACRO_ROW, "SPY", frozenset({"Macro Trend"}))
    assert trend.values["SPY_daily_change"] == "0.42%"
    monthly = macro_analysis(
        {**MACRO_ROW, "mom_change_pct": 2.5},
        "SPY",
        frozenset({"Monthly Change (%)", "Daily Change (%)"}),
    )
    assert (monthly.values["SPY_mom_change"], monthly.values["SPY_daily_change"]) == (
        "2.50%",
        "0.42%",
    )


def test_yearly_and_monthly_change_are_reported_missing(resource) -> None:
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Yearly Change (%)", "Monthly Change (%)"]}
    )
    missing = {m["metric"]: m["reason"] for m in payload["status"]["missing"]}
    assert missing["Yearly Change (%)"].startswith("NOT_IN_SNAPSHOT")
    assert "yoy_change_pct" in missing["Yearly Change (%)"]
    values = payload["values"]
    assert not any(key.endswith("_daily_change") for key in values), values
    if "SPY_mom_change" not in values:
        assert "SPY_mom_change" in missing["Monthly Change (%)"]
    else:
        assert "Monthly Change (%)" not in missing


def test_a_metric_the_row_cannot_answer_is_named(resource) -> None:
    payload = resource.query({"metrics": ["GPR Country-level", "GPR Index"], "tickers": []})
    by_metric = {m["metric"] for m in payload["status"]["missing"]}
    has_country = any(k.startswith("gpr_country_") for k in payload["values"])
    assert ("GPR Country-level" in by_metric) != has_country
    assert "GPR Index" not in by_metric


# ------------------------------------------------------------------------------ data origin


@pytest.mark.parametrize(
    ("origins", "expected"),
    [
        ([SYNTHETIC, SYNTHETIC], SYNTHETIC),
        ([SYNTHETIC, UNMARKED], MIXED),
        ([MIXED], MIXED),
        ([UNMARKED], UNMARKED),
        ([], UNKNOWN),
        ([SYNTHETIC, None], UNKNOWN),
    ],
)
def test_origins_combine(origins, expected) -> None:
    assert combine(origins) == expected


def test_every_payload_states_its_data_origin(resource) -> None:
    payload = resource.query(
        {"tickers": ["SPY"], "metrics": ["Put/Call Ratio", "Price", "GPR Index"]}
    )
    assert payload["status"]["data_origin"] == {
        "put_call_ratio": SYNTHETIC,
        "macro_analysis": SYNTHETIC,
        # The demo GPR file holds real published months among synthetic ones.
        "geopolitical_analysis": MIXED,
    }


# --------------------------------------------------------------------------- request errors

BAD_REQUESTS = [
    pytest.param({"as_of": "9999-12-31"}, "outside the supported", id="as_of-far-future"),
    pytest.param({"as_of": "0001-01-01"}, "outside the supported", id="as_of-year-one"),
    pytest.param({"as_of": date(1, 1, 1)}, "outside the supported", id="as_of-date-year-one"),
    pytest.param({"as_of": 20260430}, "YYYY-MM-DD", id="as_of-int"),
    pytest.param({"as_of": "20260430"}, "YYYY-MM-DD", id="as_of-basic-format"),
    pytest.param(
        {"time_predicates": {"options": {"window_days": 10**9}}},
        "window_days",
        id="huge-window",
    ),
    pytest.param(
        {"time_predicates": {"options": {"start_date": "0001-01-01"}}},
        "start_date",
        id="predicate-year-one",
    ),
    pytest.param(
        {"time_predicates": {"macro": {"end_date": "9999-12-31"}}},
        "end_date",
        id="predicate-far-future",
    ),
    pytest.param(
        {"time_predicates": {"options": {"start_date": "2199-01-01"}}},
        "after its end",
        id="start-after-resolved-end",
    ),
    pytest.param(
        {"time_predicates": {"gpr": {"start_date": "2199-01-01"}}, "as_of": "2026-04-30"},
        "after its end",
        id="gpr-start-after-as-of",
    ),
]


@pytest.mark.parametrize(("arguments", "message"), BAD_REQUESTS)
def test_bad_dates_are_invalid_requests(resource, arguments, message) -> None:
    request = {"tickers": ["SPY"], "metrics": ["Put/Call Ratio", "GPR Index"]}
    with pytest.raises(InvalidRequest, match=message):
        resource.query(request, arguments.get("time_predicates"), arguments.get("as_of"))


def test_as_of_inside_the_request_is_used(resource, last_day) -> None:
    earlier = files.options_dates(resource.settings.lake_root)[-3]
    request = {"tickers": ["GLD"], "metrics": ["Put/Call Ratio"], "time_window": "today"}
    in_body = resource.query({**request, "as_of": earlier.isoformat()})
    as_argument = resource.query(request, as_of=earlier)
    assert in_body["values"] == as_argument["values"]
    assert in_body["request"]["as_of"] == earlier.isoformat()
    assert in_body["lineage_anchors"] == [f"PCR_AGG_GLD_{earlier}"]
    # Both given: they must agree.
    assert resource.query({**request, "as_of": str(earlier)}, as_of=earlier)["values"]
    with pytest.raises(InvalidRequest, match="conflicts"):
        resource.query({**request, "as_of": str(earlier)}, as_of=last_day)
    with pytest.raises(InvalidRequest, match="as_of"):
        resource.query({**request, "as_of": 1_777_000_000})


# ----------------------------------------------------------------------------------- the CLI


def _cli(materialized, tmp_path, *args, stdin: bytes | None = None):
    env = {**os.environ, **materialized.settings.environment()}
    env["DAGSTER_HOME"] = str(tmp_path)
    return subprocess.run(
        [CLI, "query", *args], env=env, cwd=PROJECT_ROOT, capture_output=True, input=stdin
    )


@pytest.mark.e2e
@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"\xff\xfe\x00binary\x80", id="not-utf8"),
        pytest.param(b"[" * 100_000 + b"]" * 100_000, id="deeply-nested"),
        pytest.param(b'{"request": {"tickers": ["SPY"], "metrics": ["PCR"]}, "x": 1}', id="env"),
        pytest.param(
            json.dumps({"tickers": ["SPY"], "metrics": ["PCR"], "as_of": "9999-12-31"}).encode(),
            id="as_of-out-of-range",
        ),
        pytest.param(
            json.dumps(
                {
                    "request": {"tickers": ["SPY"], "metrics": ["PCR"]},
                    "time_predicates": {"options": {"start_date": "2199-01-01"}},
                }
            ).encode(),
            id="inverted-window",
        ),
    ],
)
def test_cli_bad_request_files_exit_2_without_traceback(materialized, tmp_path, content) -> None:
    path = tmp_path / "request.json"
    path.write_bytes(content)
    done = _cli(materialized, tmp_path, "--request", str(path))
    stderr = done.stderr.decode()
    assert done.returncode == 2, stderr
    assert stderr.startswith("error: ")
    assert "Traceback" not in stderr
    assert "OverflowError" not in stderr


@pytest.mark.e2e
def test_cli_out_of_range_as_of_flag_exits_2(materialized, tmp_path) -> None:
    done = _cli(
        materialized, tmp_path, "--tickers", "SPY", "--metrics", "PCR", "--as-of", "9999-12-31"
    )
    assert done.returncode == 2
    assert b"outside the supported" in done.stderr


# ---------------------------------------------------------------------------- property tests

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**12), max_value=10**12),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates().map(date.isoformat),
)
_json = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=8,
)
_predicate = st.fixed_dictionaries(
    {},
    optional={
        "start_date": st.one_of(st.dates().map(date.isoformat), _scalars),
        "end_date": st.one_of(st.dates().map(date.isoformat), _scalars),
        "window_days": st.one_of(st.integers(min_value=-5, max_value=10**7), _scalars),
    },
)
_requests = st.fixed_dictionaries(
    {
        "tickers": st.one_of(st.lists(st.sampled_from(["SPY", "QQQ", " gld ", "^VIX", ""])), _json),
        "metrics": st.one_of(
            st.lists(st.sampled_from(["PCR", "IV", "GPR", "Yearly Change (%)", "Weather", ""])),
            _json,
        ),
    },
    optional={
        "time_window": st.one_of(st.sampled_from(["today", "past_week", "fortnight"]), _json),
        "as_of": st.one_of(st.dates(), st.dates().map(date.isoformat), _scalars),
    },
)
_property = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_property
@given(
    request=st.one_of(_requests, _json),
    predicates=st.one_of(
        st.none(),
        st.dictionaries(st.sampled_from(["options", "macro", "gpr", "silver.options"]), _predicate),
        _json,
    ),
    as_of=st.one_of(st.none(), st.dates(), _scalars),
)
def test_any_request_is_answered_or_invalid(resource, request, predicates, as_of) -> None:
    try:
        payload = resource.query(request, predicates, as_of)
    except InvalidRequest as exc:
        refusal = str(exc)
    else:
        refusal = None
    if refusal is not None:
        assert refusal  # a refusal always says why
        return
    json.dumps(payload, allow_nan=False)
    assert not any("Overflow" in e["error"] for e in payload["status"]["errors"])


@_property
@given(
    content=st.one_of(
        st.binary(max_size=200), _requests.map(lambda r: json.dumps(r, default=str).encode())
    )
)
def test_any_request_file_exits_0_or_2(
    materialized, use_settings, tmp_path_factory, capsys, content
):
    use_settings(materialized.settings)
    path = tmp_path_factory.mktemp("req") / "request.json"
    path.write_bytes(content)
    code = cli.main(["query", "--request", str(path)])
    out, err = capsys.readouterr()
    assert code in (0, 2)
    if code == 0:
        json.loads(out)
    else:
        assert err.startswith("error: ")
