"""`creditlink bench`: the Wenzhou scale-and-speed benchmark (see bench/README.md)."""
