"""The API's one typed configuration, read from environment variables in one place."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass


class ConfigError(ValueError):
    """An environment variable is missing or invalid; the message names it."""


@dataclass(frozen=True)
class ApiConfig:
    alerts_table: str = "fraud-alerts"
    labels_stream: str = "labels"
    #: Token issuer (Cognito: https://cognito-idp.<region>.amazonaws.com/<pool id>).
    jwt_issuer: str = ""
    #: The console's app client id: the `aud` of ID tokens, `client_id` of access tokens.
    jwt_audience: str = ""
    #: Where the signing keys are; default `<issuer>/.well-known/jwks.json`.
    jwks_url: str = ""
    #: How far back `GET /alerts` looks when no `from` is given.
    lookback_days: int = 90
    region: str = "us-east-1"
    #: AWS endpoint override (the local moto server); None on AWS.
    aws_endpoint: str | None = None

    def __post_init__(self) -> None:
        if not self.jwt_issuer:
            raise ConfigError("JWT_ISSUER is required (the token issuer URL)")
        if not self.jwt_audience:
            raise ConfigError("JWT_AUDIENCE is required (the console's client id)")
        if self.lookback_days < 1:
            raise ConfigError("ALERT_LOOKBACK_DAYS must be >= 1")

    @property
    def keys_url(self) -> str:
        return self.jwks_url or f"{self.jwt_issuer.rstrip('/')}/.well-known/jwks.json"

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ApiConfig:
        env = os.environ if env is None else env
        default_lookback = str(cls.lookback_days)
        lookback = env.get("ALERT_LOOKBACK_DAYS", default_lookback)
        try:
            lookback_days = int(lookback)
        except ValueError:
            raise ConfigError(f"ALERT_LOOKBACK_DAYS must be an integer: {lookback!r}") from None
        return cls(
            alerts_table=env.get("ALERTS_TABLE", cls.alerts_table),
            labels_stream=env.get("LABELS_STREAM", cls.labels_stream),
            jwt_issuer=env.get("JWT_ISSUER", ""),
            jwt_audience=env.get("JWT_AUDIENCE", ""),
            jwks_url=env.get("JWKS_URL", ""),
            lookback_days=lookback_days,
            region=env.get("AWS_REGION", env.get("AWS_DEFAULT_REGION", cls.region)),
            aws_endpoint=env.get("AWS_ENDPOINT_URL") or None,
        )
