"""`api.errors.code_of`: each domain error leaves with the contract's code for its class."""

from __future__ import annotations

import pytest

from api.errors import ErrorCode, code_of
from domain import errors

CONTRACT = {
    errors.BadUserInput: ErrorCode.BAD_USER_INPUT,
    errors.InvalidId: ErrorCode.INVALID_ID,
    errors.NotFound: ErrorCode.NOT_FOUND,
    errors.Conflict: ErrorCode.CONFLICT,
    errors.Unauthenticated: ErrorCode.UNAUTHENTICATED,
    errors.Forbidden: ErrorCode.FORBIDDEN,
    errors.QueryTooComplex: ErrorCode.QUERY_TOO_COMPLEX,
    errors.ServiceUnavailable: ErrorCode.SERVICE_UNAVAILABLE,
    errors.InternalError: ErrorCode.INTERNAL_SERVER_ERROR,
    errors.CreditLinkError: ErrorCode.INTERNAL_SERVER_ERROR,
}


@pytest.mark.parametrize("cls", list(CONTRACT), ids=lambda cls: cls.__name__)
def test_each_error_class_has_its_contract_code(cls: type[errors.CreditLinkError]) -> None:
    assert code_of(cls("x: wrong", field="x")) is CONTRACT[cls]


def test_every_error_class_of_the_domain_is_mapped() -> None:
    declared = {
        value
        for value in vars(errors).values()
        if isinstance(value, type) and issubclass(value, errors.CreditLinkError)
    }
    assert declared == set(CONTRACT)


def test_a_subclass_takes_the_code_of_its_nearest_mapped_base() -> None:
    class NoSuchDistrict(errors.BadUserInput):
        pass

    assert code_of(NoSuchDistrict("district: unknown")) is ErrorCode.BAD_USER_INPUT


def test_the_domain_errors_carry_no_code() -> None:
    assert not hasattr(errors.BadUserInput("x: wrong"), "code")
