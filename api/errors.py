"""Every GraphQL error leaves with one of the contract's codes and nothing internal."""

from __future__ import annotations

import logging
import re

from graphql import GraphQLError

from graph_model.errors import CreditLinkError, ErrorCode

log = logging.getLogger("creditlink.errors")

# graphql-core's parser says "Syntax Error: Document contains more than N tokens. …"
TOO_MANY_TOKENS = re.compile(r"Document contains more than \d+ tokens")


def classify(error: GraphQLError) -> tuple[ErrorCode, str]:
    original = error.original_error
    if isinstance(original, CreditLinkError):
        if original.code is ErrorCode.INTERNAL_SERVER_ERROR:
            return ErrorCode.INTERNAL_SERVER_ERROR, "internal error"
        return original.code, original.message
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
