"""The rule language as tables: its types, operators, functions, limits and the defined
behaviour of nulls, NaN and division by zero. The type checker reads its rules from these
tables, both evaluators implement every entry, and reference.py prints them as the language
reference (docs/rules.md), so the page cannot drift from the compiler."""

from __future__ import annotations

from dataclasses import dataclass

NUMBER = "number"
STRING = "string"
BOOL = "bool"
NULL = "null"
TYPES = {
    NUMBER: "a 64-bit float (IEEE 754 double). Integer literals such as `3` are numbers too: "
    "the features are doubles that hold counts, so `card_txn_count_10m >= 3` compares "
    "without conversions (CEL has separate `int` and `double`; this subset has one number type)",
    STRING: "UTF-8 text; compared by code point (the UTF-8 byte order)",
    BOOL: "`true` or `false`",
    NULL: "`null`: a missing value; only as a branch of `? :` (use `has(field)` to test "
    "for a missing field)",
}

# Limits on the text and tree of one rule: a rule over a limit is refused when written.
MAX_CHARS = 2_000
MAX_DEPTH = 32
MAX_NODES = 500
MAX_REGEX_CHARS = 200
MAX_REGEX_REPEAT = 100
MAX_EXACT_INTEGER = 2**53  # larger integer literals would not be exact as doubles
LIMITS = (
    ("characters in a rule", MAX_CHARS),
    ("depth of the syntax tree (a chain of `&&` or `||` counts once)", MAX_DEPTH),
    ("nodes in the syntax tree (every literal, field, operator and call)", MAX_NODES),
    ("characters in a `matches` pattern", MAX_REGEX_CHARS),
    ("a counted repetition `{m,n}` in a pattern", MAX_REGEX_REPEAT),
    ("magnitude of an integer literal (exact as a double)", MAX_EXACT_INTEGER),
)


@dataclass(frozen=True)
class Operator:
    symbol: str
    operands: tuple[tuple[str, ...], ...]  # the accepted operand types, one tuple per form
    result: str
    meaning: str


LOGICAL = {
    "&&": Operator("&&", ((BOOL, BOOL),), BOOL, "and (Kleene: `false && null` is `false`)"),
    "||": Operator("||", ((BOOL, BOOL),), BOOL, "or (Kleene: `true || null` is `true`)"),
}
UNARY = {
    "!": Operator("!", ((BOOL,),), BOOL, "not (`!null` is `null`)"),
    "-": Operator("-", ((NUMBER,),), NUMBER, "negation"),
}
_ORDERED = ((NUMBER, NUMBER), (STRING, STRING))
_EQUATABLE = (*_ORDERED, (BOOL, BOOL))
COMPARISONS = {
    "==": Operator("==", _EQUATABLE, BOOL, "equal"),
    "!=": Operator("!=", _EQUATABLE, BOOL, "not equal"),
    "<": Operator("<", _ORDERED, BOOL, "less than"),
    "<=": Operator("<=", _ORDERED, BOOL, "less than or equal"),
    ">": Operator(">", _ORDERED, BOOL, "greater than"),
    ">=": Operator(">=", _ORDERED, BOOL, "greater than or equal"),
}
ARITHMETIC = {
    "+": Operator("+", ((NUMBER, NUMBER),), NUMBER, "addition"),
    "-": Operator("-", ((NUMBER, NUMBER),), NUMBER, "subtraction"),
    "*": Operator("*", ((NUMBER, NUMBER),), NUMBER, "multiplication"),
    "/": Operator("/", ((NUMBER, NUMBER),), NUMBER, "division; by zero gives `null`"),
    "%": Operator(
        "%",
        ((NUMBER, NUMBER),),
        NUMBER,
        "remainder with the sign of the dividend (C `fmod`); by zero gives `null`",
    ),
}
MEMBERSHIP = Operator(
    "in",
    ((NUMBER, "[number, …]"), (STRING, "[string, …]"), (STRING, "list('name')")),
    BOOL,
    "membership of a list literal (literals of one type) or of a named list of strings; never null",
)
CONDITIONAL = Operator(
    "c ? a : b",
    ((BOOL, "T", "T"),),
    "T",
    "`a` when `c` is true, `b` when false, `null` when `c` is null; `a` and `b` of one type "
    "(either may be `null`)",
)


@dataclass(frozen=True)
class Function:
    name: str
    call: str  # how it is written
    arguments: tuple[str, ...]  # receiver first for methods
    result: str
    meaning: str
    method: bool  # written `receiver.name(args)`
    plain: bool  # written `name(args)`
    literal_argument: bool = False  # its argument after the receiver must be a string literal


FUNCTIONS = {
    "has": Function(
        "has",
        "has(field)",
        ("field",),
        BOOL,
        "true when the field has a value (not missing, not null, not NaN)",
        method=False,
        plain=True,
    ),
    "size": Function(
        "size",
        "size(s), s.size()",
        (STRING,),
        NUMBER,
        "number of Unicode code points",
        method=True,
        plain=True,
    ),
    "startsWith": Function(
        "startsWith",
        "s.startsWith('prefix')",
        (STRING, STRING),
        BOOL,
        "`s` begins with the literal prefix",
        method=True,
        plain=False,
        literal_argument=True,
    ),
    "endsWith": Function(
        "endsWith",
        "s.endsWith('suffix')",
        (STRING, STRING),
        BOOL,
        "`s` ends with the literal suffix",
        method=True,
        plain=False,
        literal_argument=True,
    ),
    "contains": Function(
        "contains",
        "s.contains('part')",
        (STRING, STRING),
        BOOL,
        "`s` contains the literal text",
        method=True,
        plain=False,
        literal_argument=True,
    ),
    "matches": Function(
        "matches",
        "s.matches('regex')",
        (STRING, STRING),
        BOOL,
        "the RE2 pattern matches somewhere in `s` (anchor with `^` and `$`); the pattern is "
        "a literal checked when the rule is written",
        method=True,
        plain=False,
        literal_argument=True,
    ),
    "list": Function(
        "list",
        "list('name')",
        ("string literal",),
        "list of strings",
        "the named list (card ids, terminal ids, …), only on the right of `in`",
        method=False,
        plain=True,
        literal_argument=True,
    ),
}

# What a rule does with values that are not ordinary: both evaluators do exactly this, and
# the property test holds them equal on data full of these cases.
SEMANTICS = (
    (
        "a missing optional field (`country`, `channel`, …)",
        "reads as `null`. Comparisons, arithmetic and functions of `null` give `null`; "
        "`&&`, `||` and `!` are three-valued (Kleene, as in SQL): `false && null` is "
        "`false`, `true || null` is `true`, `!null` is `null`. Test with `has(country)`",
    ),
    (
        "NaN in a number (a feature, the score)",
        "reads as `null`, as does a NaN computed by arithmetic (`inf - inf`)",
    ),
    ("infinity", "an ordinary number: larger than every other; overflow gives infinity"),
    ("division or remainder by zero", "`null`"),
    (
        "a rule whose value is `null`",
        "does not match: a rule matches a transaction only when it is `true`",
    ),
    (
        "`x in [...]`, `x in list('name')` with `x` null",
        "`false`, as in CEL (where `null` equals no list item): `!(country in ['FR'])` "
        "matches a transaction without a country",
    ),
    ("`c ? a : b` with `c` null", "`null`"),
)
