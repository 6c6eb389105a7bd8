"""Rules and change requests: the current rule set, validation, requests, four-eyes
decisions and a rule's history (lambdas/api/rulebook.py has the rules of the game)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler import Response, content_types
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Body, Path, Query

from ..auth import Principal
from ..models import (
    NAME,
    Change,
    ChangePage,
    ChangeRequest,
    ChangeStatus,
    Decision,
    History,
    RuleBody,
    RuleProblem,
    RulesResponse,
    ValidateRequest,
    ValidateResponse,
)
from ..rulebook import RuleBook, rule_json
from ..services import services
from .errors import (
    CHANGES,
    NOT_FOUND,
    TOO_LARGE,
    UNAUTHORISED,
    VALIDATION,
    created,
    ok,
    unavailable,
)

router = Router()  # type: ignore[no-untyped-call]

ChangeId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex")]
RuleName = Annotated[str, Path(pattern=NAME, description="The rule's name")]


def rulebook() -> RuleBook:
    book = services().rulebook
    if book is None:
        raise unavailable()
    return book


def principal() -> Principal:
    found: Principal = router.context["principal"]
    return found


@router.get(
    "/rules",
    summary="The current rule set and how many changes wait for approval",
    responses={**ok("The rules in force.", RulesResponse), **UNAUTHORISED, **NOT_FOUND},
    tags=["rules"],
)
def get_rules() -> RulesResponse:
    version, ruleset, pending = rulebook().current()
    rules = [RuleBody.model_validate(rule_json(spec)) for spec in ruleset.rules]
    return RulesResponse(version=version, rules=rules, pending=pending)


@router.post(
    "/rules/validate",
    summary="Type-check an expression against the job's schema and the current lists",
    responses={
        **ok("ok, or the errors with their place.", ValidateResponse),
        **UNAUTHORISED,
        **NOT_FOUND,
        **TOO_LARGE,
        **VALIDATION,
    },
    tags=["rules"],
)
def validate_rule(body: Annotated[ValidateRequest, Body()]) -> ValidateResponse:
    problems = rulebook().validate(body.expression)
    errors = [RuleProblem(message=p.message, position=p.position) for p in problems]
    return ValidateResponse(ok=not errors, errors=errors)


@router.get(
    "/rules/changes",
    summary="Change requests of a status, newest first (at most 100)",
    responses={**ok("The requests.", ChangePage), **UNAUTHORISED, **NOT_FOUND, **VALIDATION},
    tags=["rules"],
)
def list_changes(status: Annotated[ChangeStatus, Query()] = "pending") -> ChangePage:
    items = rulebook().changes.by_status(status)
    return ChangePage(items=[Change.model_validate(item) for item in items])


@router.post(
    "/rules/changes",
    summary="Ask for a rule change: applied at once unless the rule is or becomes active",
    responses={**created("The change, pending or applied.", Change), **CHANGES},
    tags=["rules"],
)
def request_change(body: Annotated[ChangeRequest, Body()]) -> Response[str]:
    change = rulebook().request_rule(
        body.action, body.rule.model_dump(), body.reason, body.backtest, principal()
    )
    return _created(change)


@router.get(
    "/rules/changes/<change_id>",
    summary="One change request",
    responses={**ok("The change.", Change), **UNAUTHORISED, **NOT_FOUND, **VALIDATION},
    tags=["rules"],
)
def get_change(change_id: ChangeId) -> Change:
    return Change.model_validate(rulebook().change(change_id))


@router.post(
    "/rules/changes/<change_id>/approve",
    summary="Approve and apply another analyst's change (rule-admins; four eyes)",
    responses={**ok("The change, applied.", Change), **CHANGES},
    tags=["rules"],
)
def approve_change(change_id: ChangeId, body: Annotated[Decision, Body()]) -> Change:
    return Change.model_validate(rulebook().approve(change_id, body.note, principal()))


@router.post(
    "/rules/changes/<change_id>/reject",
    summary="Reject a change (rule-admins)",
    responses={**ok("The change, rejected.", Change), **CHANGES},
    tags=["rules"],
)
def reject_change(change_id: ChangeId, body: Annotated[Decision, Body()]) -> Change:
    return Change.model_validate(rulebook().reject(change_id, body.note, principal()))


@router.get(
    "/rules/<name>/history",
    summary="A rule's audit records, newest first (at most 100)",
    responses={**ok("The records.", History), **UNAUTHORISED, **NOT_FOUND, **VALIDATION},
    tags=["rules"],
)
def rule_history(name: RuleName) -> History:
    return History.model_validate({"items": rulebook().history(name)})


def _created(change: dict[str, object]) -> Response[str]:
    return Response(
        status_code=201,
        content_type=content_types.APPLICATION_JSON,
        body=Change.model_validate(change).model_dump_json(),
    )
