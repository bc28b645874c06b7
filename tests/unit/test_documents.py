"""api.documents.DocumentCache alone: parsed and validated once, bounded, limits kept."""

from __future__ import annotations

import pytest
from graphql import GraphQLError, build_schema

from api.documents import CACHED_QUERY_CHARS, DocumentCache
from api.limits import QueryLimits

SCHEMA = build_schema("type Query { a: Int, b: Query }")


def _cache(*, introspection: bool = True, maxsize: int = 4, max_tokens: int = 100) -> DocumentCache:
    return DocumentCache(
        QueryLimits(max_depth=3, max_aliases=2),
        max_tokens=max_tokens,
        introspection=introspection,
        maxsize=maxsize,
    )


def test_a_document_is_parsed_once_and_remembered() -> None:
    cache = _cache()
    first = cache.parse("{ a }")
    assert cache.parse("{ a }") is first
    assert cache.validate(SCHEMA, "{ a }", first) == []


def test_the_cache_holds_at_most_maxsize_documents() -> None:
    cache = _cache(maxsize=4)
    first = cache.parse("{ a }")
    for n in range(1, 6):
        cache.parse("{ " + " ".join(["a"] * n) + " b { a } }")
    assert cache.parse("{ a }") is not first  # evicted, parsed again
    assert len(cache._parsed) == 4


def test_long_documents_are_never_remembered() -> None:
    cache = _cache(max_tokens=100_000)
    query = "{ a }" + " " * CACHED_QUERY_CHARS
    assert cache.parse(query) is not cache.parse(query)
    assert cache._parsed == {}


def test_a_syntax_error_and_too_many_tokens_raise_graphql_errors() -> None:
    cache = _cache(max_tokens=10)
    with pytest.raises(GraphQLError, match="Syntax Error"):
        cache.parse("{ a")
    with pytest.raises(GraphQLError, match="more than 10 tokens"):
        cache.parse("{ " + "a " * 20 + "}")
    assert cache.parse_or_none("{ a") is None


def test_validation_applies_the_limits_and_returns_a_fresh_list() -> None:
    cache = _cache()
    deep = "{ b { b { b { b { a } } } } }"
    errors = cache.validate(SCHEMA, deep, cache.parse(deep))
    assert [e.extensions for e in errors] == [{"code": "QUERY_TOO_COMPLEX"}]
    errors.clear()  # a caller changing its list must not change what the cache holds
    assert len(cache.validate(SCHEMA, deep, cache.parse(deep))) == 1


def test_introspection_can_be_switched_off() -> None:
    query = "{ __schema { queryType { name } } }"
    assert _cache(introspection=True).validate(SCHEMA, query, _cache().parse(query)) == []
    closed = _cache(introspection=False)
    errors = closed.validate(SCHEMA, query, closed.parse(query))
    assert errors and "introspection" in errors[0].message.lower()
