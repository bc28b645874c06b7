"""Documents parsed and validated once, remembered by their text.

Approval systems send the same handful of documents all day, so parsing and validating
them again per request is waste. One bounded LRU per schema maps a document's text to
its AST and its validation errors; the one strawberry extension below reads it on the
parse and validate steps (for HTTP and WebSocket alike), and `api.http` reads it for the
limits it checks before execution. It replaces strawberry's ParserCache,
ValidationCache, MaxTokensLimiter and AddValidationRules: four extensions whose hooks
ran on every request. It also remembers each valid operation's compiled plan
(`api.compiled`), or that it has none.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from threading import Lock
from typing import Final, TypeVar

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    parse,
    specified_rules,
    validate,
)
from graphql.validation import NoSchemaIntrospectionCustomRule
from strawberry.extensions import SchemaExtension

from api.compiled import Plan, compile_plan
from api.limits import QueryLimits, limits_rules

# longer documents are parsed and validated every time: they are rare, and remembering
# them would let a caller fill memory with large unique texts
CACHED_QUERY_CHARS = 20_000

V = TypeVar("V")

# remembered for an operation that strawberry must execute (the cache stores no None)
NOT_COMPILED: Final = object()


@dataclass(frozen=True)
class Prepared:
    document: DocumentNode
    errors: list[GraphQLError]


class DocumentCache:
    def __init__(
        self,
        limits: QueryLimits | None,
        *,
        max_tokens: int,
        introspection: bool,
        maxsize: int = 1024,
    ) -> None:
        # the limits run alone first: graphql-core's own rules (OverlappingFieldsCanBeMerged
        # above all) only ever see a document already known to be within them
        self.gate: tuple[type[ASTValidationRule], ...] = (
            limits_rules(limits) if limits is not None else ()
        )
        self.rules: tuple[type[ASTValidationRule], ...] = tuple(specified_rules)
        if not introspection:
            self.rules += (NoSchemaIntrospectionCustomRule,)
        self.max_tokens = max_tokens
        self.maxsize = maxsize
        self._parsed: OrderedDict[str, DocumentNode] = OrderedDict()
        self._validated: OrderedDict[str, list[GraphQLError]] = OrderedDict()
        self._plans: OrderedDict[str, Plan | object] = OrderedDict()
        self._lock = Lock()

    def parse(self, query: str) -> DocumentNode:
        """The document; a GraphQLError (syntax, too many tokens) when there is none."""
        return self._cached(self._parsed, query, lambda: self._parse(query))

    def parse_or_none(self, query: str) -> DocumentNode | None:
        try:
            return self.parse(query)
        except (GraphQLError, RecursionError):
            return None

    def validate(
        self, schema: GraphQLSchema, query: str, document: DocumentNode
    ) -> list[GraphQLError]:
        errors = self._cached(self._validated, query, lambda: self._validate(schema, document))
        return list(errors)

    def _validate(self, schema: GraphQLSchema, document: DocumentNode) -> list[GraphQLError]:
        if self.gate:
            over = validate(schema, document, self.gate)
            if over:
                return over
        return validate(schema, document, self.rules)

    def plan(
        self,
        schema: GraphQLSchema,
        query: str,
        document: DocumentNode,
        operation: OperationDefinitionNode,
    ) -> Plan | None:
        """The compiled plan of a valid `operation` of `query`, or None."""

        def compile_valid() -> Plan | object:
            if self.validate(schema, query, document):
                return NOT_COMPILED
            return compile_plan(schema, document, operation) or NOT_COMPILED

        name = operation.name.value if operation.name else ""
        found = self._cached(self._plans, f"{name}\n{query}", compile_valid)
        return found if isinstance(found, Plan) else None

    def _cached(self, cache: OrderedDict[str, V], query: str, compute: Callable[[], V]) -> V:
        """`cache`'s value for `query`, computed (outside the lock) and remembered if new."""
        if len(query) > CACHED_QUERY_CHARS:
            return compute()
        with self._lock:
            found = cache.get(query)
            if found is not None:
                cache.move_to_end(query)
                return found
        value = compute()
        with self._lock:
            cache[query] = value
            if len(cache) > self.maxsize:
                cache.popitem(last=False)
        return value

    def _parse(self, query: str) -> DocumentNode:
        try:
            return parse(query, max_tokens=self.max_tokens)
        except RecursionError:
            raise GraphQLError("the query is nested too deeply to parse") from None


def document_gate(cache: DocumentCache) -> type[SchemaExtension]:
    """The schema's one extension: parse and validate through `cache`."""

    class DocumentGate(SchemaExtension):
        def on_parse(self) -> Iterator[None]:
            context = self.execution_context
            if context.graphql_document is None and context.query:
                context.graphql_document = cache.parse(context.query)
            yield

        def on_validate(self) -> Iterator[None]:
            context = self.execution_context
            document = context.graphql_document
            if document is not None and context.query:
                context.pre_execution_errors = cache.validate(
                    context.schema._schema, context.query, document
                )
            yield

    return DocumentGate
