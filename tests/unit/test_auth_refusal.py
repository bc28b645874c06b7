"""`Principal.refusal`: the contract's code for a call beyond the caller's role."""

from __future__ import annotations

import pytest

from api.auth import PUBLIC, Capability, Principal, Role
from api.errors import ErrorCode, code_of
from domain.errors import Forbidden, Unauthenticated


def test_public_is_unauthenticated_with_the_field_and_the_way_in() -> None:
    error = PUBLIC.refusal("subjectId: a person's credit summary", field="subjectId")
    assert isinstance(error, Unauthenticated) and code_of(error) is ErrorCode.UNAUTHENTICATED
    assert error.field == "subjectId"
    assert error.message.startswith("subjectId: ") and "API key" in error.message
    keyed_public = Principal(name="portal", role=Role.PUBLIC)  # a PUBLIC key: still PUBLIC
    assert isinstance(keyed_public.refusal("x"), Unauthenticated)


@pytest.mark.parametrize("role", [r for r in Role if r is not Role.PUBLIC])
def test_a_keyed_role_is_forbidden(role: Role) -> None:
    error = Principal(name="k", role=role, department="wz-tax").refusal("x", field="subjectId")
    assert isinstance(error, Forbidden) and code_of(error) is ErrorCode.FORBIDDEN
    assert error.field == "subjectId" and role.value in error.message


def test_require_uses_the_same_rule() -> None:
    with pytest.raises(Unauthenticated):
        PUBLIC.require(Capability.READ_SUBJECT, "subject")
    with pytest.raises(Forbidden):
        Principal(name="a", role=Role.APPROVAL_SYSTEM, department="wz-tax").require(
            Capability.REGISTER, "registerSubject"
        )
