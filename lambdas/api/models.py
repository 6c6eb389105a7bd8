"""The API's request and response bodies: the OpenAPI document is generated from these."""

from __future__ import annotations

import builtins
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.rules import MAX_PRIORITY, MIN_PRIORITY, NAME_PATTERN
from rules.language import MAX_CHARS

Severity = Literal["low", "medium", "high"]
Status = Literal["new", "confirmed_fraud", "legitimate"]
Label = Literal["fraud", "legit"]

STATUS_OF_LABEL: dict[str, str] = {"fraud": "confirmed_fraud", "legit": "legitimate"}
MAX_NOTE_CHARS = 1000


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Verdict(_Model):
    label: Label
    note: str | None
    by: str = Field(description="Who gave the verdict, as shown (the token's e-mail).")
    actor: str | None = Field(
        default=None,
        description="Who gave the verdict, as recorded: the token's `sub` (null for verdicts "
        "given before it was recorded).",
    )
    verdict_id: str | None = Field(
        default=None, description="The verdict's id in the audit trail and on its Label v1."
    )
    at: str = Field(description="When, RFC 3339 UTC.")
    revision: int = Field(ge=1, description="1 for the first verdict, +1 for each change.")


class AlertSummary(_Model):
    alert_id: str
    transaction_id: str
    event_time: str
    detected_at: str
    card_id: str
    terminal_id: str
    amount: float
    currency: str
    merchant_category: str | None
    country: str | None
    channel: str | None
    score: float
    threshold: float
    severity: Severity
    model_version: str
    reason_codes: list[str]
    reasons: list[str]
    status: Status
    verdict: Verdict | None


class AlertDetail(AlertSummary):
    reason_contributions: list[float]
    features: dict[str, float]
    late: bool
    ingested_at: str


class Reason(_Model):
    code: str
    text: str
    contribution: float | None = Field(
        description="Score drop when the feature is set to its baseline (Alert v1 "
        "`reason_contributions`); null for an alert written before the job carried it."
    )


class Baseline(_Model):
    feature: str
    value: float
    baseline: float = Field(description="The card's own figure to compare with (see README).")


class AlertPage(_Model):
    items: list[AlertSummary]
    next_cursor: str | None


class AlertDetailResponse(_Model):
    alert: AlertDetail
    reasons: list[Reason]
    baselines: list[Baseline]
    card_alerts: list[AlertSummary]
    verdicts: list[Verdict]


class FeedbackRequest(_Model):
    label: Label
    note: str | None = Field(default=None, max_length=MAX_NOTE_CHARS)


class FeedbackResponse(_Model):
    alert: AlertSummary


class HourCount(_Model):
    hour: str = Field(description="Start of the hour, RFC 3339 UTC.")
    count: int


class DayCount(_Model):
    day: str = Field(description="YYYY-MM-DD (UTC).")
    count: int


class Metrics(_Model):
    alerts_per_hour: list[HourCount]
    alerts_per_day: list[DayCount]
    by_severity: dict[str, int]
    by_reason_code: dict[str, int]
    reviewed: int
    reviewed_precision: float | None
    median_time_to_review_s: float | None
    model_versions: dict[str, int]
    complete_from: str | None = Field(
        default=None,
        description="null: the figures count every alert of the window. Otherwise the window "
        "held more alerts than one request reads (5,000 of each status) and the figures count "
        "those detected from this time (RFC 3339) on.",
    )


class ErrorBody(BaseModel):
    statusCode: int  # noqa: N815 - Powertools' error body
    message: str


# ---- rules, lists and change requests (docs: lambdas/api/README.md) ----------------------

Outcome = Literal["alert", "suppress", "tag"]
Mode = Literal["shadow", "active", "disabled"]
ListKind = Literal["card_id", "terminal_id", "device_id", "country", "merchant_category"]
ChangeStatus = Literal["pending", "applied", "rejected"]
NAME = r"^[a-z][a-z0-9_]{0,62}$"
MAX_EXPRESSION_CHARS = MAX_CHARS  # the compiler refuses longer ones
MAX_REASON_CHARS = 500
MAX_ENTRIES = 1000  # entries in one JSON body; a CSV upload takes more
MAX_CSV_CHARS = 1024 * 1024


class RuleBody(_Model):
    name: str = Field(pattern=NAME)
    expression: str = Field(min_length=1, max_length=MAX_EXPRESSION_CHARS)
    outcome: Outcome
    severity: Severity | None = Field(default=None, description="An alert rule's (high).")
    priority: int = Field(ge=0, le=1_000_000, description="The lowest number decides first.")
    mode: Mode


class RuleName(_Model):
    name: str = Field(pattern=NAME)


class RulesResponse(_Model):
    version: str | None = Field(description="The current rule set version (null: none yet).")
    rules: list[RuleBody]
    pending: int = Field(description="Change requests waiting for a rule-admin.")


class ValidateRequest(_Model):
    expression: str = Field(max_length=MAX_EXPRESSION_CHARS)


class RuleProblem(_Model):
    message: str
    position: int | None = Field(description="0-based offset in the expression, if known.")


class ValidateResponse(_Model):
    ok: bool
    errors: list[RuleProblem]


class ChangeRequest(_Model):
    action: Literal["upsert", "remove"]
    rule: RuleBody | RuleName = Field(description="The whole rule (upsert) or its name (remove).")
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    backtest: dict[str, object] | None = Field(
        default=None, description="The BacktestResult the analyst looked at (POST /rules/backtest)."
    )


