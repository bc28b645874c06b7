"""`python -m bench`: the harness, every figure side by side in one run (bench/README.md)."""

from bench.harness.run import main

raise SystemExit(main())
