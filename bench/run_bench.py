"""Run the benchmark as a script: ``python bench/run_bench.py --days 21 63 252 --json out.json``.

The same as ``silver-assets bench``; see silver_assets/benchmark.py for what is measured.
"""

import sys

from silver_assets.cli import main

if __name__ == "__main__":
    sys.exit(main(["bench", *sys.argv[1:]]))