class Decision(_Model):
    note: str = Field(default="", max_length=MAX_REASON_CHARS)


class EntryOut(_Model):
    value: str
    reason: str
    added_by: str
    expires_at: str | None


class RuleDiff(_Model):
    before: RuleBody | None
    after: RuleBody | None


class ListDiff(_Model):
    added: int = Field(description="Entries added or replaced.")
    removed: int = Field(description="Entries removed.")


class Change(_Model):
    change_id: str
    kind: Literal["rule", "list"]
    action: Literal["upsert", "remove", "create", "add", "delete"]
    rule: str | None = None
    list: str | None = None
    entries: builtins.list[EntryOut] | None = Field(
        default=None, description="A list change's entries (the first 20; `diff` counts all)."
    )
    values: builtins.list[str] | None = Field(
        default=None, description="Values a removal takes out."
    )
    reason: str
    status: ChangeStatus
    requested_by: str
    requested_at: str
    decided_by: str | None = None
    decided_at: str | None = None
    note: str | None = None
    base_version: str | None
    ruleset_version: str | None = None
    list_version: str | None = None
    backtest: dict[str, object] | None = None
    diff: RuleDiff | ListDiff


class ChangePage(_Model):
    items: list[Change]


class AuditRecord(BaseModel):
    at: str
    actor: str
    action: str
    change_id: str
    rule: str | None = None
    list: str | None = None
    reason: str
    note: str | None = None
    diff: dict[str, object]


class History(_Model):
    items: list[AuditRecord]


class ListSummary(_Model):
    name: str
    kind: ListKind
    version: str
    entries: int
    suppressing: bool = Field(
        description="An active suppress rule reads it: additions need approval."
    )


class ListPage(_Model):
    items: list[ListSummary]


class NewList(_Model):
    name: str = Field(pattern=NAME)
    kind: ListKind


class EntryIn(_Model):
    value: str = Field(min_length=1, max_length=128)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)
    expires_at: str | None = Field(default=None, description="RFC 3339; null: never.")


class EntriesUpload(_Model):
    entries: list[EntryIn] | None = Field(default=None, max_length=MAX_ENTRIES)
    csv: str | None = Field(
        default=None,
        max_length=MAX_CSV_CHARS,
        description="Bulk upload: header `value,reason,expires_at`, one entry per row.",
    )
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class EntriesRemoval(_Model):
    values: list[str] = Field(min_length=1, max_length=MAX_ENTRIES)
    reason: str = Field(min_length=1, max_length=MAX_REASON_CHARS)


class EntryPage(_Model):
    items: list[EntryOut]
    cursor: str | None
    total: int


# ---- rules: backtests ------------------------------------------------------------------


class DraftRule(_Model):
    """A rule as the rules routes take it (contract "Rule"); only a backtest's defaults are
    looser (priority and mode may be left out: a backtest ignores them)."""

    name: str = Field(pattern=NAME_PATTERN, description="Its reason code is RULE_ + NAME.")
    expression: str = Field(
        min_length=1, max_length=MAX_CHARS, description="The rule language (docs/rules.md)."
    )
    outcome: Literal["alert", "suppress", "tag"]
    severity: Severity | None = Field(default=None, description="An `alert` rule's.")
    priority: int = Field(default=0, ge=MIN_PRIORITY, le=MAX_PRIORITY)
    mode: Literal["shadow", "active", "disabled"] = "shadow"


class BacktestRequest(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    rule: DraftRule = Field(description="The draft rule; its mode is ignored.")
    start: str = Field(
        alias="from",
        max_length=40,
        description="RFC 3339 instant: the first event time of the window (included).",
    )
    end: str = Field(
        alias="to",
        max_length=40,
        description="RFC 3339 instant: the end of the window (excluded), at most 31 days on.",
    )


class DayHits(_Model):
    day: str = Field(description="YYYY-MM-DD (UTC) of the transactions' event time.")
    hits: int
    alerts_added: int
    alerts_suppressed: int


class BacktestResult(_Model):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    start: str = Field(alias="from")
    end: str = Field(alias="to")
    decisions: int = Field(description="Distinct decisions (by decision_id) in the window.")
    hits: int = Field(description="Decisions the rule matches.")
    hits_per_day: list[DayHits]
    labelled_hits: int = Field(description="Hits whose label has matured.")
    precision: float | None = Field(
        description="Matured hits labelled fraud / matured hits (weighted by sample_weight); "
        "null without a matured hit."
    )
    recall: float | None = Field(
        description="Matured hits labelled fraud / matured decisions labelled fraud; null "
        "without a matured fraud."
    )
    model_alert_overlap: int = Field(description="Hits the model alerted (score ≥ threshold).")
    alerts_added: int = Field(description="An alert rule's hits the model did not alert.")
    alerts_suppressed: int = Field(description="A suppress rule's hits the model alerted.")
    labels_matured_before: str = Field(
        description="Labels count for decisions whose event time is up to this instant "
        "(now minus the label delay)."
    )


class RuleHitCount(_Model):
    rule: str
    hits: int = Field(description="Decisions the rule matched (active or shadow).")
    alerts: int = Field(description="Of those, the decisions that alerted.")


class RuleHits(_Model):
    hours: int
    items: list[RuleHitCount]
