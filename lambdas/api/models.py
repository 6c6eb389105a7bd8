"""The API's request and response bodies: the OpenAPI document is generated from these."""

from __future__ import annotations

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
