"""GET /metrics: alert volumes, review figures and model versions of the last N days."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query

from .. import metrics
from ..models import Metrics
from ..services import services
from .errors import UNAUTHORISED, VALIDATION, ok

router = Router()  # type: ignore[no-untyped-call]


@router.get(
    "/metrics",
    summary="Alerts per hour and day, by severity and reason, review precision and time",
    responses={**ok("The figures.", Metrics), **UNAUTHORISED, **VALIDATION},
    tags=["metrics"],
)
def get_metrics(days: Annotated[int, Query(ge=1, le=90)] = 7) -> Metrics:
    current = services()
    alerts, complete_from = metrics.read_alerts(current.repository, current.now(), days)
    return metrics.compute(alerts, complete_from)
