"""POST /rules/backtest: a draft rule over the decision log; GET /rules/hits: each rule's
hits in the last hours (lambdas/api/backtests.py, rules/backtest.py)."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Body, Query
from botocore.exceptions import BotoCoreError, ClientError

from rules import RuleError
from rules.backtest import MAX_HITS_HOURS, AthenaError, BacktestError

from ..auth import Principal
from ..backtests import BacktestUnavailableError
from ..models import BacktestRequest, BacktestResult, RuleHits
from ..services import services
from .errors import UNAUTHORISED, VALIDATION, error, ok

router = Router()  # type: ignore[no-untyped-call]
logger = Logger(service="api")
UNAVAILABLE = {503: error("The backtest engine is not configured or did not answer in time.")}


class ForbiddenError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class UnprocessableError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(422, message)


class UnavailableError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(503, message)


@router.post(
    "/rules/backtest",
    summary="Backtest a draft rule (analysts) over the decision log of a window of ≤ 31 days",
    responses={
        **ok(
            "Hits, hits per day, precision and recall, alerts added and suppressed.", BacktestResult
        ),
        **UNAUTHORISED,
        403: error("Only analysts may run backtests."),
        **VALIDATION,
        **UNAVAILABLE,
    },
    tags=["rules"],
)
def post_backtest(request: Annotated[BacktestRequest, Body()]) -> BacktestResult:
    principal: Principal = router.context["principal"]
    if not principal.may_give_verdicts:
        raise ForbiddenError("only members of the analysts group may run backtests")
    current = services()
    try:
        result = current.backtests.run(
            request.rule.expression, request.rule.outcome, request.start, request.end, current.now()
        )
    except RuleError as failure:
        raise UnprocessableError(f"body.rule.expression: {failure}") from None
    except BacktestError as failure:
        raise UnprocessableError(f"body.{failure}") from None
    except (BacktestUnavailableError, AthenaError, BotoCoreError, ClientError) as failure:
        logger.warning("backtest failed", extra={"reason": str(failure)})
        raise UnavailableError(f"the backtest could not run: {failure}") from None
    return BacktestResult.model_validate(result)


@router.get(
    "/rules/hits",
    summary="Each rule's hits and alerts in the decision log of the last hours",
    responses={
        **ok("Hits per rule, most first.", RuleHits),
        **UNAUTHORISED,
        **VALIDATION,
        **UNAVAILABLE,
    },
    tags=["rules"],
)
def get_rule_hits(hours: Annotated[int, Query(ge=1, le=MAX_HITS_HOURS)] = 24) -> RuleHits:
    current = services()
    try:
        return RuleHits.model_validate(current.backtests.hits(hours, current.now()))
    except (BacktestUnavailableError, AthenaError, BotoCoreError, ClientError) as failure:
        logger.warning("rule hits failed", extra={"reason": str(failure)})
        raise UnavailableError(f"the rule hits could not be read: {failure}") from None
