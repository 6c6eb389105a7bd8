"""POST /alerts/{alert_id}/feedback: an analyst's verdict."""

from __future__ import annotations

from typing import Annotated

from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.exceptions import NotFoundError, ServiceError
from aws_lambda_powertools.event_handler.openapi.params import Body, Path

from .. import views
from ..auth import Principal
from ..models import FeedbackRequest, FeedbackResponse
from ..repository import AlertNotFoundError, RevisionConflictError
from ..services import services
from ..verdicts import HistoryFullError, QuotaExceededError
from .errors import FORBIDDEN, NOT_FOUND, UNAUTHORISED, VALIDATION, error, ok

router = Router()  # type: ignore[no-untyped-call]

AlertId = Annotated[str, Path(pattern=r"^[0-9a-f]{32}$", description="32 lowercase hex")]


class ForbiddenError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(403, message)


class ConflictError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(409, message)


class TooManyVerdictsError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(429, message)


class UnprocessableError(ServiceError):
    def __init__(self, message: str) -> None:
        super().__init__(422, message)


@router.post(
    "/alerts/<alert_id>/feedback",
    summary="Give a verdict (analysts): status, history, audit, and a held Label v1",
    responses={
        **ok("The alert with its verdict.", FeedbackResponse),
        **UNAUTHORISED,
        **FORBIDDEN,
        **NOT_FOUND,
        409: error("Other verdicts kept changing the alert; retry."),
        **VALIDATION,
        429: error("The analyst's verdict quota for 24 hours is used up."),
    },
    tags=["feedback"],
)
def give_feedback(
    alert_id: AlertId, feedback: Annotated[FeedbackRequest, Body()]
) -> FeedbackResponse:
    principal: Principal = router.context["principal"]
    if not principal.may_give_verdicts:
        raise ForbiddenError("only members of the analysts group may give verdicts")
    try:
        alert = services().verdicts.give(alert_id, feedback.label, feedback.note, principal)
    except AlertNotFoundError:
        raise NotFoundError(f"no alert {alert_id}") from None
    except RevisionConflictError:
        raise ConflictError("the alert's verdict kept changing; read it again") from None
    except QuotaExceededError:
        raise TooManyVerdictsError(
            "verdict quota reached: no more verdicts from this account for now"
        ) from None
    except HistoryFullError:
        raise UnprocessableError(
            "alert: its verdict history is full; no further verdicts can be recorded on it"
        ) from None
    return FeedbackResponse(alert=views.summary(alert))
