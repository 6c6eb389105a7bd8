"""A `matches` pattern is checked when the rule is written: both evaluators run it on RE2
(pyarrow's kernel and DuckDB's `regexp_matches`), which never backtracks; the checks here
keep patterns small and portable to backtracking engines (Athena's) as well: no
backreferences, no lookaround, no inline flags, no quantifier over a group that holds an
unbounded one (`(a+)+`), counted repetitions up to MAX_REGEX_REPEAT.

RE2's own acceptance is probed with pyarrow's kernel, imported only then: where pyarrow is
not installed the structural checks above decide alone (the job, which has it, probes RE2
again when it loads a rule set), so that a caller without pyarrow (an API build without it)
can still check rules."""

from __future__ import annotations

import re
from re import _constants as sre_constants  # the stdlib's own regex parser
from re import _parser as sre_parse
from typing import Any

from rules.language import MAX_REGEX_CHARS, MAX_REGEX_REPEAT

_REFUSED = {
    sre_constants.GROUPREF: "a backreference",
    sre_constants.GROUPREF_EXISTS: "a conditional group",
    sre_constants.ASSERT: "a lookahead or lookbehind",
    sre_constants.ASSERT_NOT: "a negative lookahead or lookbehind",
}
_ATOMIC_NOUN = "an atomic group or a possessive quantifier"
_FLAGS_NOUN = "an inline flag such as (?i)"
_NESTED_NOUN = "a quantifier over an unbounded quantifier (like (a+)+)"
_ATOMIC_MESSAGE, _FLAGS_MESSAGE, _NESTED_MESSAGE = (
    f"{what} is not allowed" for what in (_ATOMIC_NOUN, _FLAGS_NOUN, _NESTED_NOUN)
)
# What a pattern may not hold, for the language reference (reference.py).
REFUSED_CONSTRUCTS = (
    *_REFUSED.values(),
    _ATOMIC_NOUN,
    _FLAGS_NOUN,
    _NESTED_NOUN,
    f"a counted repetition above {MAX_REGEX_REPEAT}",
    f"more than {MAX_REGEX_CHARS} characters",
    "anything RE2 does not accept",
)
_REPEATS = (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT)
_ATOMIC = {
    getattr(sre_constants, name)
    for name in ("ATOMIC_GROUP", "POSSESSIVE_REPEAT")
    if hasattr(sre_constants, name)
}


def pattern_problem(pattern: str) -> str | None:
    """Why `pattern` is refused, or None when it is fine."""
    if len(pattern) > MAX_REGEX_CHARS:
        return f"the pattern has more than {MAX_REGEX_CHARS} characters"
    try:
        parsed = sre_parse.parse(pattern)
    except (re.error, OverflowError, RecursionError, ValueError) as error:
        return f"bad regular expression: {error}"
    if parsed.state.flags & ~re.UNICODE:
        return _FLAGS_MESSAGE
    problem = _structure(list(parsed))
    if problem:
        return problem
    return _re2_refusal(pattern)


def _re2_refusal(pattern: str) -> str | None:
    """Why RE2 (pyarrow's kernel) refuses `pattern`; None when it takes it or pyarrow is
    not installed (the API Lambda)."""
    try:
        import pyarrow as pa
        import pyarrow.compute as pc
    except ImportError:
        return None
    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern=pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as error:
        return f"RE2 refuses the pattern: {str(error).splitlines()[0]}"
    return None


def _structure(items: list[tuple[Any, Any]]) -> str | None:
    """Walk sre_parse's items (op, argument) without recursion: refused constructs, counted
    repetitions over the limit, and a quantifier over an unbounded quantifier."""
    stack: list[tuple[list[tuple[Any, Any]], bool]] = [(items, False)]
    while stack:
        current, under_repeat = stack.pop()
        for op, av in current:
            if op in _REFUSED:
                return f"{_REFUSED[op]} is not allowed"
            if op in _ATOMIC:
                return _ATOMIC_MESSAGE
            if op == sre_constants.SUBPATTERN:
                _group, add_flags, del_flags, inner = av
                if add_flags or del_flags:
                    return _FLAGS_MESSAGE
                stack.append((list(inner), under_repeat))
            elif op == sre_constants.BRANCH:
                stack.extend((list(branch), under_repeat) for branch in av[1])
            elif op in _REPEATS:
                low, high, inner = av
                unbounded = high == sre_constants.MAXREPEAT
                if low > MAX_REGEX_REPEAT or (not unbounded and high > MAX_REGEX_REPEAT):
                    return f"a repetition count above {MAX_REGEX_REPEAT} is not allowed"
                if under_repeat and unbounded:
                    return _NESTED_MESSAGE
                stack.append((list(inner), under_repeat or high > 1))
    return None
