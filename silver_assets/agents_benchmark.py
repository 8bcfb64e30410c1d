"""Agent-facing timings for ``silver-assets bench``: MCP ``query_metrics`` over HTTP next to the
in-process query, and ``verify_claims`` on a 50-claim answer.

The MCP server runs as a separate ``silver-assets mcp --http`` process on 127.0.0.1 over the
bench's snapshots. Three clients keep one warm session each:

- the official SDK client (``mcp.ClientSession``), which checks every structured answer against
  the tool's output schema with the pure-Python ``jsonschema`` package;
- a plain JSON-RPC client, which does what an MCP client must (session header, JSON-RPC
  envelope) and no schema check, over ``aiohttp``: its figure is the server and the transport,
  with as little client as Python gives;
- the same plain client over ``httpx``, the SDK's HTTP library, which costs about 1 ms more
  CPU per request than ``aiohttp`` (encode/httpx#3215).

Each round times the in-process query, the clients, a JSON-RPC ``ping`` (the bare round trip:
what the machine charges for one request between two processes, which moves with its state far
more than the in-process query does) and ``verify_claims`` one after the other, so they share
the machine's load; the figures are medians over the rounds. Beside the wall-clock
figures, the CPU time per call of the in-process query, of the plain client and of the server
process (Linux: ``/proc``) says where the round trip's work goes; on a shared machine it moves
far less with the load than the wall clock does.
"""

from __future__ import annotations

import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from mcp import ClientSession
from mcp.client.streamable_http import streamable_http_client

from silver_assets.query.answer import answer_query
from silver_assets.query.claims import verify_claims
from silver_assets.settings import Settings
from silver_assets.timing import percentile

CLI = str(Path(sys.executable).parent / "silver-assets")
MS = 1000.0
CLAIMS = 50


