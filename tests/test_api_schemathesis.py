"""The OpenAPI document, as published, tested with schemathesis against the local server
(the Lambda handler on moto): generated requests, valid and invalid, never get a 5xx and
every response matches what the document says. Bounded: a few dozen examples per
operation and mode.

Driven through hypothesis directly (schemathesis' pytest plugin does not run under pytest 9).
"""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.generation.modes import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from lambdas.api.app import openapi_document
from tests.api_support import ApiUnderTest, alert_record, recent, started_api

MAX_EXAMPLES = 30
# Routes whose well-formed request may still be refused by what no schema can say: an
# expression that does not type-check or a hostile list row (422), a list that exists or a
# change already decided (409), the analyst's change quota, which generated requests use up
# (429). They are held to every other check (no 5xx, documented statuses and bodies).
STATEFUL = {
    ("POST", "/rules/changes"),
    ("POST", "/rules/changes/{change_id}/approve"),
    ("POST", "/rules/changes/{change_id}/reject"),
    ("POST", "/lists"),
    ("POST", "/lists/{name}/entries"),
    ("DELETE", "/lists/{name}/entries"),
}
RULE_TEXT_OPERATIONS = {("POST", "/rules/backtest")}
OPERATIONS = [
    (method.upper(), path)
    for path, operations in json.loads(openapi_document())["paths"].items()
    for method in operations
]


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    for under_test in started_api():
        under_test.store([alert_record(index, recent(index + 1)) for index in range(700, 712)])
        yield under_test


@pytest.fixture(scope="module")
def published(api: ApiUnderTest) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_url(f"{api.api}/openapi.json")


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_the_api_keeps_its_published_contract(
    api: ApiUnderTest,
    published: schemathesis.BaseSchema,
    method: str,
    path: str,
    mode: GenerationMode,
) -> None:
    operation = published[path][method]
    headers = {"Authorization": f"Bearer {api.token('analyst')}"}

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        derandomize=True,
        database=None,
    )
    def conforms(case: schemathesis.Case) -> None:
        # A cursor is opaque: any string fits the schema, only the API's own are accepted.
        forged_cursor = bool(case.query and "cursor" in case.query)
        stateful = (method, path) in STATEFUL
        # A rule's expression (the rule language) and a window of at most 31 days are not
        # expressible in JSON Schema: a schema-valid backtest may be a 422, never a 5xx.
        rule_text = (method, path) in RULE_TEXT_OPERATIONS
        excluded = [positive_data_acceptance] if forged_cursor or stateful or rule_text else []
        case.call_and_validate(base_url=api.api, headers=headers, excluded_checks=excluded)

    conforms()
