"""Executing one GraphQL query or mutation: by a compiled plan or by strawberry.

`execute_operation` is the only place that chooses. A plan (`api.compiled`) answers a
plain query when the app runs with `compiled_queries` (the default), the operation may
be a query, and the document compiles; strawberry answers everything else, including a
plan's request whose variables do not coerce. Errors from either path go through the
schema's `process_errors`, so what the caller receives does not say which path ran;
only `Executed.compiled` (and the `creditlink_graphql_compiled_total` metric) does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from graphql import DocumentNode, ExecutionResult, OperationDefinitionNode
from strawberry.types import ExecutionResult as StrawberryResult
from strawberry.types.graphql import OperationType

if TYPE_CHECKING:
    from api.context import Context
    from api.schema import CreditLinkSchema


@dataclass(frozen=True, slots=True)
class Executed:
    result: ExecutionResult | StrawberryResult  # both: `data` and `errors`
    compiled: bool  # answered by a plan, not by strawberry


async def execute_operation(
    schema: CreditLinkSchema,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
    context: Context,
    *,
    document: DocumentNode | None,
    operation: OperationDefinitionNode | None,
    allowed: frozenset[OperationType],
    compiled_queries: bool,
) -> Executed:
    """Execute `query`'s selected `operation` (parsed as `document`, both None when it
    does not parse or select one) with the operation types `allowed`.

    strawberry's InvalidOperationTypeError, CannotGetOperationTypeError and
    MissingQueryError propagate: the transport answers them in its own terms.
    """
    if (
        compiled_queries
        and document is not None
        and operation is not None
        and OperationType.QUERY in allowed
    ):
        plan = schema.documents.plan(schema._schema, query, document, operation)
        if plan is not None:
            answered = await plan.execute(context, variables)
            if answered is not None:
                if answered.errors:
                    schema.process_errors(answered.errors)
                return Executed(answered, compiled=True)
    result = await schema.execute(
        query,
        variable_values=variables,
        context_value=context,
        operation_name=operation_name,
        allowed_operation_types=allowed,
    )
    return Executed(result, compiled=False)
