"""The rules of an inspection draw: which parameters are allowed (the supervision limits
of `rules/evaluation/supervision.yaml`), and the frame graded by each unit's rating.

The algorithm is `domain.scoring.inspections`; the reads and the record are
`graph_model.evaluation.inspections`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from domain.districts import normalise_district
from domain.errors import BadUserInput
from domain.identifiers import validate_resident_id
from domain.scoring.inspections import DrawParams, Graded
from domain.text import clean_text
from rules.evaluation import EvaluationConfig, RatingConfig
from rules.models import Catalogue
from rules.scoring.ratings import UnitFacts

MAX_INDUSTRY = 200


def validate_params(
    config: EvaluationConfig,
    *,
    district: str | None,
    industry: str | None,
    count: int,
    seed: str | None,
    pool: Sequence[str],
    per_target: int,
    new_seed: str,
) -> DrawParams:
    """Everything checkable without the database; `new_seed` is used when none is given."""
    sup = config.supervision
    if not 1 <= count <= sup.max_count:
        raise BadUserInput(
            f"input.count: {count} is outside 1..{sup.max_count}", field="input.count"
        )
    if not 1 <= per_target <= sup.max_inspectors_per_target:
        raise BadUserInput(
            f"input.inspectorsPerTarget: {per_target} is outside "
            f"1..{sup.max_inspectors_per_target}",
            field="input.inspectorsPerTarget",
        )
    if seed is not None:
        seed = clean_text(seed, "input.seed")
        if not 1 <= len(seed) <= sup.max_seed_length:
            raise BadUserInput(
                f"input.seed: 1-{sup.max_seed_length} printable characters", field="input.seed"
            )
    clean_district = normalise_district(district, field="input.district")
    clean_industry = (
        clean_text(industry.strip(), "input.industry") if industry is not None else None
    )
    if clean_industry is not None and not 1 <= len(clean_industry) <= MAX_INDUSTRY:
        raise BadUserInput(
            f"input.industry: 1-{MAX_INDUSTRY} printable characters", field="input.industry"
        )
    if not pool:
        raise BadUserInput("input.inspectorPool: the pool is empty", field="input.inspectorPool")
    if len(pool) > sup.max_pool:
        raise BadUserInput(
            f"input.inspectorPool: {len(pool)} inspectors; at most {sup.max_pool}",
            field="input.inspectorPool",
        )
    ids: list[str] = []
    for n, raw in enumerate(pool):
        pid = validate_resident_id(raw, field=f"input.inspectorPool[{n}]")
        if pid in ids:
            raise BadUserInput(
                f"input.inspectorPool[{n}]: listed twice (also at [{ids.index(pid)}])",
                field=f"input.inspectorPool[{n}]",
            )
        ids.append(pid)
    if len(ids) < per_target:
        raise BadUserInput(
            f"input.inspectorPool: {len(ids)} inspectors cannot staff {per_target} per target",
            field="input.inspectorPool",
        )
    return DrawParams(
        district=clean_district,
        industry=clean_industry,
        count=count,
        seed=seed if seed is not None else new_seed,
        pool=tuple(ids),
        per_target=per_target,
    )


def grade_frame(
    units: Sequence[UnitFacts], at: dt.datetime, config: RatingConfig, catalogue: Catalogue
) -> list[Graded]:
    """Each unit of the frame with its grade at `at`, in the frame's order."""
    return [(unit.subject, unit.rate(at, config, catalogue).grade) for unit in units]
