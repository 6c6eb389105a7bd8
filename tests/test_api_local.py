"""The local console server: the development issuer's authorization-code flow with PKCE
(what the console does with Cognito's hosted UI), /config.json, the built console with its
index.html fallback, and the demo's serving step."""

from __future__ import annotations

import base64
import hashlib
import http.client
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.console.dev_issuer import (
    CLIENT_ID,
    CODE_LIFETIME_S,
    MAX_OPEN_CODES,
    DevIssuer,
    OAuthError,
    token_for,
)
from local.console.server import console_headers, serve_demo
from tests.api_support import TABLE, ApiUnderTest, alert_record, recent, started_api


@pytest.fixture(scope="module")
def api() -> Iterator[ApiUnderTest]:
    yield from started_api()


def pkce() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).decode().rstrip("=")


def authorize(api: ApiUnderTest, challenge: str, user_button: str) -> dict[str, str]:
    """The sign-in page, then its button: the query of the redirect back to the console."""
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": f"{api.origin}/",
        "state": "s-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
        "scope": "openid email profile",
    }
    page = requests.get(f"{api.origin}/oauth2/authorize", params=query, timeout=30)
    assert page.status_code == 200 and f">{user_button}</button>" in page.text
    user = "analyst@example.com" if "analyst" in user_button else "reader@example.com"
    redirect = requests.post(
        f"{api.origin}/oauth2/authorize",
        data={**query, "user": user},
        allow_redirects=False,
        timeout=30,
    )
    assert redirect.status_code == 302
    location = urllib.parse.urlsplit(redirect.headers["Location"])
    assert f"{location.scheme}://{location.netloc}{location.path}" == f"{api.origin}/"
    return dict(urllib.parse.parse_qsl(location.query))


def exchange(api: ApiUnderTest, code: str, verifier: str) -> requests.Response:
    return requests.post(
        f"{api.origin}/oauth2/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "code_verifier": verifier,
            "client_id": CLIENT_ID,
            "redirect_uri": f"{api.origin}/",
        },
        timeout=30,
    )


def test_sign_in_with_pkce_gives_tokens_the_api_accepts(api: ApiUnderTest) -> None:
    verifier, challenge = pkce()
    redirect = authorize(api, challenge, "Sign in as analyst")
    assert redirect["state"] == "s-123"
    response = exchange(api, redirect["code"], verifier)
    assert response.status_code == 200
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] > 0
    for token in (tokens["id_token"], tokens["access_token"]):
        alerts = requests.get(
            f"{api.api}/alerts", headers={"Authorization": f"Bearer {token}"}, timeout=30
        )
        assert alerts.status_code == 200
    again = exchange(api, redirect["code"], verifier)
    assert again.status_code == 400 and again.json()["error"] == "invalid_grant"


def test_a_reader_signs_in_and_may_not_give_verdicts(api: ApiUnderTest) -> None:
    record = alert_record(900, recent(3), card="card_local_reader")
    api.store([record])
    verifier, challenge = pkce()
    code = authorize(api, challenge, "Sign in as reader")["code"]
    token = exchange(api, code, verifier).json()["id_token"]
    response = requests.post(
        f"{api.api}/alerts/{record['alert_id']}/feedback",
        json={"label": "fraud"},
        headers={"Authorization": f"Bearer {token}"},
        timeout=30,
    )
    assert response.status_code == 403


def test_a_wrong_code_verifier_is_refused(api: ApiUnderTest) -> None:
    _, challenge = pkce()
    code = authorize(api, challenge, "Sign in as analyst")["code"]
    response = exchange(api, code, "another-verifier-" + "x" * 40)
    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_the_authorize_page_refuses_a_request_without_pkce(api: ApiUnderTest) -> None:
    response = requests.get(
        f"{api.origin}/oauth2/authorize",
        params={"client_id": CLIENT_ID, "redirect_uri": f"{api.origin}/", "response_type": "code"},
        timeout=30,
    )
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_discovery_keys_and_console_config(api: ApiUnderTest) -> None:
    discovery = requests.get(f"{api.origin}/.well-known/openid-configuration", timeout=30).json()
    assert discovery["issuer"] == api.origin
    assert discovery["jwks_uri"] == f"{api.origin}/.well-known/jwks.json"
    assert discovery["code_challenge_methods_supported"] == ["S256"]
    keys = requests.get(discovery["jwks_uri"], timeout=30).json()["keys"]
    assert [(k["kty"], k["alg"]) for k in keys] == [("RSA", "RS256")]
    assert "d" not in keys[0], "the private exponent never leaves the issuer"
    assert requests.get(f"{api.origin}/config.json", timeout=30).json() == {
        "apiBaseUrl": f"{api.origin}/api",
        "authority": api.origin,
        "clientId": CLIENT_ID,
        "redirectUri": f"{api.origin}/",
    }


def test_token_for_signs_with_the_running_servers_issuer(api: ApiUnderTest) -> None:
    response = requests.get(
        f"{api.api}/metrics",
        headers={"Authorization": f"Bearer {token_for('reader')}"},
        timeout=30,
    )
    assert response.status_code == 200


def test_the_built_console_is_served_with_an_index_fallback(
    api: ApiUnderTest, tmp_path: Path
) -> None:
    (tmp_path / "assets").mkdir()
    (tmp_path / "index.html").write_text("<!doctype html><title>console</title>")
    (tmp_path / "assets" / "app.js").write_text("console.log(1)")
    api.console.server.settings.dist = tmp_path
    try:
        assert "console" in requests.get(f"{api.origin}/", timeout=30).text
        route = requests.get(f"{api.origin}/alerts/abc", timeout=30)
        assert route.status_code == 200 and "<title>console</title>" in route.text
        script = requests.get(f"{api.origin}/assets/app.js", timeout=30)
        assert script.headers["Content-Type"].endswith("javascript")
        assert requests.get(f"{api.origin}/assets/missing.js", timeout=30).status_code == 404
        escape = requests.get(f"{api.origin}/..%2F..%2Fetc%2Fpasswd", timeout=30)
        assert "root:" not in escape.text
    finally:
        api.console.server.settings.dist = Path("/nonexistent")


