"""Effects, roles and the Catalogue's lookups."""

from __future__ import annotations

import pydantic
import pytest

from domain.vocabulary import Effect, strongest
from rules import Catalogue, Role, default_catalogue, load_catalogue


@pytest.fixture(scope="module")
def catalogue() -> Catalogue:
    return load_catalogue()


def test_effects_are_ordered_strongest_first() -> None:
    order = [Effect.PROHIBIT, Effect.RESTRICT, Effect.STRICT_REVIEW, Effect.ALERT]
    assert sorted(order, key=lambda e: e.strength, reverse=True) == order
    assert all(e.punitive and e.strength > Effect.INCENTIVE.strength for e in order)
    assert not Effect.INCENTIVE.punitive


def test_strongest_ignores_incentives() -> None:
    assert strongest([Effect.ALERT, Effect.INCENTIVE, Effect.RESTRICT]) is Effect.RESTRICT
    assert strongest([Effect.INCENTIVE]) is None
    assert strongest([]) is None


def test_a_role_outside_a_catalogue_has_no_depth() -> None:
    role = Role(id="X", name="x", description="x", via=("SELF",))
    with pytest.raises(RuntimeError, match="not resolved"):
        _ = role.depth


def test_resolved_roles_know_their_via_roles(catalogue: Catalogue) -> None:
    child = catalogue.roles["HOUSEHOLD_CHILD"]
    assert [r.id for r in child.via_roles] == list(child.via)
    assert child.via_roles[1] is catalogue.roles["LEGAL_REPRESENTATIVE"]


def test_models_are_frozen(catalogue: Catalogue) -> None:
    with pytest.raises(pydantic.ValidationError):
        catalogue.measures["DJD-EXIT"].area = "SOCIAL_GOVERNANCE"  # type: ignore[misc]


def test_measures_for_filters_by_list_type_and_area(catalogue: Catalogue) -> None:
    both = catalogue.measures_for("DISHONEST_JUDGMENT_DEBTOR", "CONVENIENCE_SERVICES")
    assert (
        both
        == catalogue.measures_by_list_type_and_area[
            ("DISHONEST_JUDGMENT_DEBTOR", "CONVENIENCE_SERVICES")
        ]
    )
    assert {m.id for m in both} >= {"DJD-CHILD-PRIVATE-SCHOOL", "DJD-HC-TRAVEL"}
    assert catalogue.measures_for() == tuple(catalogue.measures.values())
    by_area = catalogue.measures_for(area="GOVERNMENT_SELF_CONSTRUCTION")
    assert by_area and all(m.area == "GOVERNMENT_SELF_CONSTRUCTION" for m in by_area)
    assert catalogue.measures_for("NO_SUCH_LIST") == ()


def test_recognition(catalogue: Catalogue) -> None:
    assert catalogue.is_recognized("wenzhou", "TAX_ARREARS_WATCH")
    assert catalogue.is_recognized("jiaxing", "DISHONEST_JUDGMENT_DEBTOR")
    assert not catalogue.is_recognized("jiaxing", "WAGE_ARREARS_DISHONEST")
    assert not catalogue.is_recognized("shanghai", "DISHONEST_JUDGMENT_DEBTOR")


def test_issuers(catalogue: Catalogue) -> None:
    issuers = catalogue.issuers_of("SOCIAL_INSURANCE_DISHONEST")
    assert [d.id for d in issuers] == ["wz-hrss", "wz-medical-insurance"]
    assert catalogue.may_issue("wz-intermediate-court", "DISHONEST_JUDGMENT_DEBTOR")
    assert not catalogue.may_issue("wz-amr", "DISHONEST_JUDGMENT_DEBTOR")
    assert not catalogue.may_issue("wz-amr", "NO_SUCH_LIST")
    with pytest.raises(KeyError):
        catalogue.issuers_of("NO_SUCH_LIST")


def test_the_default_catalogue_is_loaded_once() -> None:
    assert default_catalogue() is default_catalogue()
