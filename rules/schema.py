"""What a rule may read: fields with their types, and the names of the lists. The caller
builds it: from a contract (Transaction v1), the feature names the job computes (which this
package may not import: they live in flink_job), further numbers (the model's score) and
the lists it holds."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from contracts.fields import BOOLEAN, INTEGER, NUMBER, STRING, Contract
from rules.language import BOOL
from rules.language import NUMBER as RULE_NUMBER
from rules.language import STRING as RULE_STRING

# Contract types a rule can read, as the language's types. Timestamps are not readable
# (RFC 3339 text in more than one spelling would compare wrongly): use the time features.
_READABLE = {NUMBER: RULE_NUMBER, INTEGER: RULE_NUMBER, STRING: RULE_STRING, BOOLEAN: BOOL}


@dataclass(frozen=True)
class FieldSpec:
    name: str
    type: str  # the language's type: number, string or bool
    optional: bool
    origin: str  # where the value comes from: "Transaction v1", "feature", …


@dataclass(frozen=True)
class Schema:
    fields: Mapping[str, FieldSpec]
    lists: frozenset[str] = field(default_factory=frozenset)

    @classmethod
    def build(
        cls,
        contract: Contract,
        features: Iterable[str] = (),
        *,
        numbers: Iterable[str] = (),
        lists: Iterable[str] = (),
    ) -> Schema:
        """The contract's readable fields, then each feature (a number; one also in the
        contract, `amount`, keeps the contract's entry), then `numbers` (e.g. `score`)."""
        specs: dict[str, FieldSpec] = {}
        for f in contract.fields:
            if f.type in _READABLE:
                specs[f.name] = FieldSpec(f.name, _READABLE[f.type], not f.required, contract.title)
        for name in features:
            specs.setdefault(name, FieldSpec(name, RULE_NUMBER, False, "feature"))
        for name in numbers:
            specs.setdefault(name, FieldSpec(name, RULE_NUMBER, False, "number"))
        return cls(specs, frozenset(lists))

    def with_lists(self, lists: Iterable[str]) -> Schema:
        return Schema(self.fields, frozenset(lists))
