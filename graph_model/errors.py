"""The one error hierarchy of CreditLink.

Every failure a caller can cause or observe is a `CreditLinkError` carrying one of the
contract's codes; the API maps `code` to `extensions.code` and never shows anything
else. Driver exceptions are wrapped here (see `graph_model.driver`) so no Neo4j type
leaks past `graph_model`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any


class ErrorCode(StrEnum):
    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


class CreditLinkError(Exception):
    """Base of every domain error. `field` names the input at fault, when there is one."""

    code: ErrorCode = ErrorCode.INTERNAL_SERVER_ERROR

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class BadUserInput(CreditLinkError):
    code = ErrorCode.BAD_USER_INPUT


class InvalidId(CreditLinkError):
    code = ErrorCode.INVALID_ID


class NotFound(CreditLinkError):
    code = ErrorCode.NOT_FOUND


class Conflict(CreditLinkError):
    code = ErrorCode.CONFLICT


class Unauthenticated(CreditLinkError):
    code = ErrorCode.UNAUTHENTICATED


class Forbidden(CreditLinkError):
    code = ErrorCode.FORBIDDEN


class QueryTooComplex(CreditLinkError):
    code = ErrorCode.QUERY_TOO_COMPLEX


class ServiceUnavailable(CreditLinkError):
    code = ErrorCode.SERVICE_UNAVAILABLE


class InternalError(CreditLinkError):
    code = ErrorCode.INTERNAL_SERVER_ERROR
