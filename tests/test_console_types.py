"""The console's API types (console/src/api/types.ts) name exactly the fields of the
schemas in the API's OpenAPI document: a field renamed or added on one side fails here."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from lambdas.api.app import openapi_document

TYPES = Path(__file__).resolve().parent.parent / "console" / "src" / "api" / "types.ts"
# TypeScript interface -> OpenAPI schema
SCHEMA_OF = {
    "AlertSummary": "AlertSummary",
    "AlertFull": "AlertDetail",
    "AlertDetail": "AlertDetailResponse",
    "AlertPage": "AlertPage",
    "Verdict": "Verdict",
    "Reason": "Reason",
    "Baseline": "Baseline",
    "Metrics": "Metrics",
    "FeedbackRequest": "FeedbackRequest",
    # rules, change requests and lists (issue 24)
    "Rule": "RuleBody",
    "RuleSet": "RulesResponse",
    "RuleProblem": "RuleProblem",
    "ValidateResponse": "ValidateResponse",
    "RuleDiff": "RuleDiff",
    "ListDiff": "ListDiff",
    "Change": "Change",
    "ChangePage": "ChangePage",
    "ChangeRequest": "ChangeRequest",
    "AuditRecord": "AuditRecord",
    "History": "History",
    "ListSummary": "ListSummary",
    "ListPage": "ListPage",
    "ListEntry": "EntryOut",
    "EntryIn": "EntryIn",
    "EntryPage": "EntryPage",
    "BacktestRequest": "BacktestRequest",
    "BacktestResult": "BacktestResult",
    "DayHits": "DayHits",
    "RuleHitCount": "RuleHitCount",
    "RuleHits": "RuleHits",
}
_INTERFACE = re.compile(
    r"^export interface (\w+)(?: extends (\w+))? \{\n(.*?)^\}", re.MULTILINE | re.DOTALL
)
_FIELD = re.compile(r"^  (\w+)\??:", re.MULTILINE)


def interface_fields() -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for name, parent, body in _INTERFACE.findall(TYPES.read_text()):
        found[name] = set(_FIELD.findall(body)) | (found[parent] if parent else set())
    return found


@pytest.mark.parametrize(("interface", "schema"), sorted(SCHEMA_OF.items()))
def test_the_console_type_has_the_fields_of_the_api_schema(interface: str, schema: str) -> None:
    schemas = json.loads(openapi_document())["components"]["schemas"]
    assert interface_fields()[interface] == set(schemas[schema]["properties"])
