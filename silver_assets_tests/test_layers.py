"""Layers point down: the pure modules (lake, contracts, SQL, families, routing, citations, the
payload) reach no Dagster code, directly or through another module of the package.

Read from the source (imports inside functions included), not from ``sys.modules``: the package
root imports Dagster for its public resource, so any import at run time would load it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "silver_assets"

PURE = (
    "silver_assets.registry",
    "silver_assets.tickers",
    "silver_assets.durable",
    "silver_assets.storage",
    "silver_assets.snapshots",
    "silver_assets.anchors",
    "silver_assets.settings",
    "silver_assets.audit",
    "silver_assets.lake.files",
    "silver_assets.lake.layout",
    "silver_assets.lake.origin",
    "silver_assets.lake.generator",
    "silver_assets.checks.contracts",
    "silver_assets.sources.versions",
    "silver_assets.metrics.sql",
    "silver_assets.metrics.compute",
    "silver_assets.metrics.families",
    "silver_assets.metrics.liquidity",
    "silver_assets.query.routing",
    "silver_assets.query.time_windows",
    "silver_assets.query.citations",
    "silver_assets.query.catalogue",
    "silver_assets.query.claims",
    "silver_assets.query.payload",
    "silver_assets.query.models",
    "silver_assets.query.answer",
    "silver_assets.query.data_status",
)


def _path(module: str) -> Path:
    parts = module.split(".")[1:]
    file = PACKAGE.joinpath(*parts).with_suffix(".py")
    return file if file.exists() else PACKAGE.joinpath(*parts, "__init__.py")


@cache
def _imports(module: str) -> frozenset[str]:
    """Every module ``module`` imports, anywhere in its source."""
    names = set()
    for node in ast.walk(ast.parse(_path(module).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            names.add(node.module)
            if node.module.startswith("silver_assets"):
                # ``from silver_assets.metrics import sql`` imports the module sql.
                submodules = (f"{node.module}.{alias.name}" for alias in node.names)
                names |= {name for name in submodules if _path(name).exists()}
    return frozenset(names)


def _reaches_dagster(module: str, seen: tuple[str, ...] = ()) -> tuple[str, ...] | None:
    """The import chain from ``module`` to Dagster, or None."""
    chain = (*seen, module)
    for name in sorted(_imports(module)):
        if name.split(".")[0] == "dagster" or name.startswith("dagster_"):
            return (*chain, name)
        if name.startswith("silver_assets.") and name not in chain and _path(name).exists():
            found = _reaches_dagster(name, chain)
            if found:
                return found
    return None


@pytest.mark.parametrize("module", PURE)
def test_pure_module_reaches_no_dagster_code(module: str) -> None:
    assert _path(module).exists(), module
    chain = _reaches_dagster(module)
    assert chain is None, " -> ".join(chain or ())


def test_the_check_sees_dagster_wiring() -> None:
    chain = _reaches_dagster("silver_assets.definitions")
    assert chain is not None
    assert chain[-1].startswith("dagster")
