"""Tunables of the related-party risk queries, with their defaults.

graph_model reads no environment: `api.settings.Settings.from_env` reads the
CREDITLINK_RISK_* variables named next to each field (failing fast on bad values) and the
app passes the resulting `RiskConfig` to every query that takes one. `DEFAULT_CONFIG` is
what a caller without settings (a script, a unit test) gets.
"""

from __future__ import annotations

from dataclasses import dataclass

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


DEFAULT_CONFIG = RiskConfig()
