"""Credit evaluation as data: rating weights and cut-offs, the integrity score's dimensions,
bands and benefits, and the supervision sampling weights (`rules/evaluation/*.yaml`).

The YAML lives in its own directory, not under `rules/catalogues/`, because the catalogue
reader takes every YAML file below a catalogue and knows only the catalogue's sections.
It is Wenzhou's (its partner cities, its integrity score), checked against Wenzhou's
catalogue.
Problems are reported as `rules.issues.Issue`s naming file and line, like the catalogue's.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Self

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from domain.scoring.ratings import Grade, HistoryKind
from domain.vocabulary import ROLE_VALUES, Rel
from rules.issues import CatalogueInvalid, Code, Issue
from rules.models import Catalogue

EVALUATION_DIR = Path(__file__).parent / "evaluation"
_SUFFIXES = (".yaml", ".yml")


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


# ---------------------------------------------------------------- ratings


class ScoreRange(_Frozen):
    min: float
    max: float

    @model_validator(mode="after")
    def _ordered(self) -> Self:
        if self.max <= self.min:
            raise ValueError("max must be above min")
        return self


class GradeCutoff(_Frozen):
    grade: Grade
    min_score: float


class ListWeights(_Frozen):
    """Points per entry: `by_list_type`, else `default`."""

    default: float = Field(ge=0)
    by_list_type: dict[str, float] = Field(default_factory=dict)

    def of(self, list_type: str) -> float:
        return self.by_list_type.get(list_type, self.default)

    @model_validator(mode="after")
    def _non_negative(self) -> Self:
        negative = [k for k, v in self.by_list_type.items() if v < 0]
        if negative:
            raise ValueError(f"weights are points and not negative: {', '.join(negative)}")
        return self


class BlackListWeights(ListWeights):
    grade_cap: Grade | None = None


class RedListWeights(ListWeights):
    cap: float = Field(ge=0)


class HistoryTier(_Frozen):
    within_days: int = Field(gt=0)
    black: float = Field(ge=0)
    watch: float = Field(ge=0)


class HistoryWeights(_Frozen):
    counts: frozenset[HistoryKind]
    tiers: tuple[HistoryTier, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _increasing(self) -> Self:
        days = [t.within_days for t in self.tiers]
        if days != sorted(set(days)):
            raise ValueError("tiers must be in increasing within_days order")
        return self

    def tier(self, days_since_end: int) -> HistoryTier | None:
        return next((t for t in self.tiers if days_since_end < t.within_days), None)


class LeaderWeights(_Frozen):
    relations: tuple[Rel, ...] = Field(min_length=1)
    black_list_deduction: float = Field(ge=0)


class RatingConfig(_Frozen):
    base_score: float
    score_range: ScoreRange
    grades: tuple[GradeCutoff, ...]
    black_list: BlackListWeights
    watch_list: ListWeights
    red_list: RedListWeights
    history: HistoryWeights
    leaders: LeaderWeights
    max_history_points: int = Field(gt=0)

    @model_validator(mode="after")
    def _grades(self) -> Self:
        if [c.grade for c in self.grades] != list(Grade):
            raise ValueError("grades must list A, B, C, D in that order")
        scores = [c.min_score for c in self.grades]
        if scores != sorted(scores, reverse=True) or len(set(scores)) != len(scores):
            raise ValueError("min_score must fall strictly from A to D")
        if scores[-1] > self.score_range.min:
            raise ValueError("grade D must start at or below score_range.min")
        if not self.score_range.min <= self.base_score <= self.score_range.max:
            raise ValueError("base_score must lie within score_range")
        return self

    def grade_of(self, score: float) -> Grade:
        return next(c.grade for c in self.grades if score >= c.min_score)


# ---------------------------------------------------------------- integrity score


class Band(_Frozen):
    code: str = Field(pattern=r"^[A-Z][A-Z_]*$")
    label: str = Field(min_length=1)
    min_score: int = Field(ge=0)


class LeadLink(_Frozen):
    relation: Rel
    roles: frozenset[str] | None = None  # None: any role on the link

    @model_validator(mode="after")
    def _roles_fit(self) -> Self:
        if self.relation is Rel.MEMBER_OF:
            raise ValueError("a person does not lead a household")
        if self.roles is not None:
            allowed = ROLE_VALUES.get(self.relation, frozenset())
            unknown = sorted(self.roles - allowed)
            if unknown:
                raise ValueError(f"{self.relation.value} links carry no role {', '.join(unknown)}")
        return self

    def matches(self, relation: str, role: str | None) -> bool:
        return relation == self.relation.value and (self.roles is None or role in self.roles)


class AdultPoints(_Frozen):
    min_age: int = Field(ge=0)
    max_age: int = Field(gt=0)
    points: int
    otherwise: int


class _Dimension(_Frozen):
    label: str = Field(min_length=1)
    max: int = Field(gt=0)


class IdentityDimension(_Dimension):
    registered: int
    local: int
    local_area_prefix: str = Field(pattern=r"^\d{2,6}$")
    adult: AdultPoints
    household: int


class LawAbidingDimension(_Dimension):
    clean: int
    never_listed: int
    own_black: int = Field(ge=0)
    named_responsible: int = Field(ge=0)
    led_unit_black: int = Field(ge=0)
    history_window_days: int = Field(gt=0)
    history_black: int = Field(ge=0)
    history_watch: int = Field(ge=0)


class CommercialDimension(_Dimension):
    base: int
    led_unit_grade: dict[Grade, int]

    @model_validator(mode="after")
    def _every_grade(self) -> Self:
        if set(self.led_unit_grade) != set(Grade):
            raise ValueError("led_unit_grade needs points for each of A, B, C, D")
        return self


class DailyLifeDimension(_Dimension):
    base: int
    household_points_per_year: int = Field(ge=0)
    household_points_cap: int = Field(ge=0)
    own_watch: int = Field(ge=0)


class SocialDimension(_Dimension):
    base: int
    own_red: int = Field(ge=0)
    led_unit_red: int = Field(ge=0)


class Benefit(_Frozen):
    id: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    name: str = Field(min_length=1)
    provider: str = Field(min_length=1)
    min_score: int = Field(ge=0)
    description: str = ""


class PartnerRecognition(_Frozen):
    jurisdiction: str = Field(min_length=1)
    bands: tuple[str, ...]


Dimension = (
    IdentityDimension
    | LawAbidingDimension
    | CommercialDimension
    | DailyLifeDimension
    | SocialDimension
)


class IntegrityConfig(_Frozen):
    max_score: int = Field(gt=0)
    bands: tuple[Band, ...] = Field(min_length=1)
    lead_links: tuple[LeadLink, ...] = Field(min_length=1)
    identity: IdentityDimension
    law_abiding: LawAbidingDimension
    commercial_credit: CommercialDimension
    daily_life: DailyLifeDimension
    social_contribution: SocialDimension
    benefits: tuple[Benefit, ...]
    partner_recognition: tuple[PartnerRecognition, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        total = sum(d.max for d in self.dimensions.values())
        if total != self.max_score:
            raise ValueError(
                f"the dimensions' max add up to {total}, not max_score {self.max_score}"
            )
        starts = [b.min_score for b in self.bands]
        if starts[0] != 0 or starts != sorted(set(starts)) or starts[-1] > self.max_score:
            raise ValueError("bands start at 0 and rise strictly, within max_score")
        codes = [b.code for b in self.bands]
        if len(set(codes)) != len(codes):
            raise ValueError("band codes must be unique")
        for benefit in self.benefits:
            if benefit.min_score > self.max_score:
                raise ValueError(f"benefit {benefit.id}: min_score above max_score")
        if len({b.id for b in self.benefits}) != len(self.benefits):
            raise ValueError("benefit ids must be unique")
        for partner in self.partner_recognition:
            unknown = sorted(set(partner.bands) - set(codes))
            if unknown:
                raise ValueError(
                    f"partner {partner.jurisdiction}: unknown bands {', '.join(unknown)}"
                )
        return self

    @property
    def dimensions(self) -> dict[str, Dimension]:
        return {
            "IDENTITY": self.identity,
            "LAW_ABIDING": self.law_abiding,
            "COMMERCIAL_CREDIT": self.commercial_credit,
            "DAILY_LIFE": self.daily_life,
            "SOCIAL_CONTRIBUTION": self.social_contribution,
        }

    def band_of(self, score: int) -> Band:
        return [b for b in self.bands if score >= b.min_score][-1]

    def leads(self, relation: str, role: str | None) -> bool:
        return any(link.matches(relation, role) for link in self.lead_links)

    @property
    def lead_relations(self) -> tuple[Rel, ...]:
        return tuple(dict.fromkeys(link.relation for link in self.lead_links))


# ---------------------------------------------------------------- supervision


class SupervisionConfig(_Frozen):
    grade_weights: dict[Grade, float]
    max_count: int = Field(gt=0)
    max_pool: int = Field(gt=0)
    max_inspectors_per_target: int = Field(gt=0)
    max_seed_length: int = Field(gt=0, le=1000)

    @model_validator(mode="after")
    def _weights(self) -> Self:
        if set(self.grade_weights) != set(Grade):
            raise ValueError("grade_weights needs a weight for each of A, B, C, D")
        if any(w <= 0 for w in self.grade_weights.values()):
            raise ValueError("grade weights must be positive")
        return self


class EvaluationConfig(_Frozen):
    rating: RatingConfig
    integrity: IntegrityConfig
    supervision: SupervisionConfig


# ---------------------------------------------------------------- loading


def _display(path: Path) -> str:
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def _line_of(node: Node, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node along `loc` that exists."""
    line = node.start_mark.line + 1
    for part in loc:
        child: Node | None = None
        if isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == str(part):
                    child, line = value, key.start_mark.line + 1
                    break
        elif isinstance(node, SequenceNode) and isinstance(part, int) and part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line + 1
        if child is None:
            break
        node = child
    return line


