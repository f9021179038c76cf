"""A subscription event executed once for all the subscriptions that ask for the same.

Thousands of subscriptions may follow one workspace from one process, and most send the
same operation (the extension's). graphql-core executes an operation's selection on each
event once per subscription: at some 0.3 ms each, a second of CPU per event for 1,000
subscribers, while the event waits to be sent to the last of them (bench row 4). Here
the result is made once per event, operation and variables, and reused: each event is one
object for all its subscribers (``graphql_api.schema`` converts a stream message once),
the stream's types resolve nothing of their own (no resolver reads the context), and one
operation text is one parsed document (``ParserCache``), so the result cannot differ.
Results with errors (which each operation's extensions may rewrite) are not shared.
"""

from __future__ import annotations

import weakref
from typing import Any

from graphql import ExecutionResult
from graphql.execution import ExperimentalIncrementalExecutionResults
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Results by event (its id(), while it lives), then by operation node (its id(), the node
# kept beside the result so the id cannot be reused meanwhile).
_RESULTS: dict[int, dict[int, tuple[object, dict[str, Any], ExecutionResult]]] = {}


def _results_of(event: object) -> dict[int, tuple[object, dict[str, Any], ExecutionResult]]:
    results = _RESULTS.get(id(event))
    if results is None:
        results = _RESULTS[id(event)] = {}
        weakref.finalize(event, _RESULTS.pop, id(event), None)
    return results


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing each subscription event's result (see above)."""

    per_event = False

    def build_per_event_executor(self, payload: Any) -> SharedEventExecutor:
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, SharedEventExecutor)
        executor.per_event = True
        return executor

    def execute_operation(
        self, serially: bool | None = None
    ) -> AwaitableOrValue[ExecutionResult | ExperimentalIncrementalExecutionResults]:
        if not self.per_event:
            return super().execute_operation(serially)
        results = _results_of(self.root_value)
        variables = self.variable_values.coerced
        shared = results.get(id(self.operation))
        if shared is not None and shared[0] is self.operation and shared[1] == variables:
            return shared[2]
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            results[id(self.operation)] = (self.operation, variables, result)
        return result
