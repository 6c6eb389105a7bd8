"""Rule sets and lists as bytes: what is published, what the job reads back, and every check
between the two (contracts.rules has the layout, the fields and the limits). No I/O here:
the registry (model_export.rules_registry) writes these bytes, the scoring UDF
(udfs.rulesets) reads them, and both judge them with the same functions.

    ruleset = parse_ruleset(data)                 # ArtefactError naming the rule and field
    compiled = compile_ruleset(ruleset, schema)   # RuleError of the first rule that fails
    entries = parse_list(csv_bytes, "card_id")    # ArtefactError naming the row
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.alert import SEVERITIES
from contracts.card_number import contains_card_number
from contracts.rules import (
    LIST_COLUMNS,
    LIST_KINDS,
    LIST_MANIFEST,
    MAX_LIST_BYTES,
    MAX_LIST_ENTRIES,
    MAX_PRIORITY,
    MAX_RULES,
    MAX_TEXT_CHARS,
    MAX_VALUE_CHARS,
    MIN_PRIORITY,
    MODES,
    NAME_PATTERN,
    OUTCOMES,
    RULE,
    RULESET_MANIFEST,
    rule_code,
)
from contracts.transaction import TRANSACTION_V1
from rules.check import Rule, check
from rules.errors import RuleError
from rules.nodes import Call, Literal, walk
from rules.parse import parse
from rules.schema import Schema

_NAME = re.compile(NAME_PATTERN)
_TOKEN = re.compile(r"^[\x21-\x7e]+$")  # printable ASCII, no spaces: ids as the job sees them
_VALUE_SHAPES = {
    "country": (re.compile(r"^[A-Z]{2}$"), "two capital letters (ISO 3166 alpha-2)"),
    "merchant_category": (re.compile(r"^[0-9]{4}$"), "four digits (an MCC)"),
}
DEFAULT_SEVERITY = SEVERITIES[-1]
SCORE = "score"  # the serving model's score, readable by a rule


def scoring_schema(features: Sequence[str], lists: Sequence[str] = ()) -> Schema:
    """What a rule in the job reads: Transaction v1's fields, the job's `features` (which
    this package may not import), the model's `score` and the named `lists`."""
    return Schema.build(TRANSACTION_V1, features, numbers=(SCORE,), lists=lists)


class ArtefactError(ValueError):
    """A rule set or list refused; the message says which item and why."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def new_version(prefix: str, data: bytes, now: datetime | None = None) -> str:
    """`<prefix>-<UTC time>-<sha256 prefix>`: unique, ordered by time (models' pattern)."""
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    return f"{prefix}-{stamp}-{sha256_hex(data)[:7]}"


def utc_now_text() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# ---- rule sets ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RuleSpec:
    """One rule of a set as published (contracts.rules.RULE)."""

    name: str
    expression: str
    outcome: str
    priority: int
    mode: str
    severity: str = DEFAULT_SEVERITY

    @property
    def code(self) -> str:
        return rule_code(self.name)

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "name": self.name,
            "expression": self.expression,
            "outcome": self.outcome,
            "priority": self.priority,
            "mode": self.mode,
        }
        if self.outcome == "alert":
            data["severity"] = self.severity
        return data


@dataclass(frozen=True)
class RuleSet:
    rules: tuple[RuleSpec, ...]

    def lists(self) -> tuple[str, ...]:
        """The lists the set's rules read (disabled ones included: re-enabling one is a new
        version whose lists are then known), found by the parser, sorted."""
        names: set[str] = set()
        for spec in self.rules:
            for node, _ in walk(parse(spec.expression)):
                if isinstance(node, Call) and node.function == "list" and node.args:
                    argument = node.args[0]
                    if isinstance(argument, Literal) and isinstance(argument.value, str):
                        names.add(argument.value)
        return tuple(sorted(names))

    def to_bytes(self) -> bytes:
        document = {"rules": [spec.to_json() for spec in self.rules]}
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode()


def parse_ruleset(data: bytes) -> RuleSet:
    """A ruleset.json's rules, every field checked (types, names, outcomes, modes,
    priorities, no card number anywhere); the rules' expressions are checked by
    compile_ruleset, which needs the schema."""
    if contains_card_number(data.decode("utf-8", errors="replace")):
        raise ArtefactError("the rule set holds a card number: rules read tokens, never PANs")
    try:
        document = json.loads(data)
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ArtefactError(f"a rule set is a JSON object: {error}") from error
    if not isinstance(document, dict) or not isinstance(document.get("rules"), list):
        raise ArtefactError('a rule set is a JSON object {"rules": [ … ]}')
    items = document["rules"]
    if len(items) > MAX_RULES:
        raise ArtefactError(f"a rule set holds at most {MAX_RULES} rules, not {len(items)}")
    specs = tuple(_rule(i, item) for i, item in enumerate(items))
    seen: set[str] = set()
    for spec in specs:
        if spec.name in seen:
            raise ArtefactError(f"rule {spec.name!r} appears twice: names are unique in a set")
        seen.add(spec.name)
    return RuleSet(specs)


