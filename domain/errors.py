"""The one error hierarchy of CreditLink.

Every failure a caller can cause or observe is a `CreditLinkError`: `message` names the
input at fault, `field` names the argument when there is one. Which of the contract's
codes a class carries is the API's business (`api.errors.code_of`). Driver exceptions
are wrapped into these classes by `graph_model.driver`, so no Neo4j type leaks out.
"""

from __future__ import annotations

from typing import Any


class CreditLinkError(Exception):
    """Base of every domain error. `field` names the input at fault, when there is one."""

    def __init__(self, message: str, *, field: str | None = None, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.details = details


class BadUserInput(CreditLinkError):
    """An argument the caller must fix: out of range, malformed, refused text."""


class InvalidId(CreditLinkError):
    """A subject id that is not a valid USCC or resident ID."""


class NotFound(CreditLinkError):
    """The id names nothing stored."""


class Conflict(CreditLinkError):
    """The request contradicts what is stored (a duplicate, a state that forbids it)."""


class Unauthenticated(CreditLinkError):
    """The request carries no API key, or one that is not accepted."""


class Forbidden(CreditLinkError):
    """The key is known but its role may not do this."""


class QueryTooComplex(CreditLinkError):
    """The request is over one of the limits (size, depth, cost, count)."""


class ServiceUnavailable(CreditLinkError):
    """The database or a worker cannot answer now; the caller may retry."""


class InternalError(CreditLinkError):
    """Our fault: the caller sees only that an internal error happened."""
