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

A subscriber whose result is already made gets it without a per-event copy of its
executor, and a shared result's ``next`` payload is encoded to JSON once
(``encoded_payload``): only the subscription's id differs between its messages.
"""

from __future__ import annotations

import json
import weakref
from typing import Any

from graphql import ExecutionResult, OperationDefinitionNode
from graphql.execution import ExperimentalIncrementalExecutionResults
from graphql.pyutils import AwaitableOrValue
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

# Results by event (its id(), while it lives), then by operation node (its id(), the node
# kept beside the result so the id cannot be reused meanwhile).
_RESULTS: dict[int, dict[int, tuple[object, dict[str, Any], ExecutionResult]]] = {}
# Shared results' data by its id() (see ``_Payload``); forgotten with the event.
_PAYLOADS: dict[int, _Payload] = {}


class _Payload:
    """A shared result's data and, once a second subscription sends it, the JSON of its
    ``next`` payload. Many results have one subscriber only (each stream's snapshot, held
    while the stream idles): theirs is not kept."""

    __slots__ = ("data", "json", "sent")

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data
        self.json: str | None = None
        self.sent = False


def _forget(event_id: int) -> None:
    for _, _, result in _RESULTS.pop(event_id, {}).values():
        _PAYLOADS.pop(id(result.data), None)


def _results_of(event: object) -> dict[int, tuple[object, dict[str, Any], ExecutionResult]]:
    results = _RESULTS.get(id(event))
    if results is None:
        results = _RESULTS[id(event)] = {}
        weakref.finalize(event, _forget, id(event))
    return results


def encoded_payload(payload: object) -> str | None:
    """The JSON of a ``next`` message's payload if it is a shared result's (data only, as
    Strawberry sends a result without errors or extensions) sent before, encoded once;
    else None."""
    if not isinstance(payload, dict) or len(payload) != 1:
        return None
    data = payload.get("data")
    entry = _PAYLOADS.get(id(data))
    if entry is None or entry.data is not data:
        return None
    if entry.json is None:
        if not entry.sent:
            entry.sent = True
            return None
        entry.json = json.dumps(payload, separators=(",", ":"))
    return entry.json


class _SharedResult:
    """Stands for a per-event executor when the event's result is already made: graphql-core
    only asks it to execute the operation."""

    __slots__ = ("result",)

    def __init__(self, result: ExecutionResult) -> None:
        self.result = result

    def execute_operation(self, serially: bool | None = None) -> ExecutionResult:
        return self.result


class SharedEventExecutor(StrawberryGraphQLCoreExecutionContext):
    """Strawberry's executor, sharing each subscription event's result (see above)."""

    per_event = False

    def build_per_event_executor(self, payload: Any) -> SharedEventExecutor:
        shared = self._shared_result(payload)
        if shared is not None:
            return _SharedResult(shared)  # type: ignore[return-value]  # see _SharedResult
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, SharedEventExecutor)
        executor.per_event = True
        return executor

    def execute_operation(
        self, serially: bool | None = None
    ) -> AwaitableOrValue[ExecutionResult | ExperimentalIncrementalExecutionResults]:
        if not self.per_event:
            return super().execute_operation(serially)
        shared = self._shared_result(self.root_value)
        if shared is not None:
            return shared
        result = super().execute_operation(serially)
        if isinstance(result, ExecutionResult) and not result.errors:
            variables = self.variable_values.coerced
            _results_of(self.root_value)[id(self.operation)] = (self.operation, variables, result)
            if isinstance(result.data, dict):
                _PAYLOADS[id(result.data)] = _Payload(result.data)
        return result

    def _shared_result(self, event: object) -> ExecutionResult | None:
        return shared_result(event, self.operation, self.variable_values.coerced)


def shared_result(
    event: object, operation: OperationDefinitionNode, variables: dict[str, Any]
) -> ExecutionResult | None:
    """The result of ``event`` for ``operation`` with these (coerced) variables, if a
    subscription has made it already."""
    results = _RESULTS.get(id(event))
    shared = results.get(id(operation)) if results is not None else None
    if shared is None or shared[0] is not operation:
        return None
    return shared[2] if shared[1] == variables else None
