"""The agent bench's CPU reading of the server process (the wall-clock figures are covered by the
tiny-lake run in test_benchmark.py)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

from silver_assets.agents_benchmark import process_cpu_seconds


def test_process_cpu_seconds_counts_a_process_cpu_time() -> None:
    began = process_cpu_seconds(os.getpid())
    busy_until = time.process_time() + 0.3
    while time.process_time() < busy_until:
        pass
    ended = process_cpu_seconds(os.getpid())
    assert began is not None
    assert ended is not None
    # /proc counts in clock ticks (10 ms here); the loop burnt 300 ms.
    assert 0.25 <= ended - began < 5


def test_process_cpu_seconds_of_a_gone_process_is_none() -> None:
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    assert process_cpu_seconds(gone.pid) is None
