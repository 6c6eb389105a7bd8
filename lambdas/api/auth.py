"""Who is calling: a JWT verified against the issuer's keys (JWKS), and what groups allow.

On AWS the HTTP API's Cognito authoriser checks the token first; the app checks it again
with the same rules (issuer, audience, expiry, RS256 signature), so the local server,
whose development issuer signs real tokens, runs exactly this code.
"""

from __future__ import annotations

import json
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

ANALYSTS = "analysts"
READERS = "readers"
RULE_ADMINS = "rule-admins"
GROUPS_CLAIM = "cognito:groups"
_KEYS_TTL_S = 3600.0
#: An unknown key id refetches the keys at most this often (random kids cannot flood the issuer).
_REFETCH_AFTER_S = 60.0


class AuthError(Exception):
    """The request carries no valid token: 401."""


@dataclass(frozen=True)
class Principal:
    subject: str
    name: str
    groups: frozenset[str]

    @property
    def may_read(self) -> bool:
        return bool(self.groups & {ANALYSTS, READERS, RULE_ADMINS})

    @property
    def may_give_verdicts(self) -> bool:
        return ANALYSTS in self.groups

    @property
    def may_request_changes(self) -> bool:
        """Ask for a change of rules or lists (a rule-admin is an analyst for this)."""
        return bool(self.groups & {ANALYSTS, RULE_ADMINS})

    @property
    def may_decide_changes(self) -> bool:
        """Approve or reject another analyst's change request."""
        return RULE_ADMINS in self.groups


def fetch_key_set(url: str) -> dict[str, Any]:
    with urllib.request.urlopen(url, timeout=5) as response:
        document: dict[str, Any] = json.load(response)
    return document


class TokenVerifier:
    """Verifies bearer tokens. The key set is fetched once, again after an hour, and again
    for an unknown key id (the issuer rotated its key) at most once a minute."""

    def __init__(
        self,
        issuer: str,
        audience: str,
        keys_url: str,
        fetch: Callable[[str], dict[str, Any]] = fetch_key_set,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys_url = keys_url
        self._fetch = fetch
        self._clock = clock
        self._keys: KeySet | None = None
        self._fetched_at = 0.0
        self._lock = threading.Lock()

    def principal(self, headers: Mapping[str, str]) -> Principal:
        authorization = next(
            (value for name, value in headers.items() if name.lower() == "authorization"), ""
        )
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise AuthError("a bearer token is required (Authorization: Bearer <JWT>)")
        return self.verify(token.strip())

    def verify(self, token: str) -> Principal:
        try:
            claims = jwt.decode(token, self._key_set(token), algorithms=["RS256"]).claims
            jwt.JWTClaimsRegistry(
                iss={"essential": True, "value": self._issuer},
                exp={"essential": True},
            ).validate(claims)
        except (JoseError, ValueError) as error:
            raise AuthError(f"invalid token: {error}") from None
        if not self._for_this_client(claims):
            raise AuthError("invalid token: issued for another client")
        return Principal(
            subject=str(claims.get("sub", "")),
            name=str(claims.get("email") or claims.get("username") or claims.get("sub", "")),
            groups=_groups(claims.get(GROUPS_CLAIM)),
        )

    def _for_this_client(self, claims: Mapping[str, Any]) -> bool:
        """ID tokens name the client in `aud`, Cognito access tokens in `client_id`."""
        audience = claims.get("aud")
        audiences = audience if isinstance(audience, list) else [audience]
        return self._audience in audiences or claims.get("client_id") == self._audience

    def _key_set(self, token: str) -> KeySet:
        kid = _header_kid(token)
        with self._lock:
            age = self._clock() - self._fetched_at
            unknown = self._keys is not None and not _has_kid(self._keys, kid)
            if self._keys is None or age > _KEYS_TTL_S or (unknown and age > _REFETCH_AFTER_S):
                try:
                    self._keys = KeySet.import_key_set(self._fetch(self._keys_url))  # type: ignore[arg-type]
                except (OSError, ValueError) as error:
                    raise AuthError(f"signing keys unavailable: {error}") from None
                self._fetched_at = self._clock()
            return self._keys


def _header_kid(token: str) -> str | None:
    try:
        header = jws.extract_compact(token.encode()).headers()
    except (JoseError, ValueError, UnicodeError):
        return None
    kid = header.get("kid")
    return kid if isinstance(kid, str) else None


def _has_kid(keys: KeySet, kid: str | None) -> bool:
    return kid is None or any(key.kid == kid for key in keys.keys)


def _groups(value: object) -> frozenset[str]:
    if isinstance(value, list):
        return frozenset(str(group) for group in value)
    if isinstance(value, str):  # API Gateway's rendering of a list claim: "[a b]"
        return frozenset(value.strip("[]").replace(",", " ").split())
    return frozenset()
