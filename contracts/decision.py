"""Decision v1: one record per scored transaction, alert or not, written by the job to the
`decisions` stream and delivered by Firehose to the decision log (S3, Parquet, partitioned
by the transaction's day and hour): the ground truth for monitoring, comparing models and
rules, and training on the features as they were served.

Non-alert decisions may be sampled (`decisions.sample_rate`); alerts never are. Whether a
transaction's decision is kept is decided by its `decision_id` alone (`sampled`), so a
replay keeps the same ones, and every kept record carries its weight (1 / rate, 1 for an
alert): a count re-weighted by `sample_weight` estimates the count of every decision.
The Kinesis sink and Firehose deliver at least once: a decision may sit in the log more than
once (a restart re-writes what followed the last checkpoint); every reader counts it once
by `decision_id` (model_export.decision_log).
"""

from __future__ import annotations

from hashlib import sha256

from contracts.fields import Contract, table

SCHEMA = "decision.v1"
DECISION_ID_PREFIX = f"{SCHEMA}:"  # decision_id = first 32 hex of sha256(prefix + transaction_id)
DECISION_ID_HEX_CHARS = 32
# A non-alert decision is kept when the first SAMPLE_HEX_CHARS hex of its decision_id, as a
# number, is below rate * 16 ** SAMPLE_HEX_CHARS (fixed-width lowercase hex compares as text
# the way the numbers do, so the job compares strings).
SAMPLE_HEX_CHARS = 8
SAMPLE_SPACE = 1 << (4 * SAMPLE_HEX_CHARS)  # 16 ** SAMPLE_HEX_CHARS

DECISION_V1 = Contract(
    "Decision v1",
    SCHEMA,
    "stream `decisions`, then the decision log in S3",
    table(
        f"""
        schema            | string            | yes | `{SCHEMA}`
        decision_id       | string            | yes | {DECISION_ID_HEX_CHARS} lowercase hex: sha256
                          |                   |     | of `{DECISION_ID_PREFIX}` + transaction_id, so
                          |                   |     | replays de-duplicate
        transaction_id    | string            | yes | Transaction v1's
        event_time        | timestamp         | yes | Transaction v1's, in milliseconds
        card_id           | string            | yes | Transaction v1's
        terminal_id       | string            | yes | Transaction v1's
        amount            | number            | yes | Transaction v1's (≥ 0)
        currency          | string            | yes | Transaction v1's
        merchant_category | string            | no  | Transaction v1's, may be null
        country           | string            | no  | Transaction v1's, may be null
        channel           | string            | no  | Transaction v1's, may be null
        features          | object of numbers | yes | every feature value the model saw
        model_version     | string            | yes | the serving model (manifest `version`)
        score             | number            | yes | the serving model's fraud probability, 0 to 1
        threshold         | number            | yes | the serving model's threshold
        shadow_scores     | object of numbers | no  | each shadow model's score by its version
                          |                   |     | (the registry pointer's `shadows`); null
                          |                   |     | when no shadow scored the batch. A shadow
                          |                   |     | that failed, gave NaN or was late is left
                          |                   |     | out. Shadows never change `alerted`
        alerted           | boolean           | yes | an Alert v1 was written: score ≥ threshold
                          |                   |     | or an active alert rule matched, and no
                          |                   |     | active suppress rule decided first
        severity          | string            | no  | the alert's severity; null when not alerted
        reasons           | list of strings   | no  | the alert's reasons; null when not alerted
        reason_codes      | list of strings   | no  | the same reasons, machine readable
                          |                   |     | (`RULE_<name>` for a rule)
        ruleset_version   | string            | no  | the rule set in force; null when none is
        rule_hits         | list of strings   | no  | the active rules that matched, in the order
                          |                   |     | they are decided, alert or not; null when
                          |                   |     | none did
        shadow_rule_hits  | list of strings   | no  | the shadow rules that matched (no effect);
                          |                   |     | null when none did
        late              | boolean           | yes | Alert v1's `late`
        ingested_at       | timestamp         | yes | its arrival on Kinesis
        decided_at        | timestamp         | yes | when the job decided
        sample_weight     | number            | yes | how many decisions this record stands for:
                          |                   |     | 1 for an alert, 1 / `decisions.sample_rate`
                          |                   |     | for the rest
        """
    ),
)


def decision_id(transaction_id: str) -> str:
    """The decision_id of a transaction's decision (the job computes the same in SQL)."""
    digest = sha256(f"{DECISION_ID_PREFIX}{transaction_id}".encode()).hexdigest()
    return digest[:DECISION_ID_HEX_CHARS]


def sample_bound(rate: float) -> int:
    """Decisions whose sample key (`sample_key`) is below this are kept; all at rate 1."""
    if not 0.0 < rate <= 1.0:
        raise ValueError(f"a sample rate is in (0, 1], not {rate}")
    return round(rate * SAMPLE_SPACE)


def sample_key(decision: str) -> int:
    """The number a decision_id is sampled by: its first SAMPLE_HEX_CHARS hex."""
    return int(decision[:SAMPLE_HEX_CHARS], 16)


def kept(decision: str, alerted: bool, rate: float) -> bool:
    """Whether the job writes a decision at `rate`: every alert, and the non-alerts whose
    sample key is below the rate's bound (the same choice on every replay)."""
    return alerted or sample_key(decision) < sample_bound(rate)


def sample_weight(alerted: bool, rate: float) -> float:
    """What one kept decision stands for."""
    return 1.0 if alerted else 1.0 / rate
