"""The API as the product serves it (`creditlink serve`), optionally without the rust ext.

    python -m bench.harness.serve [--no-rust] [--patches=a,b]

Settings come from the environment (NEO4J_URI, CREDITLINK_PORT, CREDITLINK_RECORD_CHECKS,
...), exactly as for `creditlink serve`; with NEO4J_URI set it starts no Neo4j.
`--patches` applies proposed product changes (bench/harness/patches.py) for measurement.
Both change this process only, not the worker processes uvicorn spawns afresh, so they
need `CREDITLINK_WORKERS=1`.
"""

from __future__ import annotations

import os
import sys


def main() -> int:
    args = sys.argv[1:]
    changes = [a for a in args if a == "--no-rust" or a.startswith("--patches=")]
    if changes and os.environ.get("CREDITLINK_WORKERS", "").strip() != "1":
        print(
            f"bench-serve: {' '.join(changes)} would not reach spawned workers: "
            "set CREDITLINK_WORKERS=1",
            file=sys.stderr,
        )
        return 2
    if "--no-rust" in args:
        from bench.harness import norust

        norust.install()
    from bench.harness.norust import rust_active

    applied: list[str] = []
    for arg in args:
        if arg.startswith("--patches="):
            from bench.harness import patches

            applied = patches.apply(arg.split("=", 1)[1])
    print(f"bench-serve rust={rust_active()} patches={','.join(applied) or '-'}", flush=True)
    from api.cli import main as cli_main

    return cli_main(["serve"])


if __name__ == "__main__":
    raise SystemExit(main())
