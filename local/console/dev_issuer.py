"""A development OpenID issuer: the console signs in locally as it does with Cognito.

OAuth 2.0 authorization-code flow with PKCE (S256), RS256 tokens signed with a key made at
start, the keys at `/.well-known/jwks.json`, the usual discovery document. The sign-in page
offers two users instead of a password:

- analyst@example.com, group `analysts` (may give verdicts);
- senior@example.com, groups `analysts` and `rule-admins` (a second analyst, who can
  confirm a verdict and approve another analyst's change of rules or lists);
- admin@example.com, groups `analysts` and `rule-admins` (a second approver);
- reader@example.com, group `readers` (may only read).

Tokens carry Cognito's claims (`cognito:groups`, `token_use`, `aud` / `client_id`), so the
API verifies them with the code it runs on AWS. Served by local/console/server.py;
`token_for("analyst")` signs a token for tests and the demo without the browser dance.

Like Cognito's app client, it sends codes only to the client's registered redirect URIs
(exact match); a code lives CODE_LIFETIME_S, is used once, and expired codes are purged
whenever a code is issued or exchanged (at most MAX_OPEN_CODES are outstanding).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from joserfc import jwt
from joserfc.jwk import RSAKey

CLIENT_ID = "fraud-console-local"
TOKEN_LIFETIME_S = 3600
CODE_LIFETIME_S = 300
#: Codes outstanding at once; past it the oldest are dropped (sign-ins cannot fill memory).
MAX_OPEN_CODES = 1000
USERS: dict[str, tuple[str, ...]] = {
    "analyst@example.com": ("analysts",),
    "senior@example.com": ("analysts", "rule-admins"),
    "admin@example.com": ("analysts", "rule-admins"),
    "reader@example.com": ("readers",),
}


class OAuthError(ValueError):
    """A bad authorization or token request: `error` is the OAuth error code."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(f"{error}: {description}")
        self.error = error
        self.description = description


@dataclass(frozen=True)
class _Grant:
    user: str
    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    expires: float


def user_email(user: str) -> str:
    """`analyst` or `analyst@example.com` -> `analyst@example.com`."""
    email = user if "@" in user else f"{user}@example.com"
    if email not in USERS:
        raise KeyError(f"unknown user {user!r}: one of {', '.join(USERS)}")
    return email


def s256(verifier: str) -> str:
    digest = hashlib.sha256(verifier.encode("utf-8")).digest()
    return base64.urlsafe_b64encode(digest).decode().rstrip("=")


