"""Tunables of the related-party risk queries, with their defaults.

Each can be overridden by an environment variable read once at import (named next to
the field); values outside their range fail fast with a message naming the variable.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields

MAX_DEPTH = 3  # the deepest neighbourhood any query walks; fixed in the Cypher text too


@dataclass(frozen=True)
class RiskConfig:
    # A node with more stored links (of the relation types asked for) than this is a
    # super-node: it is listed but not expanded. CREDITLINK_RISK_DEGREE_CAP
    degree_cap: int = 200
    # At most this many nodes per neighbourhood level (smallest ids first); more sets
    # `truncated`. CREDITLINK_RISK_LEVEL_BUDGET
    level_budget: int = 5_000
    # exportNeighbourhood writes at most this many nodes. CREDITLINK_RISK_EXPORT_MAX_NODES
    export_max_nodes: int = 5_000
    # Equity penetration walks at most this many SHAREHOLDER_OF hops upward and keeps at
    # most `ownership_budget` holders. CREDITLINK_RISK_OWNERSHIP_HOPS / _BUDGET
    ownership_hops: int = 20
    ownership_budget: int = 5_000
    # BeneficialOwner.paths counts distinct simple chains up to this number.
    # CREDITLINK_RISK_PATH_COUNT_CAP
    path_count_cap: int = 1_000
    # actualController: the largest beneficial owner controls when its total share is at
    # least this (per cent). CREDITLINK_RISK_CONTROL_THRESHOLD_PCT
    control_threshold_pct: int = 25
    # suspectedLinks and the risk profile read at most this many subjects per shared
    # contact. CREDITLINK_RISK_SUSPECT_LIMIT
    suspect_limit: int = 500
    # riskClusters: the Louvain seed, so the same data gives the same clusters.
    # CREDITLINK_RISK_CLUSTER_SEED
    cluster_seed: int = 20261127

    @property
    def control_threshold(self) -> float:
        return self.control_threshold_pct / 100.0


_RANGES: dict[str, tuple[str, int, int]] = {
    "degree_cap": ("CREDITLINK_RISK_DEGREE_CAP", 1, 1_000_000),
    "level_budget": ("CREDITLINK_RISK_LEVEL_BUDGET", 10, 1_000_000),
    "export_max_nodes": ("CREDITLINK_RISK_EXPORT_MAX_NODES", 10, 1_000_000),
    "ownership_hops": ("CREDITLINK_RISK_OWNERSHIP_HOPS", 1, 50),
    "ownership_budget": ("CREDITLINK_RISK_OWNERSHIP_BUDGET", 10, 1_000_000),
    "path_count_cap": ("CREDITLINK_RISK_PATH_COUNT_CAP", 1, 1_000_000),
    "control_threshold_pct": ("CREDITLINK_RISK_CONTROL_THRESHOLD_PCT", 1, 100),
    "suspect_limit": ("CREDITLINK_RISK_SUSPECT_LIMIT", 1, 100_000),
    "cluster_seed": ("CREDITLINK_RISK_CLUSTER_SEED", 0, 2**31 - 1),
}


def config_from_env(environ: Mapping[str, str]) -> RiskConfig:
    values: dict[str, int] = {}
    for f in fields(RiskConfig):
        name, lo, hi = _RANGES[f.name]
        raw = environ.get(name)
        if raw is None or raw == "":
            continue
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"{name}={raw!r} is not an integer") from None
        if not lo <= value <= hi:
            raise ValueError(f"{name}={value} is outside {lo}..{hi}")
        values[f.name] = value
    return RiskConfig(**values)


CONFIG = config_from_env(os.environ)
