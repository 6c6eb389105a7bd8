"""The type checker: a parsed rule against a Schema, at write time. Every refusal names the
place (line:column and the text); a rule that passes is a `Rule` whose nodes all carry their
type, and it cannot fail when evaluated (see language.SEMANTICS)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from rules.errors import RuleError
from rules.language import (
    ARITHMETIC,
    BOOL,
    COMPARISONS,
    FUNCTIONS,
    LOGICAL,
    NULL,
    NUMBER,
    STRING,
    UNARY,
)
from rules.nodes import (
    Binary,
    Call,
    Conditional,
    Field,
    ListLiteral,
    Literal,
    Logical,
    NamedList,
    Node,
    Unary,
    walk,
)
from rules.parse import text_of
from rules.regex import pattern_problem
from rules.schema import Schema


@dataclass(frozen=True, eq=False)
class Rule:
    """A rule that type-checked: its text, its typed tree, the fields and lists it reads."""

    source: str
    root: Node
    fields: frozenset[str]
    lists: frozenset[str]


def check(root: Node, schema: Schema, source: str) -> Rule:
    typed = _Checker(schema, source).node(root)
    if typed.type != BOOL:
        raise _error(typed, source, f"a rule must be true or false, not a {typed.type}")
    nodes = [n for n, _ in walk(typed)]
    return Rule(
        source,
        typed,
        frozenset(n.name for n in nodes if isinstance(n, Field)),
        frozenset(n.name for n in nodes if isinstance(n, NamedList)),
    )


def _error(node: Node, source: str, message: str) -> RuleError:
    return RuleError(message, node.span.line, node.span.column, text_of(node, source))


def _suggest(name: str, known: Iterable[str]) -> str:
    close = difflib.get_close_matches(name, sorted(known), n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


class _Checker:
    def __init__(self, schema: Schema, source: str) -> None:
        self.schema = schema
        self.source = source

    def fail(self, node: Node, message: str) -> RuleError:
        return _error(node, self.source, message)

    def node(self, node: Node) -> Node:
        if isinstance(node, Literal):
            return Literal(node.value, span=node.span, type=_literal_type(node.value))
        if isinstance(node, Field):
            return self.field(node)
        if isinstance(node, Unary):
            return self.unary(node)
        if isinstance(node, Logical):
            operands = tuple(self.expect(o, BOOL, f"`{node.op}` joins") for o in node.operands)
            return Logical(node.op, operands, span=node.span, type=LOGICAL[node.op].result)
        if isinstance(node, Binary):
            return self.binary(node)
        if isinstance(node, Call):
            return self.call(node)
        if isinstance(node, Conditional):
            return self.conditional(node)
        if isinstance(node, ListLiteral):
            raise self.fail(node, "a list literal may only follow `in`")
        raise self.fail(node, "this expression is not part of the language")

    def expect(self, node: Node, kind: str, what: str) -> Node:
        typed = self.node(node)
        if typed.type != kind:
            raise self.fail(node, f"{what} {kind} values, not a {typed.type}")
        return typed

    def field(self, node: Field) -> Node:
        spec = self.schema.fields.get(node.name)
        if spec is None:
            hint = _suggest(node.name, self.schema.fields)
            raise self.fail(node, f"unknown field {node.name!r}{hint}")
        return Field(node.name, span=node.span, type=spec.type)

    def unary(self, node: Unary) -> Node:
        operator = UNARY[node.op]
        operand = self.expect(node.operand, operator.operands[0][0], f"`{node.op}` takes")
        return Unary(node.op, operand, span=node.span, type=operator.result)

    def binary(self, node: Binary) -> Node:
        if node.op == "in":
            return self.membership(node)
        left, right = self.node(node.left), self.node(node.right)
        operator = COMPARISONS.get(node.op) or ARITHMETIC[node.op]
        if NULL in (left.type, right.type) and node.op in COMPARISONS:
            raise self.fail(node, "nothing equals null: test a missing value with has(field)")
        if (left.type, right.type) not in operator.operands:
            accepted = " or ".join(f"{a} {node.op} {b}" for a, b in operator.operands)
            raise self.fail(
                node, f"`{node.op}` takes {accepted}, not {left.type} {node.op} {right.type}"
            )
        return Binary(node.op, left, right, span=node.span, type=operator.result)

    def membership(self, node: Binary) -> Node:
        item = self.node(node.left)
        collection = node.right
        if isinstance(collection, Call) and collection.function == "list":
            named = self.named_list(collection)
            if item.type != STRING:
                raise self.fail(node, f"named lists hold strings; the left side is a {item.type}")
            return Binary("in", item, named, span=node.span, type=BOOL)
        if not isinstance(collection, ListLiteral):
            raise self.fail(collection, "`in` needs a list: [a, b, …] or list('name')")
        if not collection.items:
            raise self.fail(collection, "an empty list matches nothing: remove the test")
        items = []
        for entry in collection.items:
            if not isinstance(entry, Literal) or entry.value is None:
                raise self.fail(entry, "list items must be number or string literals")
            typed = self.node(entry)
            if typed.type != item.type:
                raise self.fail(entry, f"a {item.type} is compared with a list of {typed.type}")
            items.append(typed)
        if item.type not in (NUMBER, STRING):
            raise self.fail(node.left, f"`in` takes a number or a string, not a {item.type}")
        literal = ListLiteral(tuple(items), span=collection.span, type=item.type)
        return Binary("in", item, literal, span=node.span, type=BOOL)

    def named_list(self, call: Call) -> NamedList:
        if call.method or len(call.args) != 1:
            raise self.fail(call, "write a named list as list('name')")
        name = call.args[0]
        if not isinstance(name, Literal) or not isinstance(name.value, str):
            raise self.fail(call, "a list's name is a string literal: list('name')")
        if name.value not in self.schema.lists:
            hint = _suggest(name.value, self.schema.lists)
            raise self.fail(call, f"unknown list {name.value!r}{hint}")
        return NamedList(name.value, span=call.span, type=STRING)

    def call(self, node: Call) -> Node:
        function = FUNCTIONS.get(node.function)
        if function is None:
            raise self.fail(
                node, f"unknown function {node.function!r}{_suggest(node.function, FUNCTIONS)}"
            )
        if function.name == "list":
            raise self.fail(node, "list('name') may only follow `in`")
        if (node.method and not function.method) or (not node.method and not function.plain):
            raise self.fail(node, f"write it as {function.call}")
        if len(node.args) != len(function.arguments):
            raise self.fail(node, f"{function.name} takes {function.call}")
        if function.name == "has":
            target = node.args[0]
            if not isinstance(target, Field):
                raise self.fail(node, "has() takes a field name: has(country)")
            return Call("has", (self.field(target),), False, span=node.span, type=BOOL)
        receiver = self.expect(node.args[0], STRING, f"{function.name} takes")
        args: list[Node] = [receiver]
        if function.literal_argument:
            literal = node.args[1]
            if not isinstance(literal, Literal) or not isinstance(literal.value, str):
                raise self.fail(node, f"{function.name}'s argument must be a string literal")
            if function.name == "matches":
                problem = pattern_problem(literal.value)
                if problem:
                    raise self.fail(literal, problem)
            args.append(Literal(literal.value, span=literal.span, type=STRING))
        return Call(function.name, tuple(args), node.method, span=node.span, type=function.result)

    def conditional(self, node: Conditional) -> Node:
        test = self.expect(node.test, BOOL, "the condition of `? :` takes")
        then, otherwise = self.node(node.then), self.node(node.otherwise)
        kinds = {then.type, otherwise.type} - {NULL}
        if len(kinds) > 1:
            raise self.fail(
                node, f"both branches of `? :` need one type, not {then.type} and {otherwise.type}"
            )
        if not kinds:
            raise self.fail(node, "both branches of `? :` are null: write null")
        return Conditional(test, then, otherwise, span=node.span, type=kinds.pop())


def _literal_type(value: float | str | bool | None) -> str:
    if value is None:
        return NULL
    if isinstance(value, bool):
        return BOOL
    return STRING if isinstance(value, str) else NUMBER
