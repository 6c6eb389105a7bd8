"""Label v1: the truth about a transaction (a chargeback or an analyst's verdict), sent to
the `labels` stream by the issuer's systems and the analyst API.

**The label in force.** A transaction may get several labels (a chargeback, an analyst's
verdict, the verdict changed). The label in force for it at time T is the one with the
latest `reported_at` ≤ T; on equal `reported_at`, fraud. Chargebacks and analyst verdicts
are alike under this rule: whichever was reported last wins, so an analyst who marks a
charged-back payment legitimate (the chargeback was disputed and won) takes the fraud back,
and a chargeback after an analyst's "legit" makes it fraud. Training labels
(`model_export.archive.transaction_labels`) take the label in force at the time the
archive is read. The job's terminal risk follows the same rule at each transaction's
usable time (its event time + `labels.delay_ms`): of the labels reported by then, the one
reported last is in force, whatever order they arrive in, so a legit label reported in
time takes a counted fraud back (io.fraudstream.features.terminal.LabelVerdicts,
tests/test_label_revisions.py).

`actor` and `verdict_id` say who gave an analyst's verdict: the signed-in user's `sub` (never
an e-mail, which its owner can change) and the verdict's id in the audit trail
(lambdas/api/README.md). Chargebacks carry neither; the job accepts labels with and
without them.
"""

from __future__ import annotations

from contracts.fields import Contract, table

LABELS = ("fraud", "legit")
SOURCES = ("chargeback", "analyst")

LABEL_V1 = Contract(
    "Label v1",
    None,
    "stream `labels`",
    table(
        f"""
        transaction_id | string    | yes | the labelled transaction
        card_id        | string    | yes | the transaction's card token
        terminal_id    | string    | yes | the transaction's terminal
        event_time     | timestamp | yes | the transaction's event time
        label          | string    | yes | {" or ".join(f"`{v}`" for v in LABELS)}
        source         | string    | yes | {" or ".join(f"`{v}`" for v in SOURCES)}
        reported_at    | timestamp | yes | when the truth was known; not later than the label's
                       |           |     | arrival + `labels.max_future_ms`; the label in force at
                       |           |     | T is the one with the latest `reported_at` ≤ T
        actor          | string    | no  | analyst verdicts: the analyst's token `sub` (never
                       |           |     | an e-mail)
        verdict_id     | string    | no  | analyst verdicts: the verdict's id in the audit trail
        """
    ),
)
