"""Limits a public GraphQL server needs: depth, size, aliases, and cost.

Depth, aliases and document size use Strawberry's extensions. The cost of an operation is
estimated before it runs: every field costs 1 (introspection and ``__typename`` are free),
and a list multiplies the cost of its selection by its expected length: its own ``limit``
argument, else its parent's (the ``items`` of a page), else ``UNBOUNDED_LIST_LENGTH``.
Variables count with their values. The subscriptions a websocket may run at once are
capped by the router (``max_subscriptions_per_connection``).

The cost is computed here rather than with a library: graphql-complexity 1.0 fails on any
operation with a variable that has no default, and graphene-protector counts depth times
selections, which does not see page sizes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from functools import partial
from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    get_named_type,
    get_nullable_type,
    is_list_type,
    value_from_ast,
)
from strawberry.extensions import (
    AddValidationRules,
    MaxTokensLimiter,
    SchemaExtension,
    max_aliases,
    query_depth_limiter,
)

from server.kernel.settings import Settings

UNBOUNDED_LIST_LENGTH = 10
MAX_ALIASES = 30
MAX_TOKENS = 5000
PAGE_SIZE_ARGUMENT = "limit"


def _page_size(field: FieldNode, definition: GraphQLField, variables: dict[str, Any]) -> int | None:
    argument = definition.args.get(PAGE_SIZE_ARGUMENT)
    if argument is None:
        return None
    given = next(
        (arg for arg in field.arguments or () if arg.name.value == PAGE_SIZE_ARGUMENT), None
    )
    value = value_from_ast(given.value, argument.type, variables) if given else None
    if not isinstance(value, int):
        value = argument.default_value
    return value if isinstance(value, int) and value > 0 else None


class _CostEstimate:
    def __init__(self, rule: ValidationRule, variables: dict[str, Any]) -> None:
        self.context = rule.context
        self.variables = variables

    def of_selections(
        self,
        selection_set: SelectionSetNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
        fragments_seen: frozenset[str],
    ) -> int:
        total = 0
        schema = self.context.schema
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.of_field(selection, parent, page_size, fragments_seen)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                on = schema.get_type(condition.name.value) if condition else parent
                total += self.of_selections(selection.selection_set, on, page_size, fragments_seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.context.get_fragment(name)
                if fragment is None or name in fragments_seen:
                    continue  # unknown fragments and cycles are reported by the standard rules
                on = schema.get_type(fragment.type_condition.name.value)
                total += self.of_selections(
                    fragment.selection_set, on, page_size, fragments_seen | {name}
                )
        return total

    def of_field(
        self,
        field: FieldNode,
        parent: GraphQLNamedType | None,
        page_size: int | None,
        fragments_seen: frozenset[str],
    ) -> int:
        if field.name.value.startswith("__"):
            return 0
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(field.name.value)
        if definition is None:
            return 0  # reported by the standard rules
        if field.selection_set is None:
            return 1
        own_page_size = _page_size(field, definition, self.variables)
        length = 1
        if is_list_type(get_nullable_type(definition.type)):
            length = own_page_size or page_size or UNBOUNDED_LIST_LENGTH
            own_page_size = None
        selections = self.of_selections(
            field.selection_set, get_named_type(definition.type), own_page_size, fragments_seen
        )
        return 1 + length * selections


def _cost_rule(max_cost: int, variables: dict[str, Any]) -> type[ValidationRule]:
    class QueryCost(ValidationRule):
        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            root = self.context.schema.get_root_type(node.operation)
            cost = _CostEstimate(self, variables).of_selections(
                node.selection_set, root, None, frozenset()
            )
            if cost > max_cost:
                self.report_error(
                    GraphQLError(
                        f"The operation is too expensive: its estimated cost {cost} is over "
                        f"the limit of {max_cost}; ask for fewer items or fields",
                        node,
                        extensions={"code": "query_too_expensive", "cost": cost, "max": max_cost},
                    )
                )

    return QueryCost


class QueryCostLimiter(SchemaExtension):
    def __init__(self, max_cost: int) -> None:
        self.max_cost = max_cost

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        rules = context.validation_rules
        context.validation_rules = (*rules, _cost_rule(self.max_cost, context.variables or {}))
        yield
        # Not held while a subscription runs: a class of its own, some KiB per operation.
        context.validation_rules = rules


def limit_extensions(settings: Settings) -> list[Callable[[], SchemaExtension]]:
    """Factories, so that every operation gets its own extension instances."""
    # The alias and depth rules (what MaxAliasesLimiter and QueryDepthLimiter add), each
    # made once: made per operation, a class each, held by every open subscription.
    rules: list[type[ASTValidationRule]] = [
        max_aliases.create_validator(MAX_ALIASES),
        query_depth_limiter.create_validator(settings.graphql_max_depth, None),
    ]
    return [
        partial(MaxTokensLimiter, max_token_count=MAX_TOKENS),
        partial(AddValidationRules, rules),
        partial(QueryCostLimiter, max_cost=settings.graphql_max_cost),
    ]
