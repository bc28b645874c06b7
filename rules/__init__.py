"""The joint rewards and punishments catalogue: YAML data, typed models, loader, validators."""

from rules.issues import CatalogueInvalid, Code, Issue
from rules.loader import CATALOGUE_DIR, check_catalogue, default_catalogue, load_catalogue
from rules.models import (
    MAX_ROLE_DEPTH,
    Area,
    Catalogue,
    Department,
    Direction,
    EvaluatedAt,
    Jurisdiction,
    ListType,
    Measure,
    Role,
    Step,
)

__all__ = [
    "CATALOGUE_DIR",
    "MAX_ROLE_DEPTH",
    "Area",
    "Catalogue",
    "CatalogueInvalid",
    "Code",
    "Department",
    "Direction",
    "EvaluatedAt",
    "Issue",
    "Jurisdiction",
    "ListType",
    "Measure",
    "Role",
    "Step",
    "check_catalogue",
    "default_catalogue",
    "load_catalogue",
]
