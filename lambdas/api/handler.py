"""Lambda entry point of the API (HTTP API, payload format 2.0), and of the local server.

The token is checked before routing, so a request without a valid one is a 401 whatever
else is wrong with it; the principal then travels in the resolver's context. A body is
judged before it is parsed: larger than the route takes (`body_limit`: 16 KiB; 64 KiB for a
rule to check, backtest or ask for; 1 MiB for a list's bulk upload) is a 413, not UTF-8 or
nested deeper than MAX_BODY_DEPTH is a 422 (a deep body would otherwise exhaust the JSON decoder's
recursion: a 500).
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.utilities.typing import LambdaContext

from .app import OPENAPI_PATH, app, error_response
from .auth import AuthError
from .services import services

logger = Logger(service="api")
PUBLIC = {("GET", OPENAPI_PATH)}
#: The largest body a route takes (a verdict: a label and a 1,000-character note).
MAX_BODY_BYTES = 16 * 1024
#: The bulk upload of a list's entries (POST /lists/{name}/entries) takes up to 1 MiB.
MAX_UPLOAD_BYTES = 1024 * 1024
UPLOAD_ROUTE = re.compile(r"^/lists/[^/]+/entries$")
#: A rule (an expression of up to 2,000 characters, each up to 12 bytes as a JSON escape,
#: a 500-character reason and its backtest) to check, to backtest or to ask for: up to 64 KiB.
MAX_RULE_BYTES = 64 * 1024
RULE_ROUTE = re.compile(r"^/rules/(validate|changes|backtest)$")
#: The deepest nesting of arrays and objects any route's body has (a verdict: 1).
MAX_BODY_DEPTH = 8


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
    limit = body_limit(*route)
    refusal = _refuse_body(event.get("body"), bool(event.get("isBase64Encoded")), limit)
    if refusal is not None:
        return refusal
    return app.resolve(event, context)  # type: ignore[arg-type]


def body_limit(method: str, path: str) -> int:
    """The largest body the route takes."""
    if method == "POST" and UPLOAD_ROUTE.match(path):
        return MAX_UPLOAD_BYTES
    if method == "POST" and RULE_ROUTE.match(path):
        return MAX_RULE_BYTES
    return MAX_BODY_BYTES


def _refuse_body(
    body: object, encoded: bool, max_bytes: int = MAX_BODY_BYTES
) -> dict[str, Any] | None:
    """The 4xx for a body no route can take, before anything parses it; None if it may go on."""
    if not body:
        return None
    text = str(body)
    limit = 4 * ((max_bytes + 2) // 3) if encoded else max_bytes
    if len(text) > limit:  # too long whatever it decodes to: no need to decode it
        return _plain(413, f"body: larger than {max_bytes} bytes")
    if encoded:  # API Gateway base64-encodes a body that is not text
        try:
            text = base64.b64decode(text, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return _plain(422, "body: the request body must be UTF-8 JSON")
    if len(text.encode("utf-8", errors="surrogatepass")) > max_bytes:
        return _plain(413, f"body: larger than {max_bytes} bytes")
    if nesting_depth(text) > MAX_BODY_DEPTH:
        return _plain(422, f"body: nested deeper than {MAX_BODY_DEPTH} levels")
    return None


def nesting_depth(text: str) -> int:
    """The deepest nesting of JSON arrays and objects in `text` (brackets inside strings do
    not count), without parsing it: linear, no recursion."""
    depth = deepest = 0
    in_string = escaped = False
    for char in text:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _plain(status: int, message: str) -> dict[str, Any]:
    response = error_response(status, message)
    return {
        "statusCode": status,
        "headers": {"Content-Type": "application/json"},
        "body": response.body,
        "isBase64Encoded": False,
    }
