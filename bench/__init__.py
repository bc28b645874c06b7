"""The scale-and-speed benchmark, beside the product (bench/README.md).

`python -m bench` runs the harness (`bench.harness.run`); the scripts in this folder each
measure one thing. Nothing in the product imports this package.
"""
