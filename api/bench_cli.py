"""`creditlink bench`: runs the benchmark harness in bench/harness (see bench/README.md).

The harness lives in the checkout, not in the installed package, so it is run as
`python -m bench.harness` from the project root with this interpreter.
"""

from __future__ import annotations

import subprocess
import sys

from api.settings import PROJECT_ROOT


def main_bench(argv: list[str]) -> int:
    if not (PROJECT_ROOT / "bench" / "harness" / "run.py").exists():
        print("creditlink bench: bench/harness is not in this checkout", file=sys.stderr)
        return 2
    return subprocess.call([sys.executable, "-m", "bench.harness", *argv], cwd=PROJECT_ROOT)