def test_the_demo_step_serves_the_alerts_and_prints_a_token(
    api: ApiUnderTest, capsys: pytest.CaptureFixture[str]
) -> None:
    api.store([alert_record(901, recent(2), card="card_local_demo")])
    serve_demo(api.aws.endpoint, TABLE, interactive=False)
    printed = capsys.readouterr().out
    assert "console: http://127.0.0.1:" in printed
    assert "analyst token (1 h): ey" in printed
    assert "alerts on its first page" in printed and " 0 alerts" not in printed


def raw_get(api: ApiUnderTest, path: str, host: str) -> tuple[int, dict[str, str]]:
    """A GET with a Host header of our choosing (what a DNS-rebinding page's browser sends)."""
    port = urllib.parse.urlsplit(api.origin).port
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.putrequest("GET", path, skip_host=True)
        connection.putheader("Host", host)
        connection.endheaders()
        response = connection.getresponse()
        response.read()
        return response.status, {k.lower(): v for k, v in response.getheaders()}
    finally:
        connection.close()


@pytest.mark.parametrize(
    "path", ["/config.json", "/.well-known/openid-configuration", "/api/openapi.json", "/"]
)
def test_a_request_for_another_host_name_is_refused(api: ApiUnderTest, path: str) -> None:
    port = urllib.parse.urlsplit(api.origin).port
    for host in (f"attacker.example:{port}", "attacker.example", f"127.0.0.1:{port + 1}", ""):
        assert raw_get(api, path, host)[0] == 421, host
    for host in (f"127.0.0.1:{port}", f"localhost:{port}", f"[::1]:{port}"):
        assert raw_get(api, path, host)[0] == 200, host


@pytest.mark.parametrize(
    "redirect_uri",
    ["https://attacker.example/", "http://127.0.0.1:1/", "{origin}/evil", "{origin}", ""],
)
def test_codes_go_only_to_the_consoles_registered_redirect_uri(
    api: ApiUnderTest, redirect_uri: str
) -> None:
    _, challenge = pkce()
    query = {
        "client_id": CLIENT_ID,
        "redirect_uri": redirect_uri.format(origin=api.origin),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
    }
    page = requests.get(f"{api.origin}/oauth2/authorize", params=query, timeout=30)
    assert page.status_code == 400 and page.json()["error"] == "invalid_request"
    posted = requests.post(
        f"{api.origin}/oauth2/authorize",
        data={**query, "user": "analyst@example.com"},
        allow_redirects=False,
        timeout=30,
    )
    assert posted.status_code == 400 and "Location" not in posted.headers


def test_cross_origin_reads_are_allowed_only_to_the_servers_own_origins(
    api: ApiUnderTest,
) -> None:
    for path in ("/oauth2/token", "/.well-known/jwks.json", "/api/openapi.json"):
        for origin in ("https://attacker.example", "null"):
            response = requests.options(f"{api.origin}{path}", headers={"Origin": origin})
            assert "Access-Control-Allow-Origin" not in response.headers, (path, origin)
        response = requests.get(f"{api.origin}{path}", headers={"Origin": api.origin})
        assert response.headers.get("Access-Control-Allow-Origin") == api.origin
    token = requests.post(f"{api.origin}/oauth2/token", data={}, timeout=30)
    assert token.headers.get("Access-Control-Allow-Origin") != "*"


def test_an_unused_code_expires_and_is_purged() -> None:
    now = [1000.0]
    issuer = DevIssuer("http://127.0.0.1:9", clock=lambda: now[0])
    verifier, challenge = pkce()
    form = {
        "client_id": CLIENT_ID,
        "redirect_uri": "http://127.0.0.1:9/",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "response_type": "code",
        "user": "analyst",
    }
    code = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(issuer.sign_in(form)).query))["code"]
    issuer.sign_in(form)
    assert issuer.open_codes() == 2
    now[0] += CODE_LIFETIME_S
    assert issuer.open_codes() == 0, "expired codes are dropped, not kept until used"
    exchange = {"grant_type": "authorization_code", "code": code, "code_verifier": verifier}
    with pytest.raises(OAuthError, match="invalid_grant"):
        issuer.exchange({**exchange, "client_id": CLIENT_ID, "redirect_uri": form["redirect_uri"]})


def test_outstanding_codes_are_capped() -> None:
    issuer = DevIssuer("http://127.0.0.1:9")
    form = {
        "client_id": CLIENT_ID,
        "redirect_uri": "http://127.0.0.1:9/",
        "code_challenge": pkce()[1],
        "code_challenge_method": "S256",
        "response_type": "code",
        "user": "reader",
    }
    for _ in range(MAX_OPEN_CODES + 50):
        issuer.sign_in(form)
    assert issuer.open_codes() == MAX_OPEN_CODES


def test_every_response_carries_the_consoles_security_headers(api: ApiUnderTest) -> None:
    expected = console_headers(api.origin, api.origin)
    assert "frame-ancestors 'none'" in expected["Content-Security-Policy"]
    for path in ("/", "/config.json", "/api/openapi.json", "/oauth2/authorize"):
        response = requests.get(f"{api.origin}{path}", timeout=30)
        for name, value in expected.items():
            assert response.headers.get(name) == value, (path, name)
