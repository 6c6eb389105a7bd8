"""Error responses the routes document in the OpenAPI document."""

from __future__ import annotations

from aws_lambda_powertools.event_handler.exceptions import NotFoundError
from aws_lambda_powertools.event_handler.openapi.types import OpenAPIResponse

from ..models import ErrorBody


def ok(description: str, model: type) -> dict[int, OpenAPIResponse]:
    """The 200 response: Powertools documents only `responses` once they are given."""
    return {200: {"description": description, "content": {"application/json": {"model": model}}}}


def error(description: str) -> OpenAPIResponse:
    return {"description": description, "content": {"application/json": {"model": ErrorBody}}}


UNAUTHORISED: dict[int, OpenAPIResponse] = {401: error("No valid bearer token.")}
VALIDATION: dict[int, OpenAPIResponse] = {422: error("Invalid input; the message names the field.")}
NOT_FOUND: dict[int, OpenAPIResponse] = {404: error("No alert with this id.")}
FORBIDDEN: dict[int, OpenAPIResponse] = {403: error("Only analysts may give verdicts.")}


def created(description: str, model: type) -> dict[int, OpenAPIResponse]:
    return {201: {"description": description, "content": {"application/json": {"model": model}}}}


def unavailable() -> NotFoundError:
    """The rules and lists routes where no rule registry is configured (RULES_ROOT)."""
    return NotFoundError("no rule registry here (RULES_ROOT is not set)")


TOO_LARGE: dict[int, OpenAPIResponse] = {
    413: error(
        "The body is larger than the route takes "
        "(16 KiB; 64 KiB for a rule; 1 MiB for a list upload)."
    )
}

#: What a change of rules or lists may answer besides its success.
CHANGES: dict[int, OpenAPIResponse] = {
    **UNAUTHORISED,
    **TOO_LARGE,
    403: error(
        "Not allowed: readers may not change, only rule-admins decide, and never "
        "on their own request (four eyes)."
    ),
    404: error("No such rule, list or change."),
    409: error("The rule set or list changed since the request, or the change is decided."),
    **VALIDATION,
    429: error("The analyst's change quota for 24 hours is used up."),
}
