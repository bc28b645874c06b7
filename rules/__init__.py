"""The joint rewards and punishments catalogue: YAML data, typed models, loader, validators."""

from rules.issues import CatalogueInvalid, Code, Issue
from rules.loader import (
    CATALOGUES_DIR,
    DEFAULT_JURISDICTION,
    catalogue_dir,
    check_catalogue,
    default_catalogue,
    load_catalogue,
)
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
    "CATALOGUES_DIR",
    "DEFAULT_JURISDICTION",
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
    "catalogue_dir",
    "check_catalogue",
    "default_catalogue",
    "load_catalogue",
]
