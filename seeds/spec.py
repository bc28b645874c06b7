"""What world to generate: its size, seed, kind mix, sanction rates and link history."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

from domain.identifiers import SubjectKind
from seeds.lists import Recognition, default_recognition

DEFAULT_SEED = 20261127

# Wenzhou's credit files: 346k enterprises, 14k public institutions,
# 792k individual businesses, 8.32M registered residents.
CITY_MIX: Mapping[SubjectKind, float] = MappingProxyType(
    {
        SubjectKind.ENTERPRISE: 346_000,
        SubjectKind.PUBLIC_INSTITUTION: 14_000,
        SubjectKind.INDIVIDUAL_BUSINESS: 792_000,
        SubjectKind.PERSON: 8_320_000,
    }
)
KIND_ORDER: tuple[SubjectKind, ...] = (
    SubjectKind.ENTERPRISE,
    SubjectKind.PUBLIC_INSTITUTION,
    SubjectKind.INDIVIDUAL_BUSINESS,
    SubjectKind.PERSON,
)


@dataclass(frozen=True)
class WorldSpec:
    n_subjects: int
    seed: int = DEFAULT_SEED
    unit_sanction_rate: float = 0.01
    person_sanction_rate: float = 0.003
    mix: Mapping[SubjectKind, float] = field(default_factory=lambda: CITY_MIX)
    recognition: Recognition = default_recognition
    # Ended ties too (seeds/history.py): past household registrations, former officers,
    # heads and shareholders. Off, the world is exactly what it was without the option;
    # on, it has the same rows plus the history's, drawn on random streams of their own.
    link_history: bool = False

    def __post_init__(self) -> None:
        if self.n_subjects < 1:
            raise ValueError(f"n_subjects must be positive, got {self.n_subjects}")
        for name in ("unit_sanction_rate", "person_sanction_rate"):
            rate = getattr(self, name)
            if not 0.0 <= rate <= 1.0:
                raise ValueError(f"{name} must be within [0, 1], got {rate}")
        if any(self.mix.get(k, 0.0) < 0 for k in KIND_ORDER) or not any(self.mix.values()):
            raise ValueError("mix needs non-negative weights, at least one positive")

    def kind_counts(self) -> dict[SubjectKind, int]:
        """Exact subject counts per kind; they always add up to n_subjects."""
        counts = allocate(self.n_subjects, [self.mix.get(k, 0.0) for k in KIND_ORDER])
        return dict(zip(KIND_ORDER, counts, strict=True))


def allocate(total: int, weights: Sequence[float]) -> list[int]:
    """Split `total` in proportion to `weights` (largest remainder; ties to the earlier)."""
    weight_sum = sum(weights)
    if total == 0:
        return [0] * len(weights)
    if weight_sum <= 0:
        raise ValueError(f"cannot allocate {total} over zero weights")
    exact = [total * w / weight_sum for w in weights]
    counts = [int(x) for x in exact]
    by_remainder = sorted(
        range(len(weights)), key=lambda i: (weights[i] <= 0, -(exact[i] - counts[i]), i)
    )
    for i in by_remainder[: total - sum(counts)]:
        counts[i] += 1
    return counts


def even_split(total: int, parts: int) -> list[int]:
    return [total // parts + (1 if i < total % parts else 0) for i in range(parts)]
