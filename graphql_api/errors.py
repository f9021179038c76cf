"""GraphQL errors carry the REST error's stable ``code`` in ``extensions``.

A service's ``AppError`` keeps its message and gains ``extensions: {code, status,
details}``; a document the schema rejects is a ``validation_error`` (the REST 422) unless
a limit gave it its own code; anything unexpected is masked as ``internal_error`` and
logged, as the REST handler does. Variable values are never echoed back: they may hold a
Canvas token.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from typing import Any

from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import GraphQLError
from strawberry import Schema
from strawberry.extensions import SchemaExtension
from strawberry.schema.exceptions import CannotGetOperationTypeError, InvalidOperationTypeError
from strawberry.types import ExecutionContext
from strawberry.types.execution import ExecutionResult
from strawberry.types.graphql import OperationType

from server.kernel.errors import AppError

logger = logging.getLogger(__name__)

INTERNAL_MESSAGE = "Something went wrong on our side"
# A GraphQLError as the cause is graphql-core's own report of a bad variable.
_CLIENT_ERRORS = (AppError, GraphQLError, CannotGetOperationTypeError, InvalidOperationTypeError)
# graphql-core 3.3: "Variable '$login' has invalid value.path: <reason>, found: <the value>."
_INVALID_VARIABLE = re.compile(
    r"^Variable '\$(?P<name>\w+)' has invalid value(?P<path>[^:]*): (?P<reason>.*)$", re.DOTALL
)
# Where a reason starts quoting the value: ", found: {...}", "? Found: ...", ": 123".
_QUOTED_VALUE = re.compile(r"(?:[,.?] [Ff]ound)?: .*$", re.DOTALL)


def _is_unexpected(error: GraphQLError) -> bool:
    return error.original_error is not None and not isinstance(error.original_error, _CLIENT_ERRORS)


def _with_code(error: GraphQLError) -> GraphQLError:
    original = error.original_error
    if isinstance(original, AppError):
        error.extensions = {
            "code": original.code,
            "status": original.status_code,
            "details": original.details,
        }
        return error
    if _is_unexpected(error):
        return GraphQLError(
            INTERNAL_MESSAGE,
            nodes=error.nodes,
            path=error.path,
            extensions={"code": "internal_error", "status": 500},
        )
    invalid_variable = _INVALID_VARIABLE.match(error.message)
    if invalid_variable:
        name, path, reason = invalid_variable.group("name", "path", "reason")
        error.message = (
            f"Variable '${name}' has invalid value{path}: "
            f"{_QUOTED_VALUE.sub('', reason).rstrip('.')} (values are not echoed back)"
        )
    extensions: dict[str, Any] = dict(error.extensions or {})
    extensions.setdefault("code", "validation_error")
    extensions.setdefault("status", 422)
    error.extensions = extensions
    return error


def give_codes(result: object) -> None:
    # Not a runtime-checkable protocol: its isinstance costs more than the rest of sending
    # a subscription's event.
    if isinstance(result, GraphQLExecutionResult | ExecutionResult) and result.errors:
        result.errors = [_with_code(error) for error in result.errors]


class ErrorCodes(SchemaExtension):
    """Applies the mapping above to every result: HTTP, and each websocket message."""

    def __init__(self) -> None:
        self._streamed = False

    def on_operation(self) -> Iterator[None]:
        yield
        # A streamed operation's results were each handled by on_stream_result already.
        if self._streamed:
            return
        result = self.execution_context.result
        if isinstance(result, GraphQLExecutionResult | ExecutionResult):
            give_codes(result)

    def on_stream_result(self, result: Any) -> Iterator[None]:
        self._streamed = True
        give_codes(result)
        yield


class AppSchema(Schema):
    async def execute(
        self,
        query: str | None,
        variable_values: dict[str, Any] | None = None,
        context_value: Any | None = None,
        root_value: Any | None = None,
        operation_name: str | None = None,
        allowed_operation_types: Iterable[OperationType] | None = None,
        operation_extensions: dict[str, Any] | None = None,
    ) -> ExecutionResult:
        # Subscriptions stream (websockets); run as a single request, a subscription's
        # resolver would answer once, with a stream where a value is due.
        allowed = set(allowed_operation_types or OperationType) - {OperationType.SUBSCRIPTION}
        return await super().execute(
            query,
            variable_values,
            context_value,
            root_value,
            operation_name,
            allowed,
            operation_extensions,
        )

    def process_errors(
        self, errors: list[GraphQLError], execution_context: ExecutionContext | None = None
    ) -> None:
        # Client errors are answers, not incidents (and their texts may quote variables).
        for error in errors:
            if _is_unexpected(error):
                logger.error(
                    "unhandled error in GraphQL resolver %s: %s",
                    ".".join(str(part) for part in error.path or ()),
                    type(error.original_error).__name__,
                    exc_info=error.original_error,
                )