@dataclass(frozen=True)
class _Section:
    file: str
    node: Node  # for the line of each key
    data: Any


def _read(directory: Path) -> tuple[dict[str, _Section], list[Issue]]:
    """Each top-level section with the file and YAML node it came from."""
    sections: dict[str, _Section] = {}
    issues: list[Issue] = []
    files = sorted(p for p in directory.glob("*") if p.suffix in _SUFFIXES and p.is_file())
    if not files:
        issues.append(Issue(_display(directory), 0, Code.EMPTY_CATALOGUE, "no YAML files here"))
    for path in files:
        file = _display(path)
        try:
            text = path.read_text(encoding="utf-8")
            root = yaml.compose(text, Loader=yaml.SafeLoader)
            data = yaml.safe_load(text)
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            mark = getattr(exc, "problem_mark", None)
            line = mark.line + 1 if mark is not None else 1
            issues.append(Issue(file, line, Code.YAML_SYNTAX, f"cannot read: {exc}"))
            continue
        if not isinstance(root, MappingNode):
            line = root.start_mark.line + 1 if root is not None else 1
            issues.append(Issue(file, line, Code.WRONG_TYPE, "a file is a mapping of sections"))
            continue
        for key, value in root.value:
            name = str(key.value)
            if name not in EvaluationConfig.model_fields:
                issues.append(
                    Issue(
                        file,
                        key.start_mark.line + 1,
                        Code.UNKNOWN_SECTION,
                        f"unknown section {name!r}; expected one of "
                        f"{', '.join(EvaluationConfig.model_fields)}",
                    )
                )
            elif name in sections:
                issues.append(
                    Issue(
                        file,
                        key.start_mark.line + 1,
                        Code.DUPLICATE_KEY,
                        f"section {name!r} is already given in {sections[name].file}",
                    )
                )
            else:
                sections[name] = _Section(file, value, data[name])
    return sections, issues


