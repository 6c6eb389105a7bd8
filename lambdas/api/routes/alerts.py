"""GET /alerts (the queue) and GET /alerts/{alert_id} (one alert, in context)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from pydantic import AwareDatetime

from .. import views
from ..models import AlertDetailResponse, AlertPage, Severity, Status
from ..repository import AlertFilters
from ..services import services
from .errors import NOT_FOUND, UNAUTHORISED, VALIDATION, ok

router = Router()  # type: ignore[no-untyped-call]

AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex")]
CARD_ALERTS = 20


@router.get(
    "/alerts",
    summary="Alerts, newest first, filtered, one page at a time",
    responses={**ok("A page of alerts.", AlertPage), **UNAUTHORISED, **VALIDATION},
    tags=["alerts"],
)
def list_alerts(
    status: Annotated[Status | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    card_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    terminal_id: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    start: Annotated[
        AwareDatetime | None, Query(alias="from", description="detected_at ≥ (RFC 3339)")
    ] = None,
    end: Annotated[
        AwareDatetime | None, Query(alias="to", description="detected_at ≤ (RFC 3339)")
    ] = None,
    min_score: Annotated[float | None, Query(ge=0.0, le=1.0)] = None,
    reason_code: Annotated[str | None, Query(min_length=1, max_length=128)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(max_length=2048, description="next_cursor")] = None,
) -> AlertPage:
    filters = AlertFilters(
        status=status,
        severity=severity,
        card_id=card_id,
        terminal_id=terminal_id,
        start=_utc(start),
        end=_utc(end),
        min_score=min_score,
        reason_code=reason_code,
    )
    page = services().repository.page(filters, limit, cursor)
    return AlertPage(items=[views.summary(i) for i in page.items], next_cursor=page.next_cursor)


@router.get(
    "/alerts/<alert_id>",
    summary="One alert with its reasons, baselines, the card's other alerts and verdicts",
    responses={
        **ok("The alert in context.", AlertDetailResponse),
        **UNAUTHORISED,
        **NOT_FOUND,
        **VALIDATION,
    },
    tags=["alerts"],
)
def get_alert(alert_id: AlertId) -> AlertDetailResponse:
    repository = services().repository
    item = repository.get(alert_id)
    if item is None:
        raise NotFoundError(f"no alert {alert_id}")
    others = [
        views.summary(other)
        for other in repository.card_alerts(item["card_id"], CARD_ALERTS + 1)
        if other["alert_id"] != alert_id
    ][:CARD_ALERTS]
    return AlertDetailResponse(
        alert=views.detail(item),
        reasons=views.reasons(item),
        baselines=views.baselines(item.get("features", {})),
        card_alerts=others,
        verdicts=views.history(item),
    )


def _utc(moment: datetime | None) -> datetime | None:
    """The time in UTC; one at the edge of the calendar that cannot be converted is clamped."""
    if moment is None:
        return None
    try:
        return moment.astimezone(UTC)
    except OverflowError:
        edge = datetime.min if moment.year == datetime.min.year else datetime.max
        return edge.replace(tzinfo=UTC)
