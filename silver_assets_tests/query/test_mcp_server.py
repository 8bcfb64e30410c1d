"""The MCP server through real SDK client sessions, over stdio and over HTTP on 127.0.0.1.

Each tool's structured output is compared with the Python API on the same snapshots, and checked
against the output schema the tool advertises (the server checks it only against the pydantic
model, so a drift between the model and the advertised schema would show here).
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jsonschema
import pytest
import requests
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client
from mcp.types import CallToolResult

from silver_assets import SilverQueryResource, list_metrics
from silver_assets.query.claims import MAX_TEXT_CHARS, VerifyResult, verify_claims
from silver_assets.query.data_status import DataStatus, data_status
from silver_assets.query.mcp_server import (
    CONTRACT_DOCUMENT,
    MAX_BODY_BYTES,
    TOKEN_VARIABLE,
    BearerToken,
    MetricCatalogue,
    RefusedToServe,
    build_server,
    http_app,
)
from silver_assets.query.payload import QueryPayload
from silver_assets.settings import PROJECT_ROOT

pytestmark = pytest.mark.e2e
CLI = str(Path(sys.executable).parent / "silver-assets")
TOOLS = {"query_metrics", "list_metrics", "verify_claims", "data_status"}
REQUEST = {"tickers": ["SPY", "QQQ"], "metrics": ["PCR", "IV", "GPR Index"]}


@pytest.fixture(scope="module")
def env(materialized, tmp_path_factory):
    return {
        **os.environ,
        **materialized.settings.environment(),
        "DAGSTER_HOME": str(tmp_path_factory.mktemp("mcp_home")),
        TOKEN_VARIABLE: "",
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """The URL of a running ``silver-assets mcp --http``, and its stderr once it stopped."""

    url: str
    stderr: str = ""


@contextmanager
def http_server(env, *args):
    port = _free_port()
    process = subprocess.Popen(
        [CLI, "mcp", "--http", "--port", str(port), *args],
        env=env,
        cwd=PROJECT_ROOT,
        stderr=subprocess.PIPE,
    )
    served = Served(f"http://127.0.0.1:{port}/mcp")
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert process.poll() is None, process.stderr.read().decode()
                assert time.monotonic() < deadline, "the MCP server did not start"
                time.sleep(0.2)
        yield served
    finally:
        process.terminate()
        served.stderr = process.communicate(timeout=30)[1].decode()


async def _exercise(session: ClientSession, draft: str) -> dict:
    await session.initialize()
    tools = (await session.list_tools()).tools
    results = {"tools": {t.name: t for t in tools}}
    calls = {
        "query_metrics": {**REQUEST, "time_window": "past_week"},
        "list_metrics": {},
        "verify_claims": {"text": draft},
        "data_status": {},
    }
    for name, arguments in calls.items():
        result = await session.call_tool(name, arguments)
        assert not result.isError, result.content
        results[name] = result.structuredContent
    invalid = await session.call_tool("query_metrics", {**REQUEST, "as_of": "9999-12-31"})
    results["invalid"] = invalid
    results["wrong_type"] = await session.call_tool("query_metrics", {**REQUEST, "tickers": "SPY"})
    keyed, context = _keyed_draft(draft)
    in_context = await session.call_tool("verify_claims", {"text": keyed, "context": context})
    results["verify_in_context"] = in_context.structuredContent
    bad = {"text": keyed, "context": {"citation_contract": []}}
    results["bad_context"] = await session.call_tool("verify_claims", bad)
    too_long = await session.call_tool("verify_claims", {"text": "1.5 " * MAX_TEXT_CHARS})
    results["too_long"] = too_long
    resources = {str(r.uri) for r in (await session.list_resources()).resources}
    results["resources"] = resources
    contract = await session.read_resource("silver://contract")
    results["contract"] = contract.contents[0].text
    return results


def _draft(materialized) -> str:
    resource = SilverQueryResource(
        snapshot_root=str(materialized.settings.snapshot_root),
        state_path=str(materialized.settings.state_path),
        audit_root=str(materialized.settings.audit_root),
    )
    payload = resource.query({"tickers": ["SPY"], "metrics": ["PCR"]})
    anchor = payload["citation_contract"]["pcr_volume"]["preferred_anchor"]
    return f"PCR was {payload['values']['pcr_volume']} [Silver: {anchor}]. Another 1.5 is uncited."


def _keyed_draft(draft: str) -> tuple[str, dict]:
    """The draft's PCR cited by its unprefixed value key, and a payload to resolve it in."""
    value = draft.split()[2]
    return f"PCR was {value} [pcr_volume].", {
        "citation_contract": {
            "pcr_volume": {"preferred_anchor": draft.split("[Silver: ")[1].split("]")[0]}
        }
    }


