"""Every GraphQL error leaves with one of the contract's codes and nothing internal."""

from __future__ import annotations

import logging

from graphql import GraphQLError

from graph_model.errors import CreditLinkError, ErrorCode

log = logging.getLogger("creditlink.errors")

TOO_MANY_TOKENS = "Document contains more than"


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
        if error.message.startswith(TOO_MANY_TOKENS):
            return ErrorCode.QUERY_TOO_COMPLEX, "the query has too many tokens"
        # syntax, validation and variable coercion: all the caller's to fix
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
