"""Error responses the routes document in the OpenAPI document."""

from __future__ import annotations

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
