"""The lean subscription loop on a small schema of its own: what a stream that fails half
way sends, and that a result with errors is neither shared nor sent without its code."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Any

import strawberry
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import Operation

from graphql_api.errors import AppSchema
from graphql_api.lean_subscriptions import LeanSubscription, validated_subscription
from graphql_api.shared_events import SharedEventExecutor


@strawberry.type
class Tick:
    n: int

    @strawberry.field
    def half(self) -> int | None:
        if self.n % 2:
            raise ValueError("odd")  # unexpected: masked as internal_error
        return self.n // 2


@strawberry.type
class Query:
    ok: bool = True


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def ticks(self, fail_after: int) -> AsyncGenerator[Tick, None]:
        for n in range(1, fail_after + 1):
            yield Tick(n=n)
        raise RuntimeError("the feed broke")


SCHEMA = AppSchema(
    query=Query, subscription=Subscription, execution_context_class=SharedEventExecutor
)


class Sent:
    """Stands for the handler an operation reports to."""

    def __init__(self) -> None:
        self.messages: list[dict[str, Any]] = []

    async def send_message(self, message: dict[str, Any]) -> None:
        self.messages.append(message)

    def forget_id(self, _: str) -> None:
        pass


async def run(query: str, variables: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    sent = Sent()
    operation = Operation(sent, "1", query, variables, None)  # type: ignore[arg-type]
    document = await validated_subscription(SCHEMA, None, query, variables, None)
    assert document is not None
    await LeanSubscription(SCHEMA, None, operation, document).run()
    return sent.messages


def internal_error(path: list[str]) -> dict[str, Any]:
    return {
        "message": "Something went wrong on our side",
        "path": path,
        "extensions": {"code": "internal_error", "status": 500},
    }


async def test_a_stream_that_fails_sends_the_error_then_completes() -> None:
    messages = await run("subscription { ticks(failAfter: 2) { n half } }")
    assert [m["type"] for m in messages] == ["next", "next", "next", "complete"]
    first, second, failed = (m["payload"] for m in messages[:3])
    assert first["data"] == {"ticks": {"n": 1, "half": None}}
    assert first["errors"][0]["extensions"]["code"] == "internal_error"
    assert second == {"data": {"ticks": {"n": 2, "half": 1}}}
    assert failed["data"] is None
    assert failed["errors"][0]["extensions"]["code"] == "internal_error"
    assert "the feed broke" not in str(failed)


async def test_variables_that_do_not_fit_are_an_error_without_their_values() -> None:
    query = "subscription ($n: Int!) { ticks(failAfter: $n) { n } }"
    messages = await run(query, {"n": "secret-value"})
    assert [m["type"] for m in messages] == ["error"]
    [error] = messages[0]["payload"]
    assert error["extensions"]["code"] == "validation_error"
    assert "secret-value" not in error["message"]


async def test_only_subscriptions_that_validate_run_lean() -> None:
    for query in ("{ ok }", "subscription { nothing }", "subscription {"):
        assert await validated_subscription(SCHEMA, None, query, None, None) is None
