"""The local console server: the development issuer's authorization-code flow with PKCE
(what the console does with Cognito's hosted UI), /config.json, the built console with its
index.html fallback, and the demo's serving step."""

from __future__ import annotations

import base64
import hashlib
import secrets
import urllib.parse
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from local.console_server import serve_demo
from local.dev_issuer import CLIENT_ID, token_for
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
