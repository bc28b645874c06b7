"""The catalogue an instance runs with: its jurisdiction's own, and no other.

`CREDITLINK_JURISDICTION` names the jurisdiction this instance is, `CREDITLINK_CATALOGUE_DIR`
(else `rules/catalogues/<jurisdiction>/`) the catalogue; a catalogue whose local
jurisdiction is another is refused, so a Jiaxing instance never starts on Wenzhou's rules.
"""

from __future__ import annotations

from api.settings import Settings
from rules.loader import load_catalogue
from rules.models import Catalogue


def instance_catalogue(settings: Settings) -> Catalogue:
    """The instance's validated catalogue. Raises SettingsError (naming the variable) when
    the directory is not there, CatalogueInvalid listing every problem otherwise, the
    catalogue being another jurisdiction's among them."""
    return load_catalogue(settings.catalogue_dir, jurisdiction=settings.jurisdiction)
