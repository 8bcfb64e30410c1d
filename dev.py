#!/usr/bin/env python3
"""Set up and run silver-assets with nothing but Python 3.11+.

    python3 dev.py demo    # build the demo lake, materialize everything, answer a sample query
    python3 dev.py test    # lint and run the whole test suite
    python3 dev.py run -- silver-assets query --tickers SPY --metrics "Put/Call Ratio"

Each command creates the project's virtualenv in .venv on first use and reinstalls it only
when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".pyproject.sha256"


def ensure_venv() -> None:
    if sys.version_info < (3, 11):  # noqa: UP036 - dev.py runs on whatever python3 is
        sys.exit(f"silver-assets needs Python 3.11 or newer; this is {sys.version.split()[0]}")
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == wanted:
        return
    if not (BIN / "python").exists():
        print(f"creating virtualenv {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    print("installing silver-assets and its dependencies (first run takes a minute or two)")
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True, cwd=ROOT)
    STAMP.write_text(wanted)


def run(*command: str) -> int:
    env = {**os.environ, "DAGSTER_HOME": os.environ.get("DAGSTER_HOME", str(ROOT / "dagster_home"))}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return subprocess.run(list(command), cwd=ROOT, env=env).returncode


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "help"
    if task not in {"demo", "test", "run"}:
        print(__doc__)
        return 0 if task == "help" else 2
    ensure_venv()
    if task == "demo":
        return run("silver-assets", "demo", *argv[1:])
    if task == "test":
        for step in (("ruff", "check", "."), ("ruff", "format", "--check", ".")):
            if run(*step):
                return 1
        return run("python", "-m", "pytest", *argv[1:])
    rest = argv[1:]
    return run(*(rest[1:] if rest[:1] == ["--"] else rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
