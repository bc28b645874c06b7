"""actualController: the holdings above a unit with its declared controllers, in one
query (`ownership.upward_query`); `domain.scoring.control` finds the controller."""

from __future__ import annotations

import datetime as dt

from domain.scoring.control import ControlFinding, find_controller
from domain.vocabulary import UNIT_KINDS
from graph_model.driver import Graph
from graph_model.risk.config import DEFAULT_CONFIG, RiskConfig
from graph_model.risk.ownership import holdings_above

FIELD = "enterpriseId"


async def actual_controller(
    graph: Graph, unit_id: str, at: dt.datetime, *, config: RiskConfig = DEFAULT_CONFIG
) -> ControlFinding:
    holdings = await holdings_above(
        graph,
        unit_id,
        at,
        field=FIELD,
        allowed=frozenset(k.value for k in UNIT_KINDS),
        with_controls=True,
        config=config,
        name="actualController",
    )
    return find_controller(
        holdings,
        at,
        threshold=config.control_threshold,
        path_count_cap=config.path_count_cap,
        field=FIELD,
    )
