"""The record contracts shared by every part: dependency-free, imported by all, importing none.

`CONTRACTS` lists them in the README's order."""

from __future__ import annotations

from contracts.alert import ALERT_V1
from contracts.deadletter import DEADLETTER_V1
from contracts.decision import DECISION_V1
from contracts.fields import Contract
from contracts.label import LABEL_V1
from contracts.model import MODEL_MANIFEST, POINTER
from contracts.rules import LIST_ENTRY, LIST_MANIFEST, RULE, RULESET_MANIFEST
from contracts.transaction import TRANSACTION_V1

CONTRACTS: tuple[Contract, ...] = (
    TRANSACTION_V1,
    LABEL_V1,
    ALERT_V1,
    DECISION_V1,
    DEADLETTER_V1,
    MODEL_MANIFEST,
    POINTER,
    RULE,
    RULESET_MANIFEST,
    LIST_MANIFEST,
    LIST_ENTRY,
)
