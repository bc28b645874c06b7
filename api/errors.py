"""Every GraphQL error leaves with one of the contract's codes and nothing internal.

The domain's errors (`domain.errors`) carry no code: which code each class leaves with
is decided here, once, by `code_of`.
"""

from __future__ import annotations

import logging
import re
from enum import StrEnum

from graphql import GraphQLError

from domain.errors import (
    BadUserInput,
    Conflict,
    CreditLinkError,
    Forbidden,
    InternalError,
    InvalidId,
    NotFound,
    QueryTooComplex,
    ServiceUnavailable,
    Unauthenticated,
)

log = logging.getLogger("creditlink.errors")


class ErrorCode(StrEnum):
    """The contract's `extensions.code` values."""

    BAD_USER_INPUT = "BAD_USER_INPUT"
    INVALID_ID = "INVALID_ID"
    NOT_FOUND = "NOT_FOUND"
    CONFLICT = "CONFLICT"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    FORBIDDEN = "FORBIDDEN"
    QUERY_TOO_COMPLEX = "QUERY_TOO_COMPLEX"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    INTERNAL_SERVER_ERROR = "INTERNAL_SERVER_ERROR"


_CODE_OF_CLASS: dict[type, ErrorCode] = {
    BadUserInput: ErrorCode.BAD_USER_INPUT,
    InvalidId: ErrorCode.INVALID_ID,
    NotFound: ErrorCode.NOT_FOUND,
    Conflict: ErrorCode.CONFLICT,
    Unauthenticated: ErrorCode.UNAUTHENTICATED,
    Forbidden: ErrorCode.FORBIDDEN,
    QueryTooComplex: ErrorCode.QUERY_TOO_COMPLEX,
    ServiceUnavailable: ErrorCode.SERVICE_UNAVAILABLE,
    InternalError: ErrorCode.INTERNAL_SERVER_ERROR,
    CreditLinkError: ErrorCode.INTERNAL_SERVER_ERROR,
}


def code_of(error: CreditLinkError) -> ErrorCode:
    """The contract's code for a domain error: that of its class or nearest base class."""
    return next(_CODE_OF_CLASS[c] for c in type(error).__mro__ if c in _CODE_OF_CLASS)


# graphql-core's parser says "Syntax Error: Document contains more than N tokens. …"
TOO_MANY_TOKENS = re.compile(r"Document contains more than \d+ tokens")


def classify(error: GraphQLError) -> tuple[ErrorCode, str]:
    original = error.original_error
    if isinstance(original, CreditLinkError):
        code = code_of(original)
        if code is ErrorCode.INTERNAL_SERVER_ERROR:
            return code, "internal error"
        return code, original.message
    if original is None:
        preset = (error.extensions or {}).get("code")
        if isinstance(preset, str) and preset in ErrorCode.__members__:
            return ErrorCode(preset), error.message
        if TOO_MANY_TOKENS.search(error.message):
            return ErrorCode.QUERY_TOO_COMPLEX, "the query has too many tokens"
        # syntax, validation and variable coercion: all the caller's to fix
        return ErrorCode.BAD_USER_INPUT, error.message
    if error.path is None and (
        isinstance(original, GraphQLError) or error.message.startswith("Variable '$")
    ):
        # variable coercion (a Date that is no date, an enum value that does not exist, a
        # missing required variable): graphql-core wraps the scalar's or enum's own error,
        # raised before any resolver runs, so it is the caller's input, not our fault
        return ErrorCode.BAD_USER_INPUT, error.message
    log.error("unexpected error in %s", ".".join(map(str, error.path or [])), exc_info=original)
    return ErrorCode.INTERNAL_SERVER_ERROR, "internal error"


def normalise(errors: list[GraphQLError]) -> None:
    """Rewrite message and extensions in place, so HTTP and WebSocket agree."""
    for error in errors:
        code, message = classify(error)
        error.message = message
        extensions: dict[str, object] = {"code": code.value}
        original = error.original_error
        if isinstance(original, CreditLinkError) and original.field:
            extensions["field"] = original.field
        error.extensions = extensions
