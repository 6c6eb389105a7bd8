"""The demo's rules step: while the replay runs, analysts steer the detector through the
analyst API (the local console server, real tokens from its development issuer), as they
would on AWS:

1. an analyst creates the list `demo_watched_cards` and puts one card on it;
2. the analyst asks for an active `alert` rule on that list, and a second analyst, a
   rule-admin, approves it (four eyes): the API publishes a new rule set version;
3. the analyst publishes a shadow rule (no approval: it changes no decision).

The job (`rules.path` = the registry the API publishes to) picks the rule set up within its
poll. After the replay, the decision log says how many transactions each rule matched and
how many of those alerted.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Any

import requests

from local.console.server import RunningConsole

LIST_NAME = "demo_watched_cards"
ANALYST = "analyst@example.com"
RULE_ADMIN = "senior@example.com"
WATCHED = {
    "name": "demo_watched_card",
    "expression": f"card_id in list('{LIST_NAME}')",
    "outcome": "alert",
    "severity": "high",
    "priority": 10,
    "mode": "active",
}
SHADOW = {
    "name": "demo_big_ecom",
    "expression": "channel == 'ecom' && amount > 300.0 && card_txn_count_1h >= 2.0",
    "outcome": "tag",
    "severity": None,
    "priority": 20,
    "mode": "shadow",
}
RULES = (WATCHED, SHADOW)


def watched_card(records: Sequence[str | bytes], after: int, frauds: Collection[str] = ()) -> str:
    """The card whose holder calls the bank in the story: among `records[after:]` (what the
    job decides once the rule can be in force; a rule matches only what is decided after
    it), the card with most transactions in `frauds` (the data set's fraud labels, by
    transaction id; the replayed records carry no label), then with most transactions."""
    fraud_ids = set(frauds)
    stolen: Counter[str] = Counter()
    later: Counter[str] = Counter()
    for record in records[after:]:
        card = _field(record, "card_id")
        if isinstance(card, str):
            later[card] += 1
            stolen[card] += _field(record, "transaction_id") in fraud_ids
    return max(later, key=lambda c: (stolen[c], later[c], c))


def _field(record: str | bytes, name: str) -> Any:
    try:
        value = json.loads(record)
    except ValueError:
        return None
    return value.get(name) if isinstance(value, dict) else None


@dataclass
class RulesStep:
    """Publishes the demo's list entry and rules through the API `delay_s` after start."""

    console: RunningConsole
    card: str
    delay_s: float
    published_at: float | None = None  # time.time() when the approved rule set was published
    ruleset_version: str | None = None
    problems: list[str] = field(default_factory=list)
    _thread: threading.Thread | None = None

    def start(self) -> RulesStep:
        self._thread = threading.Thread(target=self._run, name="demo-rules", daemon=True)
        self._thread.start()
        return self

    def join(self, timeout_s: float = 60.0) -> None:
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        time.sleep(self.delay_s)
        try:
            self.publish()
        except (requests.RequestException, ValueError, KeyError) as error:
            self.problems.append(f"{type(error).__name__}: {error}")

    def warm(self) -> None:
        """One read through the API before the replay: the first request imports the
        handler's modules in this process (the demo's alert reader shares its GIL), which
        would otherwise delay the alerts read while the replay runs."""
        self._call("GET", "/rules", ANALYST, None)
        self._call("POST", "/rules/validate", ANALYST, {"expression": str(WATCHED["expression"])})

    def publish(self) -> None:
        self._call("POST", "/lists", ANALYST, {"name": LIST_NAME, "kind": "card_id"})
        entry = {"value": self.card, "reason": "demo: card reported stolen by its holder"}
        reason = "demo: the holder called the bank"
        body = {"entries": [entry], "reason": reason}
        self._call("POST", f"/lists/{LIST_NAME}/entries", ANALYST, body)
        change = self._call(
            "POST",
            "/rules/changes",
            ANALYST,
            {"action": "upsert", "rule": WATCHED, "reason": "demo: alert on watched cards"},
        )
        approved = self._call(
            "POST",
            f"/rules/changes/{change['change_id']}/approve",
            RULE_ADMIN,
            {"note": "demo: second pair of eyes"},
        )
        self.published_at = time.time()
        self.ruleset_version = approved.get("ruleset_version")
        self._call(
            "POST",
            "/rules/changes",
            ANALYST,
            {"action": "upsert", "rule": SHADOW, "reason": "demo: try a rule in shadow"},
        )

    def _call(
        self, method: str, path: str, user: str, body: dict[str, Any] | None
    ) -> dict[str, Any]:
        token = self.console.server.issuer.token_for(user)
        response = requests.request(
            method,
            f"{self.console.origin}/api{path}",
            json=body,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30,
        )
        if response.status_code >= 300:
            raise ValueError(f"{method} {path}: {response.status_code} {response.text[:300]}")
        result = response.json()
        return result if isinstance(result, dict) else {}


@dataclass(frozen=True)
class RuleCount:
    name: str
    mode: str
    matched: int
    alerted: int

    def render(self) -> str:
        return (
            f"rule {self.name:<18} ({self.mode}) matched {self.matched:>5} transactions, "
            f"{self.alerted:>4} of them alerted"
        )


def rule_counts(connection: Any) -> list[RuleCount]:
    """From the decision log's view `decisions`: per demo rule, the decisions it matched (as
    active `rule_hits` or `shadow_rule_hits`) and how many of those alerted."""
    counts = []
    for rule in RULES:
        column = "rule_hits" if rule["mode"] == "active" else "shadow_rule_hits"
        row = connection.execute(
            f"SELECT count(*), count(*) FILTER (WHERE alerted) FROM decisions "
            f"WHERE list_contains(coalesce({column}, []), ?)",
            [rule["name"]],
        ).fetchone()
        counts.append(RuleCount(str(rule["name"]), str(rule["mode"]), int(row[0]), int(row[1])))
    return counts
