"""Compare the golden answers with freshly computed ones; ``--update`` rewrites them.

Either way the unified diff of every changed answer is printed, so a rewrite is reviewed.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import dagster as dg

from silver_assets_tests.golden import (
    build_golden_lake,
    diff,
    golden_path,
    golden_payloads,
    materialize_golden,
    render,
)


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m silver_assets_tests.golden")
    parser.add_argument("--update", action="store_true", help="rewrite the changed golden files")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="golden-") as tmp:
        print("building and materializing the golden lake (about a minute)", flush=True)
        settings = build_golden_lake(Path(tmp))
        instance = dg.DagsterInstance.ephemeral()
        materialize_golden(settings, instance)
        payloads = golden_payloads(settings, instance)
    changed = 0
    for case, payload in payloads.items():
        text = diff(case, payload)
        if not text:
            print(f"{case}: unchanged")
            continue
        changed += 1
        sys.stdout.write(text)
        if args.update:
            golden_path(case).write_text(render(payload))
            print(f"{case}: rewritten")
        else:
            print(f"{case}: DIFFERS from the stored answer")
    if changed and not args.update:
        print("review the diff above; rewrite with: python3 dev.py golden --update")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
