"""Read the YAML catalogue, validate all of it, and build the typed `Catalogue`."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from rules.issues import CatalogueInvalid, Code, Issue
from rules.models import Area, Catalogue, Department, Jurisdiction, ListType, Measure, Role
from rules.raw import RawCatalogue, RawItem, Section, read_yaml
from rules.validators import validate

CATALOGUE_DIR = Path(__file__).parent / "catalogue"
_SUFFIXES = (".yaml", ".yml")

M = TypeVar("M", bound=BaseModel)


def _display(path: Path) -> str:
    """Relative to the working directory when below it, as linters print paths."""
    try:
        return path.resolve().relative_to(Path.cwd().resolve()).as_posix()
    except ValueError:
        return path.as_posix()


def read_catalogue(directory: Path) -> RawCatalogue:
    """Every YAML file below `directory`, in path order, as raw located items."""
    files = sorted(
        (p for p in directory.rglob("*") if p.suffix in _SUFFIXES and p.is_file()),
        key=lambda p: p.relative_to(directory).as_posix(),
    )
    items: list[RawItem] = []
    issues: list[Issue] = []
    if not files:
        issues.append(
            Issue(_display(directory), 0, Code.EMPTY_CATALOGUE, "no YAML catalogue files here")
        )
    for path in files:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            issues.append(Issue(_display(path), 1, Code.YAML_SYNTAX, f"cannot read: {exc}"))
            continue
        file_items, file_issues = read_yaml(text, _display(path))
        items.extend(file_items)
        issues.extend(file_issues)
    return RawCatalogue(tuple(items), tuple(issues))


def _directory(directory: Path | str | None) -> Path:
    return Path(directory) if directory else CATALOGUE_DIR


def check_catalogue(directory: Path | str | None = None) -> list[Issue]:
    """All problems of the catalogue in `directory` (default: the packaged one)."""
    return validate(read_catalogue(_directory(directory)))


def load_catalogue(directory: Path | str | None = None) -> Catalogue:
    """The validated catalogue; raises `CatalogueInvalid` listing every problem found."""
    raw = read_catalogue(_directory(directory))
    issues = validate(raw)
    if issues:
        raise CatalogueInvalid(issues)
    return _build(raw)


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged catalogue, loaded once per process."""
    return load_catalogue()


def _models(raw: RawCatalogue, section: Section, model: type[M]) -> dict[str, M]:
    return {item.data["id"]: model.model_validate(dict(item.data)) for item in raw.section(section)}


def _resolve_roles(roles: dict[str, Role]) -> dict[str, Role]:
    """Attach each role's via roles; validation guarantees they exist and do not cycle."""
    resolved: dict[str, Role] = {}

    def resolve(role_id: str) -> Role:
        if role_id not in resolved:
            role = roles[role_id]
            resolved[role_id] = role.with_via_roles(tuple(resolve(v) for v in role.via))
        return resolved[role_id]

    return {role_id: resolve(role_id) for role_id in roles}


def _build(raw: RawCatalogue) -> Catalogue:
    return Catalogue(
        areas=_models(raw, Section.AREAS, Area),
        departments=_models(raw, Section.DEPARTMENTS, Department),
        roles=_resolve_roles(_models(raw, Section.ROLES, Role)),
        list_types=_models(raw, Section.LIST_TYPES, ListType),
        measures=_models(raw, Section.MEASURES, Measure),
        jurisdictions=_models(raw, Section.JURISDICTIONS, Jurisdiction),
    )
