"""Analysts' changes of rules and lists: checked when asked for, approved by a second person
where they matter, audited at every step, published to the registry the job polls.

- A rule change (upsert or removal) is type-checked against the job's schema when it is
  requested. It needs a rule-admin's approval when the rule is `active` before or after
  the change; otherwise (a shadow or disabled draft) it is applied at once.
- Adding entries to a list that an active `suppress` rule reads (a list that silences
  alerts) needs approval; other list changes, and every removal, are applied at once.
- The approver's `sub` must differ from the requester's (four eyes), and the rule set or
  list must still be the version the request was made against (`base_version`): otherwise
  409, and the analyst asks again against what is current.
- One analyst makes at most `quota` requests in 24 hours (429).
- Every request, approval, rejection and application is written to the audit trail by
  `sub`, with the reason, the note and the diff (lambdas/api/audit.py).
"""

from __future__ import annotations

import base64
import binascii
import csv
import io
import re
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts.rules import LIST_COLUMNS, MAX_LIST_ENTRIES
from rules import compile_rule
from rules.artefacts import (
    ArtefactError,
    ListEntry,
    RuleSet,
    RuleSpec,
    list_bytes,
    parse_list,
    parse_ruleset,
)
from rules.errors import RuleError

from .audit import AuditTrail
from .auth import Principal
from .changes import APPLIED, PENDING, REJECTED, ChangeStore
from .repository import iso
from .rulestore import (
    ListInfo,
    RuleStore,
    RuleStoreError,
    StaleBaseError,
    replace_rule,
    schema_for,
)

QUOTA_WINDOW = timedelta(hours=24)
PREVIEW = 20  # entries a list change shows
_ROW = re.compile(r"^row (\d+): ")


class RuleNotFoundError(LookupError):
    """404."""


class ForbiddenChangeError(PermissionError):
    """403."""


class ChangeRefusedError(RuntimeError):
    """409."""


class ChangeQuotaError(RuntimeError):
    """429."""


class InvalidChangeError(ValueError):
    """422; the message names the field."""


#: The HTTP status of each refusal (lambdas/api/app.py answers them).
STATUS_OF_ERROR: dict[type[Exception], int] = {
    RuleNotFoundError: 404,
    ForbiddenChangeError: 403,
    ChangeRefusedError: 409,
    ChangeQuotaError: 429,
    InvalidChangeError: 422,
    RuleStoreError: 409,
}


@dataclass(frozen=True)
class Problem:
    message: str
    position: int | None


def rule_spec(rule: dict[str, Any]) -> RuleSpec:
    """A RuleBody as the registry's RuleSpec; InvalidChangeError for what the artefact
    checks refuse."""
    severity = rule.get("severity")
    if severity is not None and rule["outcome"] != "alert":
        raise InvalidChangeError("body.rule.severity: only an alert rule has a severity")
    spec = RuleSpec(
        rule["name"],
        rule["expression"],
        rule["outcome"],
        rule["priority"],
        rule["mode"],
        severity or "high",
    )
    try:
        parse_ruleset(RuleSet((spec,)).to_bytes())  # names, limits, no card numbers
    except ArtefactError as error:
        raise InvalidChangeError(f"body.rule: {error}") from None
    return spec


def rule_json(spec: RuleSpec | None) -> dict[str, Any] | None:
    if spec is None:
        return None
    return {**spec.to_json(), "severity": spec.severity if spec.outcome == "alert" else None}


def position(expression: str, error: RuleError) -> int | None:
    """The 0-based offset of the error's line and column in `expression`."""
    lines = expression.split("\n")
    if not 1 <= error.line <= len(lines):
        return None
    offset = sum(len(line) + 1 for line in lines[: error.line - 1]) + error.column - 1
    return min(max(offset, 0), len(expression))