def _rule(index: int, item: Any) -> RuleSpec:
    where = f"rule {index + 1}"
    if not isinstance(item, dict):
        raise ArtefactError(f"{where} is not a JSON object")
    unknown = sorted(set(item) - set(RULE.names()))
    if unknown:
        raise ArtefactError(f"{where} has unknown field(s) {', '.join(unknown)}")
    missing = [name for name in RULE.required_names() if name not in item]
    if missing:
        raise ArtefactError(f"{where} lacks {', '.join(missing)}")
    name = item["name"]
    if not isinstance(name, str) or not _NAME.match(name):
        raise ArtefactError(f"{where}: name must match {NAME_PATTERN}, not {name!r}")
    where = f"rule {name!r}"
    text = {key: item[key] for key in ("expression", "outcome", "mode")}
    for key, value in text.items():
        if not isinstance(value, str):
            raise ArtefactError(f"{where}: {key} is text, not {type(value).__name__}")
    if item["outcome"] not in OUTCOMES:
        raise ArtefactError(f"{where}: outcome is one of {', '.join(OUTCOMES)}")
    if item["mode"] not in MODES:
        raise ArtefactError(f"{where}: mode is one of {', '.join(MODES)}")
    priority = item["priority"]
    if (
        isinstance(priority, bool)
        or not isinstance(priority, int)
        or not MIN_PRIORITY <= priority <= MAX_PRIORITY
    ):
        raise ArtefactError(
            f"{where}: priority is an integer from {MIN_PRIORITY} to {MAX_PRIORITY}"
        )
    severity = item.get("severity", DEFAULT_SEVERITY)
    if severity not in SEVERITIES:
        raise ArtefactError(f"{where}: severity is one of {', '.join(SEVERITIES)}")
    if "severity" in item and item["outcome"] != "alert":
        raise ArtefactError(f"{where}: only an alert rule has a severity")
    return RuleSpec(name, item["expression"], item["outcome"], priority, item["mode"], severity)


@dataclass(frozen=True)
class CompiledRule:
    spec: RuleSpec
    rule: Rule


def compile_ruleset(ruleset: RuleSet, schema: Schema) -> tuple[CompiledRule, ...]:
    """Every rule not disabled, type-checked, in the order they are decided (priority, then
    suppress before alert before tag, then name). A RuleError names the rule."""
    compiled = []
    for spec in ruleset.rules:
        if spec.mode == "disabled":
            continue
        try:
            compiled.append(
                CompiledRule(spec, check(parse(spec.expression), schema, spec.expression))
            )
        except RuleError as error:
            raise RuleError(
                f"rule {spec.name!r}: {error.reason}", error.line, error.column, error.text
            ) from error
    order = {"suppress": 0, "alert": 1, "tag": 2}
    return tuple(
        sorted(compiled, key=lambda c: (c.spec.priority, order[c.spec.outcome], c.spec.name))
    )


def ruleset_manifest(
    ruleset: RuleSet, data: bytes, created_by: str | None = None, version: str | None = None
) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "version": version or new_version("r", data),
        "created_at": utc_now_text(),
        "rules": len(ruleset.rules),
        "lists": list(ruleset.lists()),
        "ruleset_sha256": sha256_hex(data),
    }
    if created_by:
        manifest["created_by"] = created_by
    return manifest


def check_manifest(manifest: Any, data: bytes, kind: str) -> dict[str, Any]:
    """A rule set's or list's manifest, its required fields present and its sha256 that of
    `data` (the file beside it)."""
    contract, digest_field = (
        (RULESET_MANIFEST, "ruleset_sha256")
        if kind == "ruleset"
        else (LIST_MANIFEST, "entries_sha256")
    )
    if not isinstance(manifest, dict):
        raise ArtefactError(f"a {kind} manifest is a JSON object")
    missing = [name for name in contract.required_names() if name not in manifest]
    if missing:
        raise ArtefactError(f"the {kind} manifest lacks {', '.join(missing)}")
    digest = sha256_hex(data)
    if manifest[digest_field] != digest:
        raise ArtefactError(
            f"{kind} {manifest['version']}: the file has sha256 {digest[:12]}, its manifest "
            f"says {str(manifest[digest_field])[:12]}: the files do not belong together"
        )
    return manifest


# ---- lists -------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ListEntry:
    value: str
    reason: str
    added_by: str
    expires_at: datetime | None = None


