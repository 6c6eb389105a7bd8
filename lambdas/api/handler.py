"""Lambda entry point of the API (HTTP API, payload format 2.0), and of the local server.

The token is checked before routing, so a request without a valid one is a 401 whatever
else is wrong with it; the principal then travels in the resolver's context.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from .app import OPENAPI_PATH, app, error_response
from .auth import AuthError
from .services import services

logger = Logger(service="api")
PUBLIC = {("GET", OPENAPI_PATH)}


def lambda_handler(event: dict[str, Any], context: LambdaContext | None) -> dict[str, Any]:
    http = event.get("requestContext", {}).get("http", {})
    route = (str(http.get("method", "")).upper(), str(event.get("rawPath", "")))
    if route not in PUBLIC and route[0] != "OPTIONS":
        try:
            principal = services().verifier.principal(event.get("headers") or {})
        except AuthError as error:
            logger.info("unauthenticated request", extra={"route": route, "reason": str(error)})
            return _plain(401, "a valid bearer token is required")
        if not principal.may_read:
            return _plain(403, "the token's groups allow no access (analysts or readers)")
        app.append_context(principal=principal)  # type: ignore[no-untyped-call]
    if not _utf8_body(event):
        return _plain(422, "body: the request body must be UTF-8 JSON")
    return app.resolve(event, context)  # type: ignore[arg-type]


def _utf8_body(event: dict[str, Any]) -> bool:
    """Whether the body (base64 when API Gateway says so) is text: anything else would fail
    inside the resolver's JSON decoding, a 500 for bad input."""
    body = event.get("body")
    if not body or not event.get("isBase64Encoded"):
        return True
    try:
        base64.b64decode(str(body), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    return True


def _plain(status: int, message: str) -> dict[str, Any]:
    response = error_response(status, message)
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }
