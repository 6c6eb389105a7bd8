"""The analyst console on one loopback origin, running the API's Lambda code.

    python -m local.console.server --port 8080 [--endpoint http://127.0.0.1:<moto>]

- `/api/...`: each request becomes an API Gateway HTTP API event (payload 2.0) for
  `lambdas.api.handler.lambda_handler`, whose response becomes the HTTP response;
- `/oauth2/*`, `/.well-known/*`: the development issuer (local/console/dev_issuer.py);
- `/config.json`: where the console finds the API and the issuer;
- everything else: the built console (`console/dist/`, index.html for client routes).

Without `--endpoint` it starts its own moto with the alert table and demo alerts.
`start_in_thread(endpoint)` serves from a thread on a free port and returns the origin.

It answers only requests whose Host is this loopback origin (127.0.0.1, localhost or
[::1] on its port: a page that rebinds its own DNS name to 127.0.0.1 is refused with 421),
allows cross-origin reads only to its own origins (no `*`), and serves every response with
the console's security headers (`console_headers`, the same as Amplify's on AWS).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import json
import mimetypes
import os
import signal
import sys
import threading
import time
import urllib.parse
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3

from lambdas.alert_fanout.alert import parse_alert
from lambdas.alert_fanout.config import FanoutConfig
from lambdas.alert_fanout.store import AlertStore
from lambdas.api import handler as api_handler
from lambdas.api import services as api_services
from lambdas.api.backtests import Backtests
from lambdas.api.config import ApiConfig
from lambdas.api.repository import iso
from local.aws import ACCESS_KEY, REGION, SECRET_KEY, LocalAws
from local.aws.api_resources import LOCAL_RULES_ROOT, provision_api
from local.aws.archive import ARCHIVE_BUCKET, ensure_bucket
from local.aws.fanout_resources import provision_fanout
from local.console.dev_issuer import CLIENT_ID, DevIssuer, OAuthError, use_issuer
from local.traffic.demo_alerts import demo_alerts
from model_export.backtest import DuckDbEngine

ROOT = Path(__file__).resolve().parents[2]
DIST = ROOT / "console" / "dist"
API_PREFIX = "/api"
MAX_BODY = 1 << 20
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "[::1]")


def console_headers(api: str, auth: str) -> dict[str, str]:
    """The security headers the console is served with: Amplify's `custom_headers` on AWS
    (infra/terraform/modules/api, held equal by tests/test_api_terraform.py) and this server.
    Scripts, styles and images only from the app ('self'); requests only to the app, the
    API (`api`) and the issuer (`auth`, Cognito's domain); never framed; HTTPS remembered
    for a year."""
    connect = " ".join(dict.fromkeys(("'self'", api, auth)))
    forms = " ".join(dict.fromkeys(("'self'", auth)))
    policy = (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        f"connect-src {connect}; form-action {forms}; frame-ancestors 'none'; "
        "base-uri 'none'; object-src 'none'"
    )
    return {
        "Content-Security-Policy": policy,
        "Strict-Transport-Security": "max-age=31536000; includeSubDomains",
        "X-Content-Type-Options": "nosniff",
        "X-Frame-Options": "DENY",
        "Referrer-Policy": "strict-origin-when-cross-origin",
    }


#: Lambda runs one event at a time per container: so does the local API.
_lambda_lock = threading.Lock()


@dataclass
class ConsoleSettings:
    endpoint: str | None
    alerts_table: str = "fraud-alerts"
    labels_stream: str = "labels"
    dist: Path = DIST
    #: The rule registry the API publishes to: the root a local job reads (rules_path).
    rules_root: str = LOCAL_RULES_ROOT


def api_gateway_event(
    method: str, target: str, headers: dict[str, str], body: bytes, source_ip: str
) -> dict[str, Any]:
    """An HTTP request as API Gateway's HTTP API hands it to Lambda (payload format 2.0)."""
    split = urllib.parse.urlsplit(target)
    path = split.path[len(API_PREFIX) :] or "/"
    query: dict[str, list[str]] = {}
    for name, value in urllib.parse.parse_qsl(split.query, keep_blank_values=True):
        query.setdefault(name, []).append(value)
    lowered: dict[str, list[str]] = {}
    for name, value in headers.items():
        lowered.setdefault(name.lower(), []).append(value)
    now = datetime.now(UTC)
    text_body: str | None = None
    encoded = False
    if body:
        try:
            text_body = body.decode("utf-8")
        except UnicodeDecodeError:
            text_body, encoded = base64.b64encode(body).decode(), True
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": "$default",
        "rawPath": path,
        "rawQueryString": split.query,
        "headers": {name: ",".join(values) for name, values in lowered.items()},
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "local",
            "domainName": lowered.get("host", ["localhost"])[0],
            "domainPrefix": "local",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": source_ip,
                "userAgent": lowered.get("user-agent", [""])[0],
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": "$default",
            "stage": "$default",
            "time": now.strftime("%d/%b/%Y:%H:%M:%S +0000"),
            "timeEpoch": int(now.timestamp() * 1000),
        },
        "isBase64Encoded": encoded,
    }
    if query:
        event["queryStringParameters"] = {k: ",".join(v) for k, v in query.items()}
    if "cookie" in lowered:
        event["cookies"] = [c.strip() for c in ";".join(lowered["cookie"]).split(";") if c]
    if text_body is not None:
        event["body"] = text_body
    return event


class _TooLargeError(ValueError):
    pass


class _Handler(BaseHTTPRequestHandler):
    server: ConsoleHttpServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return  # quiet: requests are not logged (tokens travel in headers)

    # --- dispatch -------------------------------------------------------------------

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_OPTIONS(self) -> None:
        self._dispatch("OPTIONS")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def do_PATCH(self) -> None:
        self._dispatch("PATCH")

    def _dispatch(self, method: str) -> None:
        path = urllib.parse.urlsplit(self.path).path
        if self.headers.get("Host", "") not in self.server.hosts:
            self.close_connection = True
            message = b"this server answers only its loopback origin (Host header refused)"
            self._send(HTTPStatus.MISDIRECTED_REQUEST, message, "text/plain")
            return
        try:
            body = self._body()
        except _TooLargeError as error:
            self.close_connection = True  # the unread body must not be taken for a request
            self._send(HTTPStatus.REQUEST_ENTITY_TOO_LARGE, str(error).encode(), "text/plain")
            return
        except ValueError as error:
            self._send(HTTPStatus.BAD_REQUEST, str(error).encode(), "text/plain")
            return
        if path == API_PREFIX or path.startswith(API_PREFIX + "/"):
            self._api(method, body)
        elif path.startswith(("/oauth2/", "/.well-known/")):
            self._issuer(method, path, body)
        elif path == "/config.json" and method == "GET":
            self._json(HTTPStatus.OK, self.server.console_config())
        elif method == "GET":
            self._static(path)
        else:
            self._send(HTTPStatus.METHOD_NOT_ALLOWED, b"method not allowed", "text/plain")

    def _body(self) -> bytes:
        length = int(self.headers.get("Content-Length") or 0)
        if length < 0:
            raise ValueError("bad Content-Length")
        if length > MAX_BODY:
            raise _TooLargeError(f"request body larger than {MAX_BODY} bytes")
        return self.rfile.read(length) if length else b""

    # --- the API: the Lambda handler -------------------------------------------------

    def _api(self, method: str, body: bytes) -> None:
        headers = {name: value for name, value in self.headers.items()}
        event = api_gateway_event(method, self.path, headers, body, self.client_address[0])
        with _lambda_lock:
            response = api_handler.lambda_handler(event, None)
        payload = response.get("body") or ""
        data = base64.b64decode(payload) if response.get("isBase64Encoded") else payload.encode()
        self.send_response(int(response.get("statusCode", 200)))
        response_headers = {k.lower(): v for k, v in (response.get("headers") or {}).items()}
        for name, value in response_headers.items():
            if name not in ("content-length", "connection"):
                self.send_header(name, str(value))
        for cookie in response.get("cookies") or []:
            self.send_header("set-cookie", cookie)
        self._common_headers()
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    # --- the development issuer -----------------------------------------------------

    def _issuer(self, method: str, path: str, body: bytes) -> None:
        issuer = self.server.issuer
        query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(self.path).query))
        try:
            if method == "GET" and path == "/.well-known/jwks.json":
                self._json(HTTPStatus.OK, issuer.jwks())
            elif method == "GET" and path == "/.well-known/openid-configuration":
                self._json(HTTPStatus.OK, issuer.openid_configuration())
            elif method == "GET" and path == "/oauth2/authorize":
                page = issuer.sign_in_page(query).encode()
                self._send(HTTPStatus.OK, page, "text/html; charset=utf-8")
            elif method == "POST" and path == "/oauth2/authorize":
                location = issuer.sign_in(_form(body))
                self.send_response(HTTPStatus.FOUND)
                self.send_header("Location", location)
                self._common_headers()
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif method == "POST" and path == "/oauth2/token":
                self._json(HTTPStatus.OK, issuer.exchange(_form(body)), cache=False)
            elif method == "OPTIONS":
                self._send(HTTPStatus.NO_CONTENT, b"", "text/plain")
            else:
                self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
        except OAuthError as error:
            document = {"error": error.error, "error_description": error.description}
            self._json(HTTPStatus.BAD_REQUEST, document)

    # --- static files ---------------------------------------------------------------

    def _static(self, path: str) -> None:
        dist = self.server.settings.dist.resolve()
        candidate = (dist / urllib.parse.unquote(path).lstrip("/")).resolve()
        if candidate.is_relative_to(dist) and candidate.is_file():
            kind = mimetypes.guess_type(candidate.name)[0] or "application/octet-stream"
            self._send(HTTPStatus.OK, candidate.read_bytes(), kind)
            return
        if "." in path.rsplit("/", 1)[-1]:
            self._send(HTTPStatus.NOT_FOUND, b"not found", "text/plain")
            return
        index = dist / "index.html"
        if index.is_file():
            self._send(HTTPStatus.OK, index.read_bytes(), "text/html; charset=utf-8")
        else:
            message = (
                "console not built: run `npm --prefix console ci && npm --prefix console run build`"
            )
            self._send(HTTPStatus.OK, message.encode(), "text/plain; charset=utf-8")

    # --- responses ------------------------------------------------------------------

    def _json(self, status: HTTPStatus, document: Any, cache: bool = True) -> None:
        self._send(status, json.dumps(document).encode(), "application/json", cache)

    def _send(self, status: HTTPStatus, data: bytes, kind: str, cache: bool = True) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self._common_headers()
        if not cache:
            self.send_header("Cache-Control", "no-store")
        self.end_headers()
        self.wfile.write(data)

    def _common_headers(self) -> None:
        """The console's security headers; CORS only for this server's own origins."""
        for name, value in self.server.security_headers.items():
            self.send_header(name, value)
        origin = self.headers.get("Origin")
        if origin in self.server.origins:
            self.send_header("Access-Control-Allow-Origin", origin)
            self.send_header("Access-Control-Allow-Headers", "authorization, content-type")
        self.send_header("Vary", "Origin")


def _form(body: bytes) -> dict[str, str]:
    return dict(urllib.parse.parse_qsl(body.decode("utf-8", errors="replace")))


class ConsoleHttpServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, settings: ConsoleSettings, port: int = 0) -> None:
        super().__init__(("127.0.0.1", port), _Handler)
        self.settings = settings
        port = self.server_address[1]
        self.origin = f"http://127.0.0.1:{port}"
        self.hosts = frozenset(f"{name}:{port}" for name in LOOPBACK_NAMES)
        self.origins = frozenset(f"http://{host}" for host in self.hosts)
        self.security_headers = console_headers(self.origin, self.origin)
        self.issuer = DevIssuer(self.origin, redirect_uris=(self.console_config()["redirectUri"],))
        use_issuer(self.issuer)
        if settings.endpoint:
            for name, value in (
                ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
                ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
                ("AWS_DEFAULT_REGION", REGION),
            ):
                os.environ.setdefault(name, value)
        self.previous_services = api_services.current()
        config = self.api_config()
        if settings.endpoint:
            provision_api(
                lambda service: boto3.client(  # type: ignore[call-overload]
                    service, endpoint_url=settings.endpoint, region_name=REGION
                ),
                config,
            )
        api_services.use(self.local_services(config))

    def local_services(self, config: ApiConfig) -> api_services.Services:
        """The Lambda's services, with backtests run by DuckDB over the local decision log
        (the Lambda's Athena engine has no Athena to run on here)."""
        built = api_services.Services.from_config(config)
        s3 = boto3.client("s3", endpoint_url=self.settings.endpoint, region_name=REGION)
        if self.settings.endpoint:
            ensure_bucket(s3, ARCHIVE_BUCKET)
        built.backtests = Backtests(
            DuckDbEngine(config.decisions_root, s3=s3),
            timedelta(days=config.backtest_label_delay_days),
        )
        return built

    def api_config(self) -> ApiConfig:
        return ApiConfig(
            alerts_table=self.settings.alerts_table,
            labels_stream=self.settings.labels_stream,
            jwt_issuer=self.origin,
            jwt_audience=CLIENT_ID,
            backtest_engine="duckdb",
            decisions_root=f"s3://{ARCHIVE_BUCKET}",
            region=REGION,
            aws_endpoint=self.settings.endpoint,
            rules_root=self.settings.rules_root if self.settings.endpoint else "",
        )

    def console_config(self) -> dict[str, str]:
        return {
            "apiBaseUrl": f"{self.origin}{API_PREFIX}",
            "authority": self.origin,
            "clientId": CLIENT_ID,
            "redirectUri": f"{self.origin}/",
        }


@dataclass
class RunningConsole:
    server: ConsoleHttpServer
    thread: threading.Thread = field(repr=False)

    @property
    def origin(self) -> str:
        return self.server.origin

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)
        api_services.use(self.server.previous_services)


def start(settings: ConsoleSettings, port: int = 0) -> RunningConsole:
    server = ConsoleHttpServer(settings, port)
    thread = threading.Thread(target=server.serve_forever, name="console-server", daemon=True)
    thread.start()
    return RunningConsole(server, thread)


def start_in_thread(endpoint: str | None, port: int = 0, **settings: Any) -> str:
    """Serve in a daemon thread on a free loopback port (or `port`); the origin."""
    return start(ConsoleSettings(endpoint=endpoint, **settings), port).origin


@contextlib.contextmanager
def running(endpoint: str | None, port: int = 0, **settings: Any) -> Iterator[RunningConsole]:
    console = start(ConsoleSettings(endpoint=endpoint, **settings), port)
    try:
        yield console
    finally:
        console.stop()


def seed_alerts(aws: LocalAws, table: str, count: int = 60) -> None:
    """Demo alerts detected over the last hours, stored as the fan-out stores them."""
    store = AlertStore(aws.client("dynamodb"), table)
    now = datetime.now(UTC)
    for index, record in enumerate(demo_alerts(count, cards=12)):
        detected = now - timedelta(minutes=23 * (count - index))
        record = {
            **record,
            "event_time": iso(detected - timedelta(milliseconds=180)),
            "ingested_at": iso(detected - timedelta(milliseconds=80)),
            "detected_at": iso(detected),
            "features": {
                "amount": record["amount"],
                "card_avg_amount_30d": 99.1,
                "card_avg_amount_1d": round(record["amount"] / 2 + 50, 2),
                "card_txn_count_1h": 3.0,
                "card_txn_count_1d": 5.0,
                "card_txn_count_30d": 41.0,
            },
        }
        store.put_new(parse_alert(json.dumps(record)))


@contextlib.contextmanager
def seeded_local_aws(table: str) -> Iterator[LocalAws]:
    """A moto server with the alert store (as Terraform makes it) and demo alerts."""
    with LocalAws() as aws:
        provision_fanout(aws.client, replace(FanoutConfig(), alerts_table=table))
        seed_alerts(aws, table)
        yield aws


def serve_demo(endpoint: str, alerts_table: str, interactive: bool | None = None) -> None:
    """`make demo`'s last step: the console and the API over the demo's alerts. Interactive
    (stdin a terminal) it serves until Ctrl-C; otherwise it checks the API answers, then stops."""
    interactive = sys.stdin.isatty() if interactive is None else interactive
    with running(endpoint, alerts_table=alerts_table) as console:
        token = console.server.issuer.token_for("analyst")
        request = urllib.request.Request(
            f"{console.origin}{API_PREFIX}/alerts?limit=200",
            headers={"Authorization": f"Bearer {token}"},
        )
        with urllib.request.urlopen(request, timeout=30) as response:
            listed = len(json.load(response)["items"])
        api = f"{console.origin}{API_PREFIX}"
        print(f"console: {console.origin}/  (API {api}, {listed} alerts on its first page)")
        print(f"console: analyst token (1 h): {token}")
        if not interactive:
            return
        print("console: serving until Ctrl-C …", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, default=8080, help="loopback port (0: any free)")
    parser.add_argument("--endpoint", default=None, help="AWS endpoint (the moto server)")
    parser.add_argument("--alerts-table", default="fraud-alerts")
    parser.add_argument("--labels-stream", default="labels")
    parser.add_argument("--dist", type=Path, default=DIST, help="the built console")
    args = parser.parse_args(argv)
    signal.signal(signal.SIGTERM, _interrupt)  # stop cleanly (moto too) when terminated
    with contextlib.ExitStack() as stack:
        endpoint = args.endpoint
        if endpoint is None:
            endpoint = stack.enter_context(seeded_local_aws(args.alerts_table)).endpoint
            print(f"local AWS: moto on {endpoint}, with demo alerts")
        console = stack.enter_context(
            running(
                endpoint,
                args.port,
                alerts_table=args.alerts_table,
                labels_stream=args.labels_stream,
                dist=args.dist,
            )
        )
        print(f"console: {console.origin}/   API: {console.origin}{API_PREFIX}/openapi.json")
        print(f"analyst token: {console.server.issuer.token_for('analyst')}", flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            while True:
                time.sleep(3600)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
