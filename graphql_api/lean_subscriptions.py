"""A graphql-transport-ws subscription that holds little while it idles (issue 17).

Thousands of subscriptions may idle on one API process. On Strawberry's path each one
holds, until its next event, the operation's extension contexts, graphql-core's executor,
and the frames between the event stream and the socket, each keeping the last event or
its result (the subscriber's own snapshot): some 15 KiB per subscription (a tracemalloc
diff over 1,000 idle subscriptions: 47 KiB of Python objects each there, 33 KiB here).

Here Strawberry still parses and validates the document (its parsing and validation hooks
run, so the parser cache and the limits apply), and the subscription field's resolver
makes the event stream as graphql-core does. Then each event's result is the one shared
by every subscriber of the same operation and variables (``graphql_api.shared_events``),
executed here by the first of them only. While it waits, a subscription holds its parsed
operation (shared), its variables, the connection's context and its event stream.

Anything else (a query or mutation sent over the websocket, a document that does not
validate) goes Strawberry's own way, so its answers are Strawberry's.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from contextlib import aclosing
from inspect import isawaitable
from typing import Any, cast

from graphql import DocumentNode, ExecutionResult, GraphQLError, OperationDefinitionNode
from graphql.execution import create_source_event_stream
from strawberry import Schema
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation
from strawberry.types import ExecutionContext
from strawberry.types.graphql import OperationType

from graphql_api.errors import give_codes
from graphql_api.shared_events import SharedEventExecutor, shared_result


async def validated_subscription(
    schema: Schema,
    context: object,
    query: str,
    variables: dict[str, Any] | None,
    operation_name: str | None,
) -> DocumentNode | None:
    """The parsed document if it is a subscription that validates, as Strawberry parses
    and validates it (with the schema's extensions); else None. Nothing of the extensions
    is kept."""
    execution = ExecutionContext(
        query=query,
        schema=schema,
        allowed_operations=(OperationType.SUBSCRIPTION,),
        context=context,
        variables=variables,
        provided_operation_name=operation_name,
    )
    extensions = schema.get_extensions()
    for extension in extensions:
        extension.execution_context = execution
    runner = schema.create_extensions_runner(execution, extensions)
    async with runner.operation():
        try:
            # Strawberry's own step (private, pinned version): parsing, the operation
            # type, validation, each inside its extensions' hooks.
            rejected = await schema._prepare_operation_async(execution, runner)
        except Exception:  # not a subscription, or a hook refused it: Strawberry answers
            return None
    return None if rejected else execution.graphql_document


class LeanSubscription:
    """One subscription's state while it runs: what executing an event needs."""

    __slots__ = ("context", "document", "node", "operation", "schema", "variables")

    def __init__(
        self,
        schema: Schema,
        context: object,
        operation: Operation[Any, Any],
        document: DocumentNode,
    ) -> None:
        self.schema = schema
        self.context = context
        self.operation = operation
        self.document = document
        self.node: OperationDefinitionNode | None = None
        self.variables: dict[str, Any] = {}  # coerced

    def _executor(self) -> SharedEventExecutor | list[GraphQLError]:
        executor = SharedEventExecutor.build(
            self.schema._schema,  # graphql-core's schema (private name, pinned version)
            self.document,
            None,
            self.context,
            self.operation.variables,
            self.operation.operation_name,
        )
        return cast("SharedEventExecutor | list[GraphQLError]", executor)

    async def run(self) -> None:
        """Send the stream's results, then ``complete`` (unless it failed to start)."""
        executor = self._executor()
        if isinstance(executor, list):  # variables that do not fit the operation
            await self._send_errors(executor)
            return
        source = create_source_event_stream(executor)
        if isawaitable(source):
            source = await source
        self.node, self.variables = executor.operation, executor.variable_values.coerced
        del executor  # not held while the subscription idles
        if isinstance(source, ExecutionResult):  # the resolver refused
            await self._send_errors(source.errors or [])
            return
        events: AsyncGenerator[object, None] = source  # type: ignore[assignment]  # resolvers'
        async with aclosing(events):
            failed = False
            while not failed:
                try:
                    result = await self._result(await anext(events))
                except StopAsyncIteration:
                    break
                except Exception as exc:  # as Strawberry's: the stream ends with the error
                    result, failed = ExecutionResult(None, [_graphql_error(exc)]), True
                await self.operation.send_next(self._answered(result))  # type: ignore[arg-type]
                del result  # the last result (and its event) are not held while idle
        await self.operation.send_operation_message({"id": self.operation.id, "type": "complete"})

    async def _result(self, event: object) -> ExecutionResult:
        assert self.node is not None
        shared = shared_result(event, self.node, self.variables)
        if shared is not None:
            return shared
        executor = self._executor()
        assert not isinstance(executor, list)  # the same variables were coerced at the start
        result = executor.build_per_event_executor(event).execute_operation(False)
        return await result if isawaitable(result) else result  # type: ignore[return-value]

    def _answered(self, result: ExecutionResult) -> ExecutionResult:
        if result.errors:  # never a shared result's
            self.schema.process_errors(result.errors)
            give_codes(result)
        return result

    async def _send_errors(self, errors: list[GraphQLError]) -> None:
        answered = self._answered(ExecutionResult(None, errors))
        await self.operation.send_initial_errors(answered.errors or [])


def _graphql_error(error: Exception) -> GraphQLError:
    if isinstance(error, GraphQLError):
        return error
    return GraphQLError(str(error), original_error=error)
