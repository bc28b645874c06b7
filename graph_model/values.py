"""Conversions between driver values and plain Python values."""

from __future__ import annotations

from typing import Any

from neo4j.time import Date as Neo4jDate
from neo4j.time import DateTime as Neo4jDateTime


def native(value: Any) -> Any:
    """Driver temporal values to `datetime` ones, recursively through dicts and lists."""
    if isinstance(value, Neo4jDateTime | Neo4jDate):
        return value.to_native()
    if isinstance(value, dict):
        return {k: native(v) for k, v in value.items()}
    if isinstance(value, list):
        return [native(v) for v in value]
    return value
