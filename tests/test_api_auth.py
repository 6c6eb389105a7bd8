"""lambdas/api/auth.py: who may do what, from a token checked like the HTTP API's Cognito
authoriser checks it (issuer, audience or client_id, expiry, RS256 with the issuer's keys)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from joserfc import jwt

from lambdas.api.auth import AuthError, TokenVerifier
from local.console.dev_issuer import CLIENT_ID, DevIssuer

ISSUER = "https://cognito-idp.eu-west-1.amazonaws.com/eu-west-1_example"


class KeySource:
    """The issuer's JWKS endpoint, counting fetches; its issuer can be swapped (rotation)."""

    def __init__(self, issuer: DevIssuer) -> None:
        self.issuer = issuer
        self.fetches = 0

    def __call__(self, url: str) -> dict[str, Any]:
        assert url == f"{ISSUER}/.well-known/jwks.json"
        self.fetches += 1
        return self.issuer.jwks()


def verifier_for(keys: KeySource, clock: Any = time.monotonic) -> TokenVerifier:
    url = f"{ISSUER}/.well-known/jwks.json"
    return TokenVerifier(ISSUER, CLIENT_ID, url, fetch=keys, clock=clock)


def test_groups_decide_reading_and_verdicts() -> None:
    issuer = DevIssuer(ISSUER)
    verifier = verifier_for(KeySource(issuer))
    analyst = verifier.verify(issuer.token_for("analyst"))
    reader = verifier.verify(issuer.token_for("reader"))
    assert analyst.name == "analyst@example.com"
    assert analyst.may_read and analyst.may_give_verdicts
    assert reader.may_read and not reader.may_give_verdicts


def test_keys_are_fetched_once_and_again_for_a_new_key_id_at_most_once_a_minute() -> None:
    keys = KeySource(DevIssuer(ISSUER))
    now = [1000.0]
    verifier = verifier_for(keys, clock=lambda: now[0])
    for _ in range(3):
        verifier.verify(keys.issuer.token_for("analyst"))
    assert keys.fetches == 1
    keys.issuer = DevIssuer(ISSUER)  # the issuer rotated its signing key
    with pytest.raises(AuthError):  # within the minute: no refetch for an unknown kid
        verifier.verify(keys.issuer.token_for("analyst"))
    assert keys.fetches == 1
    now[0] += 61
    verifier.verify(keys.issuer.token_for("analyst"))
    assert keys.fetches == 2


def test_an_expired_token_is_refused() -> None:
    issuer = DevIssuer(ISSUER)
    claims = issuer._claims("analyst@example.com", "id")
    claims["exp"] = int(time.time()) - 60
    token = jwt.encode({"alg": "RS256", "kid": issuer._kid}, claims, issuer._key)
    with pytest.raises(AuthError, match="expired"):
        verifier_for(KeySource(issuer)).verify(token)


@pytest.mark.filterwarnings("ignore:JWS algorithm")  # the test makes the bad token
def test_an_unsigned_token_is_refused() -> None:
    issuer = DevIssuer(ISSUER)
    claims = issuer._claims("analyst@example.com", "id")
    unsigned = jwt.encode({"alg": "none"}, claims, None, algorithms=["none"])
    with pytest.raises(AuthError):
        verifier_for(KeySource(issuer)).verify(unsigned)


def test_the_bearer_header_is_required() -> None:
    issuer = DevIssuer(ISSUER)
    verifier = verifier_for(KeySource(issuer))
    token = issuer.token_for("analyst")
    assert verifier.principal({"authorization": f"Bearer {token}"}).may_read
    assert verifier.principal({"Authorization": f"bearer {token}"}).may_read
    for headers in ({}, {"authorization": token}, {"authorization": "Bearer "}):
        with pytest.raises(AuthError):
            verifier.principal(headers)
