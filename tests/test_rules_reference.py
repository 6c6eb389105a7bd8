"""docs/rules.md says what the compiler does: its reference is the one generated from the
compiler's tables, its example rules compile against the job's schema, and its refused
rules are refused with the very messages it shows."""

from __future__ import annotations

import re

import pytest

from rules import RuleError, compile_rule
from rules.reference import PAGE, committed_block, generated_block
from tests.rules_support import default_schema


def table_rows(heading: str) -> list[tuple[str, str]]:
    """The first two cells of the rows of the table under `heading` (its first table)."""
    text = PAGE.read_text().split(heading, 1)[1]
    rows = []
    for line in text.splitlines():
        if line.startswith("| `"):
            cells = re.split(r"(?<!\\)\|", line)[1:3]
            rows.append((cells[0].strip(), cells[1].strip()))
        elif rows and not line.startswith("|"):
            break
    return rows


def rule_text(cell: str) -> str:
    """A rule as the page writes it: in backticks, `⏎` for a line break, `\\|` for `|`."""
    return "\n".join(part.strip("`") for part in cell.split("⏎")).replace("\\|", "|")


def test_the_committed_reference_equals_the_generated_one() -> None:
    assert committed_block() == generated_block(), "run: python -m rules.reference --write"


@pytest.mark.parametrize("cell", [rule for rule, _ in table_rows("## Examples")])
def test_every_example_rule_of_the_page_compiles_against_the_jobs_schema(cell: str) -> None:
    assert compile_rule(rule_text(cell), default_schema()).root.type == "bool"


@pytest.mark.parametrize(("cell", "message"), table_rows("Refused when written"))
def test_every_refused_rule_of_the_page_is_refused_with_the_message_shown(
    cell: str, message: str
) -> None:
    with pytest.raises(RuleError) as refused:
        compile_rule(rule_text(cell), default_schema())
    assert str(refused.value) == message.removeprefix("`` ").removesuffix(" ``")