class DevIssuer:
    def __init__(
        self,
        issuer: str,
        client_id: str = CLIENT_ID,
        redirect_uris: tuple[str, ...] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.issuer = issuer.rstrip("/")
        self.client_id = client_id
        #: Where codes may be sent: the console's own URI unless others are registered.
        self.redirect_uris = redirect_uris or (f"{self.issuer}/",)
        self._clock = clock
        self._kid = secrets.token_hex(8)
        self._key = RSAKey.generate_key(
            2048, parameters={"kid": self._kid, "use": "sig", "alg": "RS256"}
        )
        self._grants: dict[str, _Grant] = {}
        self._lock = threading.Lock()

    # --- documents ------------------------------------------------------------------

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._key.as_dict(private=False)]}

    def openid_configuration(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "authorization_endpoint": f"{self.issuer}/oauth2/authorize",
            "token_endpoint": f"{self.issuer}/oauth2/token",
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["code"],
            "grant_types_supported": ["authorization_code"],
            "code_challenge_methods_supported": ["S256"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": ["openid", "email", "profile"],
            "token_endpoint_auth_methods_supported": ["none"],
        }

    # --- tokens ---------------------------------------------------------------------

    def token_for(self, user: str, nonce: str | None = None) -> str:
        """An ID token for `user` (`analyst`, `reader` or their e-mail)."""
        return self._sign(self._claims(user_email(user), "id", nonce))

    def access_token_for(self, user: str) -> str:
        return self._sign(self._claims(user_email(user), "access"))

    def _claims(self, email: str, use: str, nonce: str | None = None) -> dict[str, Any]:
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": hashlib.sha256(email.encode()).hexdigest()[:32],
            "cognito:groups": list(USERS[email]),
            "token_use": use,
            "iat": now,
            "auth_time": now,
            "exp": now + TOKEN_LIFETIME_S,
        }
        if use == "id":
            claims.update(aud=self.client_id, email=email, email_verified=True)
            if nonce:
                claims["nonce"] = nonce
        else:
            claims.update(client_id=self.client_id, username=email, scope="openid email profile")
        return claims

    def _sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode({"alg": "RS256", "kid": self._kid, "typ": "JWT"}, claims, self._key)

    # --- the authorization-code flow ------------------------------------------------

    def check_authorize(self, query: dict[str, str]) -> None:
        """Raise OAuthError unless this is an authorization request the issuer serves."""
        if query.get("response_type") != "code":
            raise OAuthError("unsupported_response_type", "response_type must be code")
        if query.get("client_id") != self.client_id:
            raise OAuthError("unauthorized_client", f"client_id must be {self.client_id}")
        if query.get("redirect_uri") not in self.redirect_uris:
            raise OAuthError("invalid_request", "redirect_uri is not one registered for the client")
        if query.get("code_challenge_method") != "S256" or not query.get("code_challenge"):
            raise OAuthError("invalid_request", "PKCE with code_challenge_method=S256 is required")

    def sign_in_page(self, query: dict[str, str]) -> str:
        self.check_authorize(query)
        hidden = "".join(
            f'<input type="hidden" name="{html.escape(k)}" value="{html.escape(v)}">'
            for k, v in sorted(query.items())
        )
        buttons = "".join(
            f'<p><button type="submit" name="user" value="{html.escape(email)}">'
            f"Sign in as {html.escape(email.split('@')[0])}</button> "
            f"<small>{html.escape(email)}, group {html.escape(', '.join(groups))}</small></p>"
            for email, groups in USERS.items()
        )
        return (
            "<!doctype html><html lang=en><head><meta charset=utf-8>"
            "<title>Sign in (development issuer)</title></head><body><main>"
            "<h1>Sign in</h1><p>Local development issuer: choose a user.</p>"
            f'<form method="post" action="/oauth2/authorize">{hidden}{buttons}</form>'
            "</main></body></html>"
        )

    def sign_in(self, form: dict[str, str]) -> str:
        """The redirect location with a one-time code for the chosen user."""
        self.check_authorize(form)
        try:
            email = user_email(form.get("user", ""))
        except KeyError as error:
            raise OAuthError("access_denied", str(error)) from None
        code = secrets.token_urlsafe(24)
        with self._lock:
            self._purge()
            while len(self._grants) >= MAX_OPEN_CODES:
                del self._grants[next(iter(self._grants))]  # the oldest
            self._grants[code] = _Grant(
                user=email,
                client_id=form["client_id"],
                redirect_uri=form["redirect_uri"],
                code_challenge=form["code_challenge"],
                nonce=form.get("nonce") or None,
                expires=self._clock() + CODE_LIFETIME_S,
            )
        parameters = {"code": code, **({"state": form["state"]} if "state" in form else {})}
        separator = "&" if urllib.parse.urlsplit(form["redirect_uri"]).query else "?"
        return f"{form['redirect_uri']}{separator}{urllib.parse.urlencode(parameters)}"

    def exchange(self, form: dict[str, str]) -> dict[str, Any]:
        """POST /oauth2/token: a code and its PKCE verifier for the tokens (once)."""
        if form.get("grant_type") != "authorization_code":
            raise OAuthError("unsupported_grant_type", "grant_type must be authorization_code")
        with self._lock:
            self._purge()
            grant = self._grants.pop(form.get("code", ""), None)
        if grant is None:
            raise OAuthError("invalid_grant", "unknown, used or expired code")
        if form.get("client_id") != grant.client_id:
            raise OAuthError("invalid_client", "client_id does not match the code's")
        if form.get("redirect_uri") != grant.redirect_uri:
            raise OAuthError("invalid_grant", "redirect_uri does not match the code's")
        if s256(form.get("code_verifier", "")) != grant.code_challenge:
            raise OAuthError("invalid_grant", "code_verifier does not match code_challenge")
        return {
            "id_token": self._sign(self._claims(grant.user, "id", grant.nonce)),
            "access_token": self.access_token_for(grant.user),
            "token_type": "Bearer",
            "expires_in": TOKEN_LIFETIME_S,
        }

    def open_codes(self) -> int:
        """Codes issued and neither used nor expired."""
        with self._lock:
            self._purge()
            return len(self._grants)

    def _purge(self) -> None:
        """Drop expired codes (the caller holds the lock)."""
        now = self._clock()
        for code in [code for code, grant in self._grants.items() if grant.expires <= now]:
            del self._grants[code]


_current: DevIssuer | None = None


def use_issuer(issuer: DevIssuer) -> None:
    """Make `issuer` the one `token_for` signs with (the console server does at start)."""
    global _current
    _current = issuer


def token_for(user: str) -> str:
    """An ID token for `user` from the running console server's issuer."""
    if _current is None:
        raise RuntimeError("no development issuer: start local.console.server first")
    return _current.token_for(user)
