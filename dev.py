#!/usr/bin/env python3
"""Set up and run silver-assets with nothing but Python 3.11+.

    python3 dev.py demo    # build the demo lake, materialize everything, answer a sample query
    python3 dev.py test    # lint, type-check and run the whole test suite
    python3 dev.py run -- silver-assets query --tickers SPY --metrics "Put/Call Ratio"
    python3 dev.py golden [--update]   # compare (or rewrite, showing the diff) the golden answers
    python3 dev.py mutate [MODULE...]  # mutation score of the pure modules (slow; not in CI)

Each command creates the project's virtualenv in .venv on first use and reinstalls it only
when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
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
    env["VIRTUAL_ENV"] = str(VENV)  # as if activated: dg checks it matches the project's
    return subprocess.run(list(command), cwd=ROOT, env=env).returncode


# Each pure module, mutated by mutmut, against its own fast test files only.
MUTATION_TARGETS: dict[str, tuple[str, ...]] = {
    "metrics/sql.py": ("metrics/test_sql.py", "metrics/test_sql_hand.py"),
    "metrics/families.py": (
        "metrics/test_families.py",
        "metrics/test_family_answers.py",
        "metrics/test_sql.py",
    ),
    "metrics/liquidity.py": ("metrics/test_families.py",),
    "query/routing.py": ("query/test_routing.py",),
    "query/time_windows.py": ("query/test_time_windows.py",),
    "query/citations.py": ("query/test_citations.py",),
    "snapshots.py": ("test_snapshots.py", "test_storage.py"),
    "automation/freshness.py": ("automation/test_freshness.py",),
}
MUTATION_DIR = ROOT / ".mutation"


def mutate(modules: list[str]) -> int:
    """Run mutmut over each module in a scratch copy of the project; print score and survivors.

    Each module gets its own copy under .mutation/ (mutmut writes its mutants/ beside its
    config), mutated alone and tested by its own test files, one mutant at a time at low
    priority: the machine is shared.
    """
    unknown = [m for m in modules if m not in MUTATION_TARGETS]
    if unknown:
        print(f"unknown module(s) {unknown}; choose from {sorted(MUTATION_TARGETS)}")
        return 2
    scores = {}
    for module in modules or list(MUTATION_TARGETS):
        tests = [
            f"silver_assets_tests/{t}"
            for t in MUTATION_TARGETS[module]
            if (ROOT / "silver_assets_tests" / t).exists()
        ]
        work = MUTATION_DIR / module.replace("/", "_").removesuffix(".py")
        shutil.rmtree(work, ignore_errors=True)
        for folder in ("silver_assets", "silver_assets_tests", "config"):
            shutil.copytree(
                ROOT / folder, work / folder, ignore=shutil.ignore_patterns("__pycache__")
            )
        # README.md too: the routing tests check the catalogue it lists.
        for name in ("pyproject.toml", "README.md"):
            shutil.copy(ROOT / name, work / name)
        (work / "setup.cfg").write_text(
            "[mutmut]\nsource_paths = silver_assets\n"
            f"only_mutate = silver_assets/{module}\n"
            "also_copy =\n    silver_assets_tests\n    config\n    README.md\n"
            "pytest_add_cli_args_test_selection =\n" + "".join(f"    {t}\n" for t in tests)
        )
        print(f"== mutating silver_assets/{module} against {' '.join(tests)}", flush=True)
        mutmut = [str(BIN / "mutmut")]
        run_in = {
            "cwd": work,
            "env": {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"},
        }
        ran = subprocess.run(["nice", "-n", "10", *mutmut, "run", "--max-children", "1"], **run_in)
        if ran.returncode:
            print(f"== {module}: mutmut failed (exit {ran.returncode}); see the output above")
            scores[module] = (0, 0, 0.0)
            continue
        listing = subprocess.run(
            [*mutmut, "results", "--all", "true"], capture_output=True, text=True, **run_in
        ).stdout
        statuses = dict(re.findall(r"^\s+(\S+): (.+)$", listing, re.MULTILINE))
        survivors = [
            name for name, status in statuses.items() if status not in ("killed", "timeout")
        ]
        killed = len(statuses) - len(survivors)
        score = 100.0 * killed / len(statuses) if statuses else 0.0
        scores[module] = (killed, len(statuses), score)
        for name in survivors:
            shown = subprocess.run(
                [*mutmut, "show", name], capture_output=True, text=True, **run_in
            )
            print(shown.stdout.rstrip())
        print(f"== {module}: {killed}/{len(statuses)} mutants killed ({score:.1f}%)", flush=True)
    print("\nmodule                     killed/total  score")
    for module, (killed, total, score) in scores.items():
        print(f"{module:<26} {killed:>6}/{total:<5}  {score:5.1f}%")
    return 0


def main(argv: list[str]) -> int:
    task = argv[0] if argv else "help"
    if task not in {"demo", "test", "run", "golden", "mutate"}:
        print(__doc__)
        return 0 if task == "help" else 2
    ensure_venv()
    if task == "demo":
        return run("silver-assets", "demo", *argv[1:])
    if task == "mutate":
        return mutate(argv[1:])
    if task == "golden":
        return run("python", "-m", "silver_assets_tests.golden", *argv[1:])
    if task == "test":
        lint = (("ruff", "check", "."), ("ruff", "format", "--check", "."), ("mypy",))
        for step in lint:
            if run(*step):
                return 1
        # Two workers: most of the suite waits on subprocesses (CLI, dagster dev, PostgreSQL).
        return run("python", "-m", "pytest", "-n", "2", "--dist", "worksteal", *argv[1:])
    rest = argv[1:]
    return run(*(rest[1:] if rest[:1] == ["--"] else rest))


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
