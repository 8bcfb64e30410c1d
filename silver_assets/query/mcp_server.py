"""The MCP server: silver-assets as a tool agents plug in (official ``mcp`` SDK, FastMCP).

Tools: ``query_metrics``, ``list_metrics``, ``verify_claims`` and ``data_status``, each with a
typed input and output schema (the pydantic models of the payload, catalogue, claim checker and
status). Each tool builds its answer with those models and hands the SDK a ready
``CallToolResult`` (:func:`structured_result`), which :class:`PrebuiltResultsMCP` passes on as it
is: FastMCP would otherwise check it against the model once more (about 0.3 ms on the 60 KB
query payload), and a plain model return would also be checked against the output JSON Schema
with ``jsonschema``, which cost more than the query itself. The tests check real answers against
the advertised output schemas. Resources: the data contract document and the catalogue. Every
tool only reads the snapshots and the state file; none writes the lake, the snapshots or the
Dagster instance.

Over HTTP (streamable HTTP at ``/mcp``) the server binds to loopback unless a bearer token is
configured (``SILVER_MCP_TOKEN``); with a token, every request must carry
``Authorization: Bearer <token>``. Request bodies are capped at :data:`MAX_BODY_BYTES`.
"""

from __future__ import annotations

import hmac
import ipaddress
import json
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Sequence
from typing import Annotated, Any

import anyio
from mcp.server.fastmcp import FastMCP
from mcp.server.transport_security import TransportSecuritySettings
from mcp.types import CallToolResult, ContentBlock, TextContent, ToolAnnotations
from pydantic import BaseModel, Field
from pydantic_core import to_json

from silver_assets.query.answer import answer_query
from silver_assets.query.catalogue import MetricInfo, metric_infos
from silver_assets.query.claims import MAX_TEXT_CHARS, CitationContext, VerifyResult
from silver_assets.query.claims import verify_claims as check_claims
from silver_assets.query.data_status import DataStatus
from silver_assets.query.data_status import data_status as read_data_status
from silver_assets.query.payload import QueryPayload
from silver_assets.settings import PROJECT_ROOT, Settings, current_settings

TOKEN_VARIABLE = "SILVER_MCP_TOKEN"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765
# A tool call's JSON; verify text is bounded separately (MAX_TEXT_CHARS) inside it.
MAX_BODY_BYTES = 1_000_000
CONTRACT_DOCUMENT = PROJECT_ROOT / "docs" / "contract.md"

_READ_ONLY = ToolAnnotations(readOnlyHint=True, destructiveHint=False, openWorldHint=False)
_INSTRUCTIONS = (
    "Cited option, macro and GPR metrics from materialized Silver snapshots. Call list_metrics "
    "for the metric names, query_metrics for values with lineage anchors, then cite each number "
    "as [Silver: ANCHOR] and check the draft with verify_claims."
)