class RuleBook:
    def __init__(
        self,
        store: RuleStore,
        changes: ChangeStore,
        audit: AuditTrail,
        quota: int,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.store = store
        self.changes = changes
        self.audit = audit
        self.quota = quota
        self._now = now

    # ---- reading ------------------------------------------------------------------

    def current(self) -> tuple[str | None, RuleSet, int]:
        version, ruleset = self.store.current_ruleset()
        return version, ruleset, len(self.changes.by_status(PENDING))

    def validate(self, expression: str) -> list[Problem]:
        try:
            compile_rule(expression, schema_for(self.store.list_names()))
        except RuleError as error:
            return [Problem(str(error), position(expression, error))]
        return []

    def change(self, change_id: str) -> dict[str, Any]:
        change = self.changes.get(change_id)
        if change is None:
            raise RuleNotFoundError(f"no change {change_id}")
        return change

    def history(self, name: str) -> list[dict[str, Any]]:
        return self.audit.history("rule", name)

    # ---- rule changes -------------------------------------------------------------

    def request_rule(
        self,
        action: str,
        rule: dict[str, Any],
        reason: str,
        backtest: dict[str, Any] | None,
        by: Principal,
    ) -> dict[str, Any]:
        self._may_request(by)
        version, ruleset = self.store.current_ruleset()
        before = next((spec for spec in ruleset.rules if spec.name == rule["name"]), None)
        after: RuleSpec | None = None
        if action == "upsert":
            if "expression" not in rule:
                raise InvalidChangeError("body.rule: an upsert names the whole rule")
            after = rule_spec(rule)
            try:
                compile_rule(after.expression, schema_for(self.store.list_names()))
            except RuleError as error:
                raise InvalidChangeError(f"body.rule.expression: {error}") from None
        elif before is None:
            raise RuleNotFoundError(f"no rule {rule['name']} in the current rule set")
        needs_approval = any(spec and spec.mode == "active" for spec in (before, after))
        change = self._new_change(by, reason, version, backtest)
        change.update(
            kind="rule",
            action=action,
            rule=rule["name"],
            diff={"before": rule_json(before), "after": rule_json(after)},
        )
        self._requested(change)
        if needs_approval:
            return change
        return self._apply(change, by)

    # ---- list changes -------------------------------------------------------------

    def lists(self) -> list[tuple[ListInfo, bool]]:
        suppressing = self._suppressing()
        infos = (self.store.list_info(name) for name in self.store.list_names())
        return [(info, info.name in suppressing) for info in infos if info is not None]

    def create_list(self, name: str, kind: str, by: Principal) -> ListInfo:
        self._may_request(by)
        if self.store.list_info(name) is not None:
            raise ChangeRefusedError(f"list {name} exists")
        change = self._new_change(by, f"create the {kind} list {name}", None, None)
        change.update(kind="list", action="create", list=name, diff={"added": 0, "removed": 0})
        self._requested(change)
        try:
            version = self.store.publish_list(name, kind, (), None, by.subject)
        except StaleBaseError:
            raise ChangeRefusedError(f"list {name} was created meanwhile") from None
        self._applied(change, by, list_version=version)
        return ListInfo(name, kind, version, 0)

    def entries(
        self, name: str, prefix: str, limit: int, cursor: str | None
    ) -> tuple[list[ListEntry], str | None, int]:
        info = self._list(name)
        after = _decode_cursor(cursor) if cursor else ""
        matching = sorted(
            (e for e in self.store.list_entries(info) if e.value.startswith(prefix)),
            key=lambda e: e.value,
        )
        page = [e for e in matching if e.value > after][: limit + 1]
        more = len(page) > limit
        page = page[:limit]
        next_cursor = _encode_cursor(page[-1].value) if more and page else None
        return page, next_cursor, len(matching)

    def add_entries(
        self,
        name: str,
        rows: Sequence[Sequence[str]] | None,
        text: str | None,
        reason: str,
        by: Principal,
    ) -> dict[str, Any]:
        """Entries from a JSON body (`rows`: value, reason, expires_at) or a CSV upload."""
        self._may_request(by)
        info = self._list(name)
        if (rows is None) == (text is None):
            raise InvalidChangeError("body: give either entries or csv")
        added = self._parse_upload(info.kind, rows, text, by, json_rows=rows is not None)
        if not added:
            raise InvalidChangeError("body: no entries")
        change = self._new_change(by, reason, info.version, None)
        change.update(
            kind="list",
            action="add",
            list=name,
            entries=[entry_json(e) for e in added[:PREVIEW]],
            diff={"added": len(added), "removed": 0},
        )
        self.store.put_pending(change["change_id"], list_bytes(added))
        self._requested(change)
        if name in self._suppressing():
            return change
        return self._apply(change, by)

    def remove_entries(
        self, name: str, values: list[str], reason: str, by: Principal
    ) -> dict[str, Any]:
        self._may_request(by)
        info = self._list(name)
        present = {e.value for e in self.store.list_entries(info)} & set(values)
        if not present:
            raise InvalidChangeError("body.values: none of these values is in the list")
        change = self._new_change(by, reason, info.version, None)
        change.update(
            kind="list",
            action="delete",
            list=name,
            values=sorted(present),
            diff={"added": 0, "removed": len(present)},
        )
        self._requested(change)
        return self._apply(change, by)

    # ---- decisions ----------------------------------------------------------------

    def approve(self, change_id: str, note: str, by: Principal) -> dict[str, Any]:
        change = self._decidable(change_id, by)
        if change["requested_by"] == by.subject:
            raise ForbiddenChangeError(
                "four eyes: another rule-admin must approve; you requested this change"
            )
        change.update(decided_by=by.subject, decided_at=iso(self._now()), note=note or None)
        return self._apply(change, by)  # the approval is recorded once it is published

    def reject(self, change_id: str, note: str, by: Principal) -> dict[str, Any]:
        change = self._decidable(change_id, by)
        change.update(
            status=REJECTED, decided_by=by.subject, decided_at=iso(self._now()), note=note or None
        )
        self.changes.decide(change)
        self._record(change, "rejected", by.subject, note)
        return change

    # ---- inside -------------------------------------------------------------------

    def _may_request(self, by: Principal) -> None:
        if not by.may_request_changes:
            raise ForbiddenChangeError("only analysts may ask for changes of rules and lists")
        since = self._now() - QUOTA_WINDOW
        if self.changes.requests_since(by.subject, since, self.quota) >= self.quota:
            raise ChangeQuotaError(
                "change quota reached: no more change requests from this account for now"
            )

    def _decidable(self, change_id: str, by: Principal) -> dict[str, Any]:
        if not by.may_decide_changes:
            raise ForbiddenChangeError("only rule-admins may approve or reject changes")
        change = self.change(change_id)
        if change["status"] != PENDING:
            raise ChangeRefusedError(f"change {change_id} is {change['status']}, not pending")
        return change

    def _new_change(
        self, by: Principal, reason: str, base: str | None, backtest: dict[str, Any] | None
    ) -> dict[str, Any]:
        change: dict[str, Any] = {
            "change_id": uuid.uuid4().hex,
            "reason": reason,
            "status": PENDING,
            "requested_by": by.subject,
            "requested_at": iso(self._now()),
            "base_version": base,
        }
        if backtest is not None:
            change["backtest"] = backtest
        return change

    def _requested(self, change: dict[str, Any]) -> None:
        self.changes.add(change)
        self._record(change, "requested", change["requested_by"], None)

    def _apply(self, change: dict[str, Any], by: Principal) -> dict[str, Any]:
        """Publish the change against its base version; 409 when that is no longer current."""
        base = change["base_version"]
        try:
            if change["kind"] == "rule":
                version, ruleset = self.store.current_ruleset()
                if version != base:
                    raise StaleBaseError(f"{version} is current")
                after = change["diff"]["after"]
                spec = rule_spec(after) if after is not None else None
                new = replace_rule(ruleset, spec, change["rule"])
                published = self.store.publish_ruleset(new, base, by.subject)
                return self._applied(change, by, ruleset_version=published)
            info = self._list(change["list"])
            if info.version != base:
                raise StaleBaseError(f"{info.version} is current")
            entries = self.store.list_entries(info)
            if change["action"] == "add":
                added = parse_list(self.store.pending(change["change_id"]), info.kind)
                replaced = {e.value for e in added}
                merged = (*(e for e in entries if e.value not in replaced), *added)
            else:
                gone = set(change.get("values") or ())
                merged = tuple(e for e in entries if e.value not in gone)
            if len(merged) > MAX_LIST_ENTRIES:
                raise InvalidChangeError(f"body: a list holds at most {MAX_LIST_ENTRIES:,} entries")
            published = self.store.publish_list(info.name, info.kind, merged, base, by.subject)
            return self._applied(change, by, list_version=published)
        except StaleBaseError:
            what = "rule set" if change["kind"] == "rule" else f"list {change['list']}"
            raise ChangeRefusedError(
                f"the {what} changed since this change was requested (base {base}): "
                "ask again against the current version"
            ) from None

    def _applied(self, change: dict[str, Any], by: Principal, **versions: str) -> dict[str, Any]:
        change.update(status=APPLIED, **versions)
        self.changes.decide(change)
        if change.get("decided_by"):  # approved by a rule-admin, not applied on request
            self._record(change, "approved", by.subject, change.get("note"))
        self._record(change, "applied", by.subject, change.get("note"))
        return change

    def _record(self, change: dict[str, Any], action: str, actor: str, note: str | None) -> None:
        kind = change["kind"]
        name = change[kind]
        record: dict[str, Any] = {
            "at": iso(self._now()),
            "actor": actor,
            "action": action,
            "change_id": change["change_id"],
            kind: name,
            "reason": change["reason"],
            "note": note or None,
            "diff": change["diff"],
        }
        for key in ("ruleset_version", "list_version", "base_version"):
            if change.get(key):
                record[key] = change[key]
        if kind == "list" and action in ("requested", "applied"):
            record["values"] = change.get("values") or [
                e["value"] for e in change.get("entries") or []
            ]
        self.audit.append_change(kind, name, record)

    def _list(self, name: str) -> ListInfo:
        info = self.store.list_info(name)
        if info is None:
            raise RuleNotFoundError(f"no list {name}")
        return info

    def _suppressing(self) -> set[str]:
        """Lists an active suppress rule of the current set reads."""
        _, ruleset = self.store.current_ruleset()
        readers = [s for s in ruleset.rules if s.mode == "active" and s.outcome == "suppress"]
        return set(RuleSet(tuple(readers)).lists())

    def _parse_upload(
        self,
        kind: str,
        rows: Sequence[Sequence[str]] | None,
        text: str | None,
        by: Principal,
        json_rows: bool,
    ) -> tuple[ListEntry, ...]:
        """The entries, every row judged by rules.artefacts.parse_list (card numbers,
        shapes, sizes) with the analyst's `sub` as `added_by`; InvalidChangeError names the row."""
        if rows is None:
            reader = csv.reader(io.StringIO(text or "", newline=""))
            try:
                header = [h.strip() for h in next(reader, [])]
                if header not in (["value", "reason"], ["value", "reason", "expires_at"]):
                    raise InvalidChangeError(
                        "body.csv: the first row is the header value,reason,expires_at"
                    )
                rows = list(reader)
            except csv.Error as error:
                raise InvalidChangeError(
                    f"body.csv: row {reader.line_num}: not CSV: {error}"
                ) from None
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(LIST_COLUMNS)
        for row in rows:
            if not row:
                writer.writerow([])  # kept: parse_list skips it, and the rows keep their numbers
                continue
            cells = list(row) + [""] * (3 - len(row))
            if len(row) > 3:
                cells = list(row)  # parse_list names the row with too many columns
            writer.writerow([cells[0], cells[1], by.subject, *cells[2:]])
        try:
            return parse_list(buffer.getvalue().encode(), kind)
        except ArtefactError as error:
            raise InvalidChangeError(_where(str(error), json_rows)) from None


def _where(message: str, json_rows: bool) -> str:
    """A parse_list message in the body's terms: `body.entries[i]` or `body.csv: row n`."""
    match = _ROW.match(message)
    if match and json_rows:
        index = int(match.group(1)) - 2
        return f"body.entries[{index}]: {message[match.end() :]}"
    return f"body.csv: {message}" if not json_rows else f"body.entries: {message}"


def entry_json(entry: ListEntry) -> dict[str, Any]:
    return {
        "value": entry.value,
        "reason": entry.reason,
        "added_by": entry.added_by,
        "expires_at": entry.expires_at.strftime("%Y-%m-%dT%H:%M:%SZ") if entry.expires_at else None,
    }


def _encode_cursor(value: str) -> str:
    return base64.urlsafe_b64encode(value.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> str:
    try:
        return base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidChangeError("query.cursor: not a cursor this API returned") from None