def _check_against_python_api(results, materialized, use_settings, draft) -> None:
    assert set(results["tools"]) == TOOLS
    for tool in results["tools"].values():
        assert tool.inputSchema["type"] == "object", tool.name
        assert tool.outputSchema, tool.name
        assert tool.annotations.readOnlyHint
    use_settings(materialized.settings)
    expected = SilverQueryResource().query({**REQUEST, "time_window": "past_week"})
    got = results["query_metrics"]
    for payload in (expected, got):
        payload.pop("latency_ms")
    assert got == expected
    assert results["list_metrics"] == {"result": list_metrics()}
    assert results["verify_claims"] == verify_claims(draft, materialized.settings)
    assert results["verify_claims"]["counts"] == {"VERIFIED": 1, "UNCITED": 1}
    keyed, context = _keyed_draft(draft)
    assert results["verify_in_context"] == verify_claims(keyed, materialized.settings, context)
    assert results["verify_in_context"]["counts"] == {"VERIFIED": 1}
    assert results["bad_context"].isError
    assert "citation_contract" in results["bad_context"].content[0].text
    assert verify_claims(keyed, materialized.settings)["counts"] == {"UNKNOWN_ANCHOR": 1}
    assert results["data_status"] == data_status(materialized.settings).model_dump(mode="json")
    for name in ("query_metrics", "list_metrics", "verify_claims", "data_status"):
        jsonschema.validate(results[name], results["tools"][name].outputSchema)
    assert results["invalid"].isError
    assert "outside the supported" in results["invalid"].content[0].text
    assert results["too_long"].isError
    assert results["wrong_type"].isError
    assert "Input should be a valid list" in results["wrong_type"].content[0].text
    assert results["resources"] == {"silver://contract", "silver://catalogue"}
    assert results["contract"] == CONTRACT_DOCUMENT.read_text(encoding="utf-8")


def test_stdio_session(materialized, env, use_settings) -> None:
    draft = _draft(materialized)

    async def run() -> dict:
        parameters = StdioServerParameters(command=CLI, args=["mcp"], env=env, cwd=PROJECT_ROOT)
        async with stdio_client(parameters) as (read, write), ClientSession(read, write) as s:
            return await _exercise(s, draft)

    _check_against_python_api(asyncio.run(run()), materialized, use_settings, draft)


async def _http_session(url: str, draft: str, headers: dict | None = None) -> dict:
    async with (
        httpx.AsyncClient(headers=headers, timeout=60) as http,
        streamable_http_client(url, http_client=http) as (read, write, _),
        ClientSession(read, write) as session,
    ):
        return await _exercise(session, draft)


def test_http_session_on_loopback(materialized, env, use_settings) -> None:
    draft = _draft(materialized)
    with http_server(env) as served:
        url = served.url
        results = asyncio.run(_http_session(url, draft))
        # A second session, closed like the first: the end of a session is no error.
        asyncio.run(_http_session(url, draft))
        oversized = requests.post(url, data=b"x" * (MAX_BODY_BYTES + 1), timeout=30)
        # DNS rebinding: a page on another site cannot reach the loopback server by its name.
        rebound = requests.post(url, json={}, headers={"Host": "evil.example:80"}, timeout=30)
    _check_against_python_api(results, materialized, use_settings, draft)
    assert oversized.status_code == 413
    assert rebound.status_code == 421
    assert "Traceback" not in served.stderr, served.stderr
    assert f"at {url} (loopback only, no token)" in served.stderr


def test_http_token_is_enforced(materialized, env) -> None:
    draft = _draft(materialized)
    with http_server({**env, TOKEN_VARIABLE: "s3cret"}) as served:
        url = served.url
        refused = requests.post(url, json={}, timeout=30)
        wrong = requests.post(url, json={}, headers={"Authorization": "Bearer nope"}, timeout=30)
        bare = requests.post(url, json={}, headers={"Authorization": "s3cret"}, timeout=30)
        results = asyncio.run(_http_session(url, draft, {"Authorization": "Bearer s3cret"}))
        # The scheme is case-insensitive (RFC 7235).
        lower = asyncio.run(_http_session(url, draft, {"Authorization": "bearer s3cret"}))
    assert (refused.status_code, wrong.status_code, bare.status_code) == (401, 401, 401)
    assert set(lower["tools"]) == TOOLS
    assert "bearer token" in refused.json()["error"]
    assert set(results["tools"]) == TOOLS
    assert f"at {url} (bearer token required)" in served.stderr


def test_http_refuses_a_public_host_without_token(env) -> None:
    done = subprocess.run(
        [CLI, "mcp", "--http", "--host", "0.0.0.0", "--port", str(_free_port())],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "refusing to serve on 0.0.0.0" in done.stderr
    # A token of whitespace only is no token: it would let "Bearer " with nothing through.
    with pytest.raises(RefusedToServe, match="without a token"):
        http_app("0.0.0.0", _free_port(), "  \n")
    with pytest.raises(ValueError, match="must not be empty"):
        BearerToken(http_app("127.0.0.1", _free_port(), None), " ")
    assert TOKEN_VARIABLE in done.stderr


def test_tools_hand_on_their_ready_results(materialized, monkeypatch) -> None:
    """Each tool's answer is built from its output model; the server passes it on without a
    second model check (the costly part on a 60 KB payload), and it matches the advertised
    output schema."""
    draft = _draft(materialized)
    server = build_server(lambda: materialized.settings)
    outputs = (QueryPayload, MetricCatalogue, VerifyResult, DataStatus)

    def checked_again(cls, *args, **kwargs):
        raise AssertionError(f"{cls.__name__} was checked again")

    for model in outputs:
        monkeypatch.setattr(model, "model_validate", classmethod(checked_again))
    calls = {
        "query_metrics": {**REQUEST, "time_window": "past_week"},
        "list_metrics": {},
        "verify_claims": {"text": draft},
        "data_status": {},
    }

    async def run() -> dict:
        schemas = {t.name: t.outputSchema for t in await server.list_tools()}
        return {
            name: (await server.call_tool(name, args), schemas[name])
            for name, args in calls.items()
        }

    results = asyncio.run(run())
    monkeypatch.undo()
    for (name, (result, schema)), model in zip(results.items(), outputs, strict=True):
        assert isinstance(result, CallToolResult), name
        jsonschema.validate(result.structuredContent, schema)
        assert schema == model.model_json_schema(), name
        model.model_validate(result.structuredContent)
        assert json.loads(result.content[0].text) == result.structuredContent, name
