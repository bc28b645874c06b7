"""Run without neo4j-rust-ext, exactly as if it were not installed.

The driver imports `neo4j._rust` inside `try/except ImportError` and falls back to its
pure-Python packstream; a meta-path finder that refuses that one module gives the same
fallback as `pip uninstall neo4j-rust-ext`, with no second virtualenv to build.
"""

from __future__ import annotations

import importlib.abc
import sys
from typing import Any


class _RefuseRust(importlib.abc.MetaPathFinder):
    def find_spec(self, fullname: str, path: Any, target: Any = None) -> None:
        if fullname == "neo4j._rust" or fullname.startswith("neo4j._rust."):
            raise ImportError(f"{fullname} disabled for the benchmark")
        return None


def install() -> None:
    if any(isinstance(f, _RefuseRust) for f in sys.meta_path):
        return
    if any(m == "neo4j._rust" or m.startswith("neo4j._rust.") for m in sys.modules):
        raise RuntimeError("neo4j._rust is already imported; install the blocker first")
    sys.meta_path.insert(0, _RefuseRust())


def rust_active() -> bool:
    from neo4j._codec.packstream import v1

    return getattr(v1, "_rust_unpack", None) is not None