def _validation_issues(
    exc: ValidationError, sections: Mapping[str, _Section], fallback: str
) -> Iterator[Issue]:
    for error in exc.errors():
        loc = tuple(error["loc"])
        section = str(loc[0]) if loc else ""
        name = ".".join(str(p) for p in loc)
        if section not in sections:
            yield Issue(fallback, 0, Code.MISSING_FIELD, f"section {name!r} is missing")
            continue
        file = sections[section].file
        line = _line_of(sections[section].node, loc[1:])
        if error["type"] == "missing":
            yield Issue(file, line, Code.MISSING_FIELD, f"required field {name!r} is missing")
        elif error["type"] == "extra_forbidden":
            yield Issue(file, line, Code.UNKNOWN_FIELD, f"unknown field {name!r}")
        else:
            yield Issue(file, line, Code.BAD_VALUE, f"{name}: {error['msg']}")


def load_evaluation(directory: Path | str | None = None) -> EvaluationConfig:
    """The validated evaluation data; raises `CatalogueInvalid` listing every problem."""
    root = Path(directory) if directory else EVALUATION_DIR
    sections, issues = _read(root)
    if issues:
        raise CatalogueInvalid(issues)
    try:
        return EvaluationConfig.model_validate({name: s.data for name, s in sections.items()})
    except ValidationError as exc:
        raise CatalogueInvalid(list(_validation_issues(exc, sections, _display(root)))) from None


def cross_check(config: EvaluationConfig, catalogue: Catalogue) -> list[str]:
    """Names the evaluation data uses that the catalogue does not define (or not so)."""
    problems: list[str] = []
    expected = {
        "black_list": "BLACK",
        "watch_list": "WATCH",
        "red_list": "RED",
    }
    rating = config.rating
    for section, kind in expected.items():
        weights: ListWeights = getattr(rating, section)
        for list_type in weights.by_list_type:
            found = catalogue.list_types.get(list_type)
            if found is None:
                problems.append(f"rating.{section}: unknown list type {list_type}")
            elif found.kind.value != kind:
                problems.append(f"rating.{section}: {list_type} is a {found.kind.value} list")
    for partner in config.integrity.partner_recognition:
        jurisdiction = catalogue.jurisdictions.get(partner.jurisdiction)
        if jurisdiction is None:
            problems.append(
                f"integrity.partner_recognition: unknown jurisdiction {partner.jurisdiction}"
            )
        elif jurisdiction.local:
            problems.append(
                f"integrity.partner_recognition: {partner.jurisdiction} is not a partner"
            )
    return problems


@functools.cache
def default_evaluation() -> EvaluationConfig:
    """The packaged evaluation data, loaded once per process."""
    return load_evaluation()
