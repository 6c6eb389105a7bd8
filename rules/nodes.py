"""The parsed form of a rule: a small typed syntax tree. `parse` builds it without types;
`check` returns a copy whose every node carries its type (language.py's TYPES)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import KW_ONLY, dataclass


@dataclass(frozen=True)
class Span:
    """Where a node's text is in the rule: 1-based line and column, and [start, end)."""

    line: int
    column: int
    start: int
    end: int


@dataclass(frozen=True, eq=False)
class Node:
    _: KW_ONLY
    span: Span
    type: str = ""  # set by check: number, string, bool or null


@dataclass(frozen=True, eq=False)
class Literal(Node):
    value: float | str | bool | None


@dataclass(frozen=True, eq=False)
class Field(Node):
    name: str


@dataclass(frozen=True, eq=False)
class ListLiteral(Node):
    """`[a, b, c]`: only as the right side of `in`; its items are literals of one type."""

    items: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class NamedList(Node):
    """`list('name')`: a named list of strings, only as the right side of `in`."""

    name: str


@dataclass(frozen=True, eq=False)
class Unary(Node):
    op: str  # "!" or "-"
    operand: Node


@dataclass(frozen=True, eq=False)
class Logical(Node):
    """`a && b && c` (or `||`): a chain of one operator, flattened."""

    op: str
    operands: tuple[Node, ...]


@dataclass(frozen=True, eq=False)
class Binary(Node):
    op: str  # a comparison, an arithmetic operator or "in"
    left: Node
    right: Node


@dataclass(frozen=True, eq=False)
class Call(Node):
    """A function: `size(s)` or, method style, `s.startsWith('x')` (receiver first in
    `args`, `method` true)."""

    function: str
    args: tuple[Node, ...]
    method: bool


@dataclass(frozen=True, eq=False)
class Conditional(Node):
    test: Node
    then: Node
    otherwise: Node


def children(node: Node) -> tuple[Node, ...]:
    if isinstance(node, ListLiteral):
        return node.items
    if isinstance(node, Unary):
        return (node.operand,)
    if isinstance(node, Logical):
        return node.operands
    if isinstance(node, Binary):
        return (node.left, node.right)
    if isinstance(node, Call):
        return node.args
    if isinstance(node, Conditional):
        return (node.test, node.then, node.otherwise)
    return ()


def walk(root: Node) -> Iterator[tuple[Node, int]]:
    """Every node with its depth (the root is 1), without recursion: safe on any tree."""
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        yield node, depth
        stack.extend((child, depth + 1) for child in reversed(children(node)))
