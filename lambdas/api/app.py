"""The resolver: the routers, the OpenAPI document, and errors as 4xx bodies that name
what was wrong."""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response, content_types
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError
from aws_lambda_powertools.event_handler.openapi.models import HTTPBearer

from contracts.card_number import mask_card_numbers

from .changes import ChangeConflictError
from .repository import CursorError
from .routes import alerts, backtest, feedback, lists, metrics, rules
from .rulebook import STATUS_OF_ERROR

TITLE = "fraud-stream analyst API"
VERSION = "1.0.0"
OPENAPI_PATH = "/openapi.json"
MAX_FIELD_NAME = 64

app = APIGatewayHttpResolver(enable_validation=True)


def reject_unknown_query(
    resolver: APIGatewayHttpResolver, next_middleware: NextMiddleware
) -> Response[Any]:
    """A query parameter the route does not define is a 422 (`serverity=high` is a typo the
    caller wants to hear about, not a filter silently dropped)."""
    route = resolver.context.get("_route")
    given = resolver.current_event.query_string_parameters or {}
    if route is not None and given:
        known = {field.alias for field in route.dependant.query_params}
        unknown = sorted(set(given) - known)
        if unknown:
            names = (_field_name(name) for name in unknown)
            message = "; ".join(f"query.{name}: unknown parameter" for name in names)
            return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, message)
    return next_middleware(resolver)


app.use(middlewares=[reject_unknown_query])
app.include_router(alerts.router)
app.include_router(feedback.router)
app.include_router(metrics.router)
app.include_router(rules.router)
app.include_router(lists.router)
app.include_router(backtest.router)


def openapi_document() -> str:
    return app.get_openapi_json_schema(
        title=TITLE,
        version=VERSION,
        description="Alerts, analyst verdicts (to the labels stream) and metrics. "
        "Every route but this document needs `Authorization: Bearer <JWT>` from the "
        "console's issuer (Cognito on AWS, local/console/dev_issuer.py locally).",
        security_schemes={"bearer": HTTPBearer(bearerFormat="JWT")},
        security=[{"bearer": []}],
    )


@app.get(OPENAPI_PATH, include_in_schema=False)
def get_openapi() -> Response[str]:
    return Response(
        status_code=200, content_type=content_types.APPLICATION_JSON, body=openapi_document()
    )


def error_response(status: int, message: str, **extra: object) -> Response[str]:
    body = {"statusCode": status, "message": message, **extra}
    return Response(
        status_code=status, content_type=content_types.APPLICATION_JSON, body=json.dumps(body)
    )


@app.exception_handler(RequestValidationError)  # type: ignore[untyped-decorator]
def invalid_request(error: RequestValidationError) -> Response[str]:
    """422 naming each field (`query.limit`, `body.note`); the input's values are not echoed
    (a name the caller made up, e.g. an unexpected body key, is shortened and masked)."""
    details = [
        {
            "loc": [_field_name(part) for part in e["loc"]],
            "type": e["type"],
            "msg": e.get("msg", ""),
        }
        for e in error.errors()
    ]
    message = "; ".join(f"{'.'.join(map(str, d['loc']))}: {d['msg']}" for d in details)
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, message, detail=details)


def _field_name(part: object) -> str | int:
    if isinstance(part, int):
        return part
    text = mask_card_numbers(str(part))
    return text if len(text) <= MAX_FIELD_NAME else text[: MAX_FIELD_NAME - 1] + "…"


@app.exception_handler(CursorError)  # type: ignore[untyped-decorator]
def invalid_cursor(error: CursorError) -> Response[str]:
    return error_response(HTTPStatus.UNPROCESSABLE_ENTITY, f"query.cursor: {error}")


@app.exception_handler(list(STATUS_OF_ERROR))  # type: ignore[untyped-decorator]
def refused_change(error: Exception) -> Response[str]:
    """A change of rules or lists refused (lambdas/api/rulebook.py): its status, its reason."""
    return error_response(STATUS_OF_ERROR[type(error)], str(error))


@app.exception_handler(ChangeConflictError)  # type: ignore[untyped-decorator]
def decided_meanwhile(error: ChangeConflictError) -> Response[str]:
    return error_response(HTTPStatus.CONFLICT, f"change {error} was decided meanwhile")
