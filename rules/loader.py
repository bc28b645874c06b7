"""Read a YAML catalogue, validate all of it, and build the typed `Catalogue`.

Each jurisdiction has its own catalogue, `rules/catalogues/<jurisdiction>/`; Wenzhou's is
the packaged default. An instance loads its own jurisdiction's catalogue and names that
jurisdiction, so a catalogue whose local jurisdiction is another is refused.
"""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from rules.issues import CatalogueInvalid, Code, Issue
from rules.models import Area, Catalogue, Department, Jurisdiction, ListType, Measure, Role
from rules.raw import RawCatalogue, RawItem, Section, read_yaml
from rules.validators import validate

CATALOGUES_DIR = Path(__file__).parent / "catalogues"
DEFAULT_JURISDICTION = "wenzhou"
# a jurisdiction id names a directory: no dots or slashes may lead out of CATALOGUES_DIR
_JURISDICTION_ID = re.compile(r"[a-z][a-z0-9-]{1,30}")
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
    return RawCatalogue(tuple(items), tuple(issues), source=_display(directory))


def catalogue_dir(jurisdiction: str) -> Path:
    """Where the repository keeps `jurisdiction`'s catalogue (it may not exist)."""
    if not _JURISDICTION_ID.fullmatch(jurisdiction):
        raise ValueError(f"not a jurisdiction id: {jurisdiction[:40]!r}")
    return CATALOGUES_DIR / jurisdiction


def _directory(directory: Path | str | None, jurisdiction: str | None) -> Path:
    if directory:
        return Path(directory)
    return catalogue_dir(jurisdiction or DEFAULT_JURISDICTION)


def _against(raw: RawCatalogue, jurisdiction: str) -> list[Issue]:
    """The catalogue is `jurisdiction`'s: its local jurisdiction is that one."""
    local = [item for item in raw.section(Section.JURISDICTIONS) if item.data.get("local") is True]
    if len(local) != 1 or local[0].id == jurisdiction:
        return []  # the validators report a catalogue without exactly one local jurisdiction
    item = local[0]
    return [
        Issue(
            item.file,
            item.line,
            Code.JURISDICTION_MISMATCH,
            f"this is the catalogue of {item.id}, not of {jurisdiction}, the jurisdiction "
            f"this instance is; use {jurisdiction}'s catalogue",
        )
    ]


def _read_and_check(
    directory: Path | str | None, jurisdiction: str | None
) -> tuple[RawCatalogue, list[Issue]]:
    raw = read_catalogue(_directory(directory, jurisdiction))
    issues = validate(raw)
    if jurisdiction is not None:
        issues = sorted(set(issues) | set(_against(raw, jurisdiction)))
    return raw, issues


def check_catalogue(
    directory: Path | str | None = None, jurisdiction: str | None = None
) -> list[Issue]:
    """All problems of the catalogue in `directory` (default: the packaged one of
    `jurisdiction`, else Wenzhou's); with `jurisdiction`, it must be that one's own."""
    return _read_and_check(directory, jurisdiction)[1]


def load_catalogue(
    directory: Path | str | None = None, jurisdiction: str | None = None
) -> Catalogue:
    """The validated catalogue in `directory` (default: the packaged one of `jurisdiction`,
    else Wenzhou's); with `jurisdiction`, it must be that jurisdiction's own. Raises
    `CatalogueInvalid` listing every problem found."""
    raw, issues = _read_and_check(directory, jurisdiction)
    if issues:
        raise CatalogueInvalid(issues)
    return _build(raw)


@functools.cache
def default_catalogue() -> Catalogue:
    """The packaged default, Wenzhou's catalogue, loaded once per process."""
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
