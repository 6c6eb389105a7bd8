"""CloudWatch metrics of analysts' labels (embedded metric format, namespace
`FraudStream/Api`), which the alarms of infra/terraform/modules/api/alarms.tf watch:

- `AnalystFraudLabels` by `actor` (the token's `sub`): fraud labels one analyst asked for;
- `TerminalAnalystFraudLabels` by `terminal_id`: analysts' fraud labels asked for there;
- `VerdictsRefused` by `reason` (`quota`, `history`): verdicts the bounds turned away.

They are counted when asked for, before any hold ends, so an alarm can fire while the
labels still wait and a second analyst can reverse them. The counts of this process are
kept too (`counts`), for tests and the local server.
"""

from __future__ import annotations

from collections import Counter

from aws_lambda_powertools.metrics import MetricUnit, single_metric

NAMESPACE = "FraudStream/Api"
ANALYST_FRAUD_LABELS = "AnalystFraudLabels"
TERMINAL_FRAUD_LABELS = "TerminalAnalystFraudLabels"
VERDICTS_REFUSED = "VerdictsRefused"


class LabelWatch:
    def __init__(self) -> None:
        self.counts: Counter[tuple[str, str]] = Counter()

    def fraud_label_asked(self, actor: str, terminal_id: str) -> None:
        self._emit(ANALYST_FRAUD_LABELS, "actor", actor)
        self._emit(TERMINAL_FRAUD_LABELS, "terminal_id", terminal_id)

    def verdict_refused(self, reason: str) -> None:
        self._emit(VERDICTS_REFUSED, "reason", reason)

    def _emit(self, name: str, dimension: str, value: str) -> None:
        self.counts[(name, value)] += 1
        with single_metric(
            name=name,
            unit=MetricUnit.Count,
            value=1,
            namespace=NAMESPACE,
            default_dimensions={dimension: value},
        ):
            pass
