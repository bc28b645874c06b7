"""The joint rewards and punishments catalogue: YAML data, typed models, loader, validators."""

from rules.issues import CatalogueInvalid, Code, Issue
from rules.loader import CATALOGUE_DIR, check_catalogue, default_catalogue, load_catalogue
from rules.models import (
    MAX_ROLE_DEPTH,
    PUNITIVE_EFFECTS,
    Area,
    Catalogue,
    Department,
    Direction,
    Effect,
    EvaluatedAt,
    Jurisdiction,
    ListKind,
    ListType,
    Measure,
    Role,
    Step,
    strongest,
)

__all__ = [
    "CATALOGUE_DIR",
    "MAX_ROLE_DEPTH",
    "PUNITIVE_EFFECTS",
    "Area",
    "Catalogue",
    "CatalogueInvalid",
    "Code",
    "Department",
    "Direction",
    "Effect",
    "EvaluatedAt",
    "Issue",
    "Jurisdiction",
    "ListKind",
    "ListType",
    "Measure",
    "Role",
    "Step",
    "check_catalogue",
    "default_catalogue",
    "load_catalogue",
    "strongest",
]