def fifty_claim_answer(payload: Mapping[str, Any]) -> str:
    """A drafted answer of 50 cited numeric sentences, drawn from a real payload's values."""
    sentences = []
    for key, value in payload["values"].items():
        if isinstance(value, int | float) or (isinstance(value, str) and "%" in value):
            anchor = payload["citation_contract"][key]["preferred_anchor"]
            sentences.append(f"The {key} was {value} [Silver: {anchor}].")
    if not sentences:
        raise ValueError("the payload has no numeric value to cite")
    return " ".join((sentences * (CLAIMS // len(sentences) + 1))[:CLAIMS])


class JsonRpcClient(ABC):
    """A minimal MCP client over streamable HTTP: initialize once, then call tools. Subclasses
    send the POSTs with one HTTP library each."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session_id: str | None = None
        self.next_id = 0

    @abstractmethod
    async def _send(
        self, message: dict[str, Any], headers: dict[str, str]
    ) -> tuple[str | None, bytes]:
        """POST ``message``; the response's session id header (or None) and body."""

    @abstractmethod
    async def aclose(self) -> None:
        """Close the connection."""

    async def _post(self, method: str, params: dict[str, Any], notify: bool = False) -> Any:
        message: dict[str, Any] = {"jsonrpc": "2.0", "method": method, "params": params}
        if not notify:
            self.next_id += 1
            message["id"] = self.next_id
        headers = {"Accept": "application/json, text/event-stream"}
        if self.session_id:
            headers["mcp-session-id"] = self.session_id
        session_id, body = await self._send(message, headers)
        self.session_id = session_id or self.session_id
        return None if notify else json.loads(body)["result"]

    async def initialize(self) -> None:
        client = {"name": "silver-assets-bench", "version": "1"}
        params = {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": client}
        await self._post("initialize", params)
        await self._post("notifications/initialized", {}, notify=True)

    async def ping(self) -> None:
        await self._post("ping", {})

    async def call_tool(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        result = await self._post("tools/call", {"name": name, "arguments": arguments})
        if result.get("isError"):
            raise RuntimeError(f"{name} failed: {result['content']}")
        return result["structuredContent"]


class AiohttpJsonRpcClient(JsonRpcClient):
    """The plain client over ``aiohttp``."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.http: aiohttp.ClientSession | None = None

    async def _send(
        self, message: dict[str, Any], headers: dict[str, str]
    ) -> tuple[str | None, bytes]:
        # Made on first use: an aiohttp session belongs to the running event loop.
        self.http = self.http or aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        async with self.http.post(self.url, json=message, headers=headers) as response:
            response.raise_for_status()
            return response.headers.get("mcp-session-id"), await response.read()

    async def aclose(self) -> None:
        if self.http is not None:
            await self.http.close()


class HttpxJsonRpcClient(JsonRpcClient):
    """The plain client over ``httpx``, the HTTP library of the SDK's own client."""

    def __init__(self, url: str) -> None:
        super().__init__(url)
        self.http = httpx.AsyncClient(timeout=30)

    async def _send(
        self, message: dict[str, Any], headers: dict[str, str]
    ) -> tuple[str | None, bytes]:
        response = await self.http.post(self.url, json=message, headers=headers)
        response.raise_for_status()
        return response.headers.get("mcp-session-id"), response.content

    async def aclose(self) -> None:
        await self.http.aclose()


def process_cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time of process ``pid`` so far (Linux ``/proc``; None elsewhere)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The fields after the command name, which is in parentheses and may hold spaces.
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Timing:
    """Wall-clock seconds of each call, and CPU milliseconds per call of this thread and of the
    server process (None without ``/proc``)."""

    times: list[float]
    cpu_ms: float
    server_cpu_ms: float | None = None


async def _timed(
    call: Callable[[], Awaitable[Any]], calls: int, server: int | None = None
) -> Timing:
    for _ in range(min(20, calls)):  # warm the session and the snapshot cache
        await call()
    times = []
    server_began = None if server is None else process_cpu_seconds(server)
    cpu_began = time.thread_time()
    for _ in range(calls):
        began = time.perf_counter()
        await call()
        times.append(time.perf_counter() - began)
    cpu_ms = (time.thread_time() - cpu_began) / calls * MS
    server_ended = None if server is None else process_cpu_seconds(server)
    if server_began is None or server_ended is None:
        return Timing(times, cpu_ms)
    return Timing(times, cpu_ms, (server_ended - server_began) / calls * MS)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _wait_for(port: int, server: subprocess.Popen[bytes], seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the MCP server exited with code {server.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"the MCP server did not listen on 127.0.0.1:{port} within {seconds} s")


async def _rounds(
    url: str, server: int, settings: Settings, request: dict[str, Any], calls: int, rounds: int
) -> list[dict[str, float]]:
    async def in_process() -> None:
        answer_query(settings, dict(request))

    draft = fifty_claim_answer(answer_query(settings, dict(request)))
    verdicts = verify_claims(draft, settings)
    if len(verdicts["claims"]) != CLAIMS or not verdicts["all_verified"]:
        raise RuntimeError(f"the 50-claim draft does not verify: {verdicts['counts']}")

    async def verify() -> None:
        verify_claims(draft, settings)

    plain = AiohttpJsonRpcClient(url)
    over_httpx = HttpxJsonRpcClient(url)
    results = []
    try:
        await plain.initialize()
        await over_httpx.initialize()
        async with (
            streamable_http_client(url) as (read, write, _),
            ClientSession(read, write) as session,
        ):
            await session.initialize()

            async def sdk() -> None:
                result = await session.call_tool("query_metrics", request)
                if result.isError:
                    raise RuntimeError(f"query_metrics failed: {result.content}")

            for _ in range(rounds):
                here = await _timed(in_process, calls)
                over_sdk = await _timed(sdk, calls)
                over_plain = await _timed(
                    lambda: plain.call_tool("query_metrics", request), calls, server
                )
                over_hx = await _timed(
                    lambda: over_httpx.call_tool("query_metrics", request), calls
                )
                pings = await _timed(plain.ping, calls)
                checks = await _timed(verify, max(10, calls // 10))
                figures = {
                    "in_process_p50_ms": statistics.median(here.times) * MS,
                    "in_process_p99_ms": percentile(here.times, 99) * MS,
                    "in_process_cpu_ms": here.cpu_ms,
                    "mcp_sdk_p50_ms": statistics.median(over_sdk.times) * MS,
                    "mcp_sdk_p99_ms": percentile(over_sdk.times, 99) * MS,
                    "mcp_jsonrpc_p50_ms": statistics.median(over_plain.times) * MS,
                    "mcp_jsonrpc_p99_ms": percentile(over_plain.times, 99) * MS,
                    "mcp_jsonrpc_client_cpu_ms": over_plain.cpu_ms,
                    "mcp_httpx_p50_ms": statistics.median(over_hx.times) * MS,
                    "mcp_httpx_p99_ms": percentile(over_hx.times, 99) * MS,
                    "mcp_httpx_client_cpu_ms": over_hx.cpu_ms,
                    "mcp_ping_p50_ms": statistics.median(pings.times) * MS,
                    "verify_50_claims_ms": statistics.median(checks.times) * MS,
                }
                if over_plain.server_cpu_ms is not None:
                    figures["mcp_server_cpu_ms"] = over_plain.server_cpu_ms
                results.append(figures)
    finally:
        await plain.aclose()
        await over_httpx.aclose()
    return results


def measure_agents(
    settings: Settings, request: dict[str, Any], calls: int = 200, rounds: int = 3
) -> dict[str, float]:
    """Medians over ``rounds`` of each figure, against an MCP server on these settings."""
    port = _free_port()
    server = subprocess.Popen(
        [CLI, "mcp", "--http", "--port", str(port)],
        env={**os.environ, **settings.environment()},
        stderr=subprocess.DEVNULL,
    )
    try:
        _wait_for(port, server)
        figures = asyncio.run(
            _rounds(f"http://127.0.0.1:{port}/mcp", server.pid, settings, request, calls, rounds)
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    medians = {key: statistics.median(r[key] for r in figures) for key in figures[0]}
    medians["mcp_jsonrpc_over_in_process_ms"] = (
        medians["mcp_jsonrpc_p50_ms"] - medians["in_process_p50_ms"]
    )
    medians["mcp_httpx_over_in_process_ms"] = (
        medians["mcp_httpx_p50_ms"] - medians["in_process_p50_ms"]
    )
    medians["mcp_sdk_over_in_process_ms"] = medians["mcp_sdk_p50_ms"] - medians["in_process_p50_ms"]
    if "mcp_server_cpu_ms" in medians:
        # The CPU a plain round trip costs, both processes together, beyond the query itself.
        medians["mcp_jsonrpc_cpu_over_in_process_ms"] = (
            medians["mcp_server_cpu_ms"]
            + medians["mcp_jsonrpc_client_cpu_ms"]
            - medians["in_process_cpu_ms"]
        )
    return medians