def is_loopback(host: str) -> bool:
    """Whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def structured_result(content: dict[str, Any]) -> CallToolResult:
    """A tool result: ``content`` (JSON-ready) as structured content and as compact JSON text
    (pydantic's serializer writes it in a third of the time of ``json.dumps``)."""
    return CallToolResult(
        content=[TextContent(type="text", text=to_json(content).decode())],
        structuredContent=content,
    )


class MetricCatalogue(BaseModel):
    """The ``list_metrics`` answer: the catalogue rows under ``result``, the wrapping FastMCP
    gives a tool returning a list."""

    result: list[MetricInfo]


class PrebuiltResultsMCP(FastMCP):
    """FastMCP for tools that return a ``CallToolResult`` built from their output model.

    FastMCP still validates each call's arguments against the input model, and still publishes
    the output model's schema; it only skips checking a ready result against that model again.
    Any other result is converted as FastMCP does.
    """

    async def call_tool(
        self, name: str, arguments: dict[str, Any]
    ) -> Sequence[ContentBlock] | dict[str, Any]:
        """Run the tool with validated arguments; pass a ready ``CallToolResult`` on as it is."""
        # FastMCP's own call_tool, with the conversion deferred (a protected API of mcp 1.x,
        # which the tests exercise on every tool).
        result = await self._tool_manager.call_tool(
            name, arguments, context=self.get_context(), convert_result=False
        )
        if isinstance(result, CallToolResult):
            return result  # type: ignore[return-value]  # the low-level server takes it as is
        tool = self._tool_manager.get_tool(name)
        return tool.fn_metadata.convert_result(result) if tool else result


def build_server(
    settings: Callable[[], Settings] = current_settings,
    host: str = DEFAULT_HOST,
    port: int = DEFAULT_PORT,
) -> FastMCP:
    """The FastMCP server; ``settings`` is called per tool call, so a moved root is seen (the
    default rebuilds them only when their environment variables change)."""
    server = PrebuiltResultsMCP(
        "silver-assets",
        instructions=_INSTRUCTIONS,
        host=host,
        port=port,
        max_request_body_size=MAX_BODY_BYTES,
        # One JSON body per call: an SSE stream per request cost about 9 ms more, and no tool
        # sends progress notifications.
        json_response=True,
        # One INFO line per request on stderr costs more than a query; keep warnings.
        log_level="WARNING",
        # Host-header checks guard a loopback server against DNS rebinding; elsewhere the
        # bearer token guards it.
        transport_security=TransportSecuritySettings(
            enable_dns_rebinding_protection=is_loopback(host),
            allowed_hosts=[f"{h}:*" for h in ("127.0.0.1", "localhost", "[::1]")],
            allowed_origins=[f"http://{h}:*" for h in ("127.0.0.1", "localhost", "[::1]")],
        ),
    )

    @server.tool(annotations=_READ_ONLY)
    def query_metrics(
        tickers: list[str],
        metrics: list[str],
        time_window: str | None = None,
        as_of: Annotated[str | None, Field(description="YYYY-MM-DD, a past date")] = None,
    ) -> Annotated[CallToolResult, QueryPayload]:
        """Values, lineage anchors and citations for tickers and metric names (see
        list_metrics); status says what was not answered and where the numbers come from."""
        request = {"tickers": tickers, "metrics": metrics, "time_window": time_window}
        return structured_result(answer_query(settings(), request, as_of=as_of))

    @server.tool(annotations=_READ_ONLY)
    def list_metrics() -> Annotated[CallToolResult, MetricCatalogue]:
        """The metric catalogue: names, aliases, families, value keys with units."""
        return structured_result(MetricCatalogue(result=metric_infos()).model_dump(mode="json"))

    @server.tool(annotations=_READ_ONLY)
    def verify_claims(
        text: Annotated[str, Field(max_length=MAX_TEXT_CHARS, description="the drafted answer")],
        context: Annotated[
            CitationContext | None,
            Field(
                description="the query_metrics answer the draft was written from: value keys "
                "cited without a ticker prefix, such as [pcr_volume], resolve through its "
                "citation contract"
            ),
        ] = None,
    ) -> Annotated[CallToolResult, VerifyResult]:
        """Check every cited number of a drafted answer against the snapshots: VERIFIED,
        MISMATCH, UNIT_ERROR, STALE_ANCHOR, UNKNOWN_ANCHOR, or UNCITED."""
        return structured_result(check_claims(text, settings(), context))

    @server.tool(annotations=_READ_ONLY)
    def data_status() -> Annotated[CallToolResult, DataStatus]:
        """Per dataset: state anchor, newest materialized partition, staleness, data origin."""
        return structured_result(read_data_status(settings()).model_dump(mode="json"))

    @server.resource(
        "silver://contract",
        name="data-contract",
        mime_type="text/markdown",
        description="What the snapshots hold, the anchors and units, and how to cite them",
    )
    def contract() -> str:
        return CONTRACT_DOCUMENT.read_text(encoding="utf-8")

    @server.resource(
        "silver://catalogue",
        name="metric-catalogue",
        mime_type="application/json",
        description="The metric catalogue (the list_metrics tool's answer)",
    )
    def catalogue() -> str:
        return json.dumps([m.model_dump() for m in metric_infos()], indent=2)

    return server


ASGIApp = Callable[
    [dict[str, Any], Callable[[], Awaitable[Any]], Callable[..., Awaitable[Any]]], Awaitable[None]
]


class BearerToken:
    """ASGI middleware: every HTTP request needs ``Authorization: Bearer <token>``."""

    def __init__(self, app: ASGIApp, token: str) -> None:
        if not token.strip():
            raise ValueError("a bearer token must not be empty")
        self.app = app
        self.expected = token.strip().encode()

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http":
            given = dict(scope.get("headers") or []).get(b"authorization", b"")
            scheme, _, credentials = given.strip().partition(b" ")
            # The scheme is case-insensitive (RFC 7235); the token is compared in constant time.
            if scheme.lower() != b"bearer" or not hmac.compare_digest(
                credentials.strip(), self.expected
            ):
                body = b'{"error": "missing or wrong bearer token (Authorization: Bearer ...)"}'
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"content-type", b"application/json"),
                            (b"www-authenticate", b"Bearer"),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


class RefusedToServe(ValueError):
    """The HTTP server would be reachable from other machines without a token."""


def http_app(host: str, port: int, token: str | None) -> ASGIApp:
    """The streamable-HTTP ASGI app at ``/mcp``, behind the bearer check when a token is set.

    Raises :class:`RefusedToServe` for a non-loopback host without a token; a token of
    whitespace only is no token.
    """
    token = token.strip() if token else None
    if not is_loopback(host) and not token:
        raise RefusedToServe(
            f"refusing to serve on {host}, which other machines can reach, without a token: "
            f"set {TOKEN_VARIABLE} (clients then send Authorization: Bearer <token>)"
        )
    app = build_server(host=host, port=port).streamable_http_app()
    return BearerToken(app, token) if token else app


class SessionEndFilter(logging.Filter):
    """Drops the SDK's error record for a session's event stream that its client closed.

    mcp 1.x logs that normal end of every session as an error with a traceback ("Error in
    standalone SSE writer", ``anyio.ClosedResourceError``); any other error still shows.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        closed = record.exc_info is not None and isinstance(
            record.exc_info[1], anyio.ClosedResourceError
        )
        return not (closed and record.getMessage() == "Error in standalone SSE writer")


def serve_http(host: str, port: int) -> None:
    """Serve streamable HTTP until interrupted."""
    import uvicorn

    logging.getLogger("mcp.server.streamable_http").addFilter(SessionEndFilter())
    token = os.environ.get(TOKEN_VARIABLE) or None
    app = http_app(host, port, token)
    shown = f"[{host}]" if ":" in host else host
    guard = "bearer token required" if isinstance(app, BearerToken) else "loopback only, no token"
    # uvicorn's own start-up lines are INFO, which the warning level hides.
    print(f"MCP over streamable HTTP at http://{shown}:{port}/mcp ({guard})", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="warning")


def serve_stdio() -> None:
    """Serve over stdin/stdout until the client closes them."""
    build_server().run("stdio")
