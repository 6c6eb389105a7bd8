"""What the API tests share: a moto server with the alert store as Terraform makes it, the
API served by local.console.server (so every request runs the Lambda handler), alerts
stored the way the fan-out stores them, and clients signed in as analyst or reader."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import requests

from lambdas.alert_fanout.alert import parse_alert
from lambdas.alert_fanout.config import FanoutConfig
from lambdas.alert_fanout.store import AlertStore
from lambdas.api import services as api_services
from lambdas.api.release import release_due
from lambdas.api.repository import iso
from local.aws import LocalAws, read_stream
from local.aws.fanout_resources import provision_fanout
from local.console.server import RunningConsole, running
from local.traffic.demo_alerts import example_alert

TABLE = FanoutConfig().alerts_table
FEATURES = {
    "amount": 812.5,
    "card_avg_amount_30d": 100.0,
    "card_avg_amount_1d": 300.0,
    "card_txn_count_1h": 4.0,
    "card_txn_count_30d": 60.0,
}


def alert_record(
    index: int,
    detected: datetime,
    *,
    card: str = "card_000001",
    terminal: str = "term_00001",
    severity: str = "high",
    score: float = 0.9,
    reason_codes: tuple[str, ...] = ("AMOUNT", "CARD_TXN_COUNT_1H"),
    model_version: str = "m-1",
) -> dict[str, Any]:
    """An Alert v1 as the job writes it."""
    record = example_alert(f"t-{index:06d}", card, severity=severity, detected_at=detected)
    record.update(
        terminal_id=terminal,
        score=score,
        model_version=model_version,
        reason_codes=list(reason_codes),
        reasons=[f"reason {code.lower()}" for code in reason_codes],
        features=FEATURES,
        event_time=iso(detected - timedelta(seconds=1)),
        ingested_at=iso(detected - timedelta(milliseconds=100)),
        detected_at=iso(detected),
    )
    return record


@dataclass
class ApiUnderTest:
    aws: LocalAws
    console: RunningConsole
    session: requests.Session = field(default_factory=requests.Session)

    @property
    def origin(self) -> str:
        return self.console.origin

    @property
    def api(self) -> str:
        return f"{self.origin}/api"

    def token(self, user: str) -> str:
        return self.console.server.issuer.token_for(user)

    def store(self, records: list[dict[str, Any]]) -> None:
        store = AlertStore(self.aws.client("dynamodb"), TABLE)
        for record in records:
            store.put_new(parse_alert(json.dumps(record)))

    def get(self, path: str, user: str | None = "analyst", **params: Any) -> requests.Response:
        return self.session.get(
            f"{self.api}{path}", params=params, headers=self._auth(user), timeout=30
        )

    def post(
        self, path: str, body: Any, user: str | None = "analyst", **headers: str
    ) -> requests.Response:
        return self.session.post(
            f"{self.api}{path}",
            data=body if isinstance(body, str | bytes) else json.dumps(body),
            headers={"Content-Type": "application/json", **self._auth(user), **headers},
            timeout=30,
        )

    def subject(self, user: str) -> str:
        """The `sub` of the user's tokens."""
        payload = self.token(user).split(".")[1]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        return str(claims["sub"])

    def release_held(self, after: timedelta | None = None) -> int:
        """Run the scheduled release step as if `after` (default: the hold) had passed."""
        current = api_services.current()
        assert current is not None
        wait = current.verdicts.bounds.hold if after is None else after
        return release_due(current, datetime.now(UTC) + wait + timedelta(seconds=1))

    def labels(self) -> list[dict[str, Any]]:
        """Every record on the labels stream: its Label v1 and its partition key."""
        return [
            {"label": json.loads(r["Data"]), "partition_key": r["PartitionKey"]}
            for r in read_stream(self.aws, "labels")
        ]

    def _auth(self, user: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(user)}"} if user else {}


def started_api() -> Iterator[ApiUnderTest]:
    with LocalAws(streams=("labels",)) as aws:
        provision_fanout(aws.client, FanoutConfig())
        with running(aws.endpoint) as console:
            yield ApiUnderTest(aws, console)


def recent(minutes: float) -> datetime:
    """A detection time `minutes` ago."""
    return datetime.now(UTC) - timedelta(minutes=minutes)