def parse_list(data: bytes, kind: str) -> tuple[ListEntry, ...]:
    """A list's entries from CSV (header `value,reason,added_by,expires_at`, the last column
    may be empty or absent), every row checked: the first bad row is named. A list larger
    than MAX_LIST_BYTES or MAX_LIST_ENTRIES, a value that is no token of `kind`, or any card
    number is refused."""
    if kind not in LIST_KINDS:
        raise ArtefactError(f"a list's kind is one of {', '.join(LIST_KINDS)}, not {kind!r}")
    if len(data) > MAX_LIST_BYTES:
        raise ArtefactError(
            f"a list file holds at most {MAX_LIST_BYTES:,} bytes, not {len(data):,}"
        )
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ArtefactError(f"a list is UTF-8 text: {error}") from error
    if "\x00" in text:
        raise ArtefactError("a list holds no NUL characters")
    rows = csv.reader(io.StringIO(text, newline=""))
    header = next(rows, None)
    if header is None or tuple(h.strip() for h in header) not in (LIST_COLUMNS, LIST_COLUMNS[:3]):
        raise ArtefactError(f"a list's first row is the header {','.join(LIST_COLUMNS)}")
    entries: list[ListEntry] = []
    seen: set[str] = set()
    # one pass over the whole text first: only when it finds a card number (or digits
    # that join across cells) is every cell judged on its own
    suspect = contains_card_number(text)
    try:
        for row in rows:
            if not row:
                continue
            if len(entries) >= MAX_LIST_ENTRIES:
                raise ArtefactError(f"a list holds at most {MAX_LIST_ENTRIES:,} entries")
            entry = _entry(rows.line_num, row, kind, len(header), suspect)
            if entry.value in seen:
                raise ArtefactError(f"row {rows.line_num}: {entry.value!r} is listed twice")
            seen.add(entry.value)
            entries.append(entry)
    except csv.Error as error:
        raise ArtefactError(f"row {rows.line_num}: not CSV: {error}") from error
    return tuple(entries)


def _entry(line: int, row: Sequence[str], kind: str, columns: int, suspect: bool) -> ListEntry:
    where = f"row {line}"
    if len(row) != columns:
        raise ArtefactError(f"{where}: {len(row)} columns, the header has {columns}")
    value, reason, added_by = (cell.strip() for cell in row[:3])
    expires = row[3].strip() if columns == 4 else ""
    for cell in row if suspect else ():
        if contains_card_number(cell):
            raise ArtefactError(f"{where}: holds a card number; lists hold tokens, never PANs")
    if not value or len(value) > MAX_VALUE_CHARS or not _TOKEN.match(value):
        raise ArtefactError(
            f"{where}: a value is 1 to {MAX_VALUE_CHARS} printable characters without spaces"
        )
    shape = _VALUE_SHAPES.get(kind)
    if shape and not shape[0].match(value):
        raise ArtefactError(f"{where}: a {kind} is {shape[1]}, not {value!r}")
    for label, cell in (("reason", reason), ("added_by", added_by)):
        if not cell or len(cell) > MAX_TEXT_CHARS or not cell.isprintable():
            raise ArtefactError(f"{where}: {label} is 1 to {MAX_TEXT_CHARS} printable characters")
    # a bulk upload repeats its reason and author: one string each, not one per row
    expiry = _expiry(where, expires) if expires else None
    return ListEntry(value, sys.intern(reason), sys.intern(added_by), expiry)


def _expiry(where: str, text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as error:
        raise ArtefactError(f"{where}: expires_at is an RFC 3339 time, not {text!r}") from error
    if moment.tzinfo is None:
        raise ArtefactError(f"{where}: expires_at needs its offset (Z for UTC)")
    return moment.astimezone(UTC)


def list_bytes(entries: Sequence[ListEntry]) -> bytes:
    """The canonical entries.csv of `entries`."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(LIST_COLUMNS)
    for entry in entries:
        expires = entry.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.expires_at else ""
        writer.writerow((entry.value, entry.reason, entry.added_by, expires))
    return buffer.getvalue().encode()


def list_manifest(
    name: str, kind: str, entries: Sequence[ListEntry], data: bytes, created_by: str | None = None
) -> dict[str, Any]:
    if not _NAME.match(name):
        raise ArtefactError(f"a list's name must match {NAME_PATTERN}, not {name!r}")
    manifest: dict[str, Any] = {
        "version": new_version("l", data),
        "name": name,
        "kind": kind,
        "entries": len(entries),
        "entries_sha256": sha256_hex(data),
        "created_at": utc_now_text(),
    }
    if created_by:
        manifest["created_by"] = created_by
    return manifest
