"""The analysts' rules in the scoring UDF: the current rule set and its lists, loaded and
verified off the scoring thread, evaluated on each scored batch.

- `RuleSource` reads the rule registry (contracts.rules' layout under `rules.path`, a
  directory or an s3:// prefix): the rule set's pointer, then the pointer of every list its
  rules read. A version is verified before use (each file's sha256 against its manifest,
  every field and list row judged by rules.artefacts, every expression type-checked against
  the job's schema), the way models are.
- `RuleServer` keeps the rules in force (`RuleServer.rules`, a reference the scoring
  thread reads and the background thread replaces) and polls every `rules.poll_interval_ms`.
  A combination (rule set version, list versions) that cannot load or verify is refused
  once, counted (`rulesets_refused`) and logged: the previous rules stay in force. A store
  that cannot be read now is retried with backoff (`rules_fetch_failures`). Nothing here
  can stop scoring: with no rule set, or none loaded yet, transactions are decided by the
  model alone.
- List entries past their `expires_at` leave the list at the first poll after that time.
- `decide_with_rules` runs the rules with the vectorized evaluator (rules.vectorized: the
  rule set's `Plan`, compiled when it is loaded) over the batch's columns the rules read
  (the transaction fields, features and score, `rule_table`), and applies them: of the
  matching active `alert` and `suppress` rules the one with the lowest priority number
  decides (`suppress` first at equal priority); a
  `suppress` decision beats the model's score, an `alert` decision alerts whatever the
  score; `tag` rules add their reason code to an alert; shadow rules only record their hit.
"""

from __future__ import annotations

import json
import logging
import shutil
import threading
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from contracts.alert import SEVERITIES, severity_floor
from contracts.model import MANIFEST_FILE, POINTER_FILE, VERSIONS_DIR
from contracts.rules import LIST_FILE, LISTS_DIR, RULESET_FILE, RULESETS_DIR
from rules.artefacts import (
    SCORE,
    ArtefactError,
    CompiledRule,
    ListEntry,
    RuleSet,
    check_manifest,
    compile_ruleset,
    parse_list,
    parse_ruleset,
    scoring_schema,
)
from rules.errors import RuleError
from rules.vectorized import Lists, Plan
from udfs.metrics import RULES_FETCH_FAILURES, RULESET_SWAPS, RULESETS_REFUSED
from udfs.model import ModelError, ModelUnavailableError, Store, read_pointer
from udfs.serving import Backoff

# what the background poll counts (metric names: the scoring UDF registers them)
RULE_COUNTS = (RULESET_SWAPS, RULESETS_REFUSED, RULES_FETCH_FAILURES)

log = logging.getLogger(__name__)


class RuleSetRefusedError(ValueError):
    """A rule set or one of its lists cannot be used; the message says which and why."""

    def __init__(self, message: str, version: str = "?") -> None:
        super().__init__(message)
        self.version = version  # the rule set version refused, when known


@dataclass(frozen=True)
class LoadedList:
    """A verified list version as the job keeps it: its values as one Arrow string array
    and each value's expiry (epoch seconds, NaN for never), not the published rows."""

    name: str
    version: str
    kind: str
    values: pa.Array
    expires: np.ndarray[Any, np.dtype[np.float64]]

    @classmethod
    def of(cls, name: str, version: str, kind: str, entries: Sequence[ListEntry]) -> LoadedList:
        values = pa.array([e.value for e in entries], pa.string())
        expires = np.array(
            [e.expires_at.timestamp() if e.expires_at else np.nan for e in entries], np.float64
        )
        return cls(name, version, kind, values, expires)

    def active(self, now: datetime) -> pa.Array:
        """The values not expired at `now`."""
        expired = self.expires <= now.timestamp()  # NaN (never) compares false
        return self.values.filter(pa.array(~expired)) if expired.any() else self.values

    def next_expiry(self, now: datetime) -> datetime | None:
        later = self.expires[self.expires > now.timestamp()]
        return datetime.fromtimestamp(float(later.min()), UTC) if len(later) else None


# (rule set version, ((list name, list version), …)): what one load is made of
Key = tuple[str, tuple[tuple[str, str], ...]]


@dataclass(frozen=True)
class RuleColumns:
    """What each rule of a set is, as arrays over the rules (in the order they are
    decided), for deciding a whole batch at once."""

    names: np.ndarray[Any, np.dtype[np.object_]]
    active: np.ndarray[Any, np.dtype[np.bool_]]
    deciding: np.ndarray[Any, np.dtype[np.bool_]]  # active alert and suppress rules
    suppress: np.ndarray[Any, np.dtype[np.bool_]]
    level: np.ndarray[Any, np.dtype[np.int64]]  # an active alert rule's severity, else -1
    coded: np.ndarray[Any, np.dtype[np.bool_]]  # active alert and tag rules: an alert's reasons

    @classmethod
    def of(cls, rules: Sequence[CompiledRule]) -> RuleColumns:
        specs = [c.spec for c in rules]
        active = np.array([s.mode == "active" for s in specs], dtype=bool)
        outcome = np.array([s.outcome for s in specs], dtype=object)
        level = np.array(
            [SEVERITIES.index(s.severity) if s.outcome == "alert" else -1 for s in specs],
            dtype=np.int64,
        )
        return cls(
            names=np.array([s.name for s in specs], dtype=object),
            active=active,
            deciding=active & ((outcome == "alert") | (outcome == "suppress")),
            suppress=outcome == "suppress",
            level=np.where(active, level, -1),
            coded=active & ((outcome == "alert") | (outcome == "tag")),
        )


@dataclass(frozen=True)
class ActiveRules:
    """A verified rule set with its lists, ready for batches."""

    key: Key
    rules: tuple[CompiledRule, ...]  # not disabled, in the order they are decided
    lists: Lists
    loaded_lists: tuple[LoadedList, ...]
    fields: frozenset[str]  # what the rules read
    expires: datetime | None  # the next list entry to expire: the lists are rebuilt then
    plan: Plan  # the rules compiled for batches (rules.vectorized), in the same order
    columns: RuleColumns

    @property
    def version(self) -> str:
        return self.key[0]


def build_rules(
    key: Key, rules: tuple[CompiledRule, ...], lists: Sequence[LoadedList], now: datetime
) -> ActiveRules:
    """Everything a batch needs, built here, off the scoring thread: the lists' lookup
    sets and the rules' plan."""
    arrays = Lists.of_arrays({loaded.name: loaded.active(now) for loaded in lists})
    for loaded in lists:
        arrays.members(loaded.name)
    expiries = [e for e in (loaded.next_expiry(now) for loaded in lists) if e is not None]
    fields = frozenset().union(*(c.rule.fields for c in rules)) if rules else frozenset()
    return ActiveRules(
        key,
        rules,
        arrays,
        tuple(lists),
        fields,
        min(expiries, default=None),
        Plan([c.rule for c in rules]),
        RuleColumns.of(rules),
    )


class RuleSource:
    """The rule registry at `location` (rules.path), read for the job."""

    def __init__(
        self,
        location: str,
        feature_names: tuple[str, ...],
        endpoint: str | None = None,
        cache: Path | None = None,
    ) -> None:
        """`cache`: a local directory where every verified file is copied, in the same
        layout, with the pointers of the rules in force (`cache_pointers`): a rule
        registry a worker that starts while S3 is unreachable can read instead."""
        self.location = location.rstrip("/")
        self.feature_names = feature_names
        self.endpoint = endpoint
        self.cache = cache
        self.rulesets = Store(f"{self.location}/{RULESETS_DIR}", endpoint)
        self._lists: dict[tuple[str, str], LoadedList] = {}  # verified lists by version
        self._ruleset: tuple[str, RuleSet] | None = None  # the last verified rule set

    def _cached(self, store: Store) -> Store | None:
        if self.cache is None:
            return None
        return Store(str(self.cache) + store.root[len(self.location) :])

    def _save(self, store: Store, files: dict[str, bytes]) -> None:
        cached = self._cached(store)
        if cached is None:
            return
        try:
            for key, data in files.items():
                cached.write(key, data)
        except OSError as error:  # a full or read-only disk must not refuse the rules
            log.warning("could not cache rules in %s: %s", cached.root, error)

    def cache_pointers(self, key: Key) -> None:
        """In the cache: point at the rules in force, and drop the versions before them."""
        stores = [(self.rulesets, key[0])]
        stores += [(self._list_store(name), version) for name, version in key[1]]
        for store, version in stores:
            self._save(store, {POINTER_FILE: json.dumps({"version": version}).encode()})
            cached = self._cached(store)
            if cached is not None:
                for old in cached.list_dirs(VERSIONS_DIR):
                    if old != version:
                        shutil.rmtree(Path(cached.root) / VERSIONS_DIR / old, ignore_errors=True)

    def _list_store(self, name: str) -> Store:
        return Store(f"{self.location}/{LISTS_DIR}/{name}", self.endpoint)

    def _read(self, store: Store, key: str) -> bytes:
        try:
            return store.read(key)
        except ModelUnavailableError:
            raise
        except ModelError as error:  # a local file missing: the version is incomplete
            raise RuleSetRefusedError(f"{store.url(key)} is missing") from error

    def _pointer(self, store: Store) -> str | None:
        if not store.exists(POINTER_FILE):
            return None
        try:
            return read_pointer(self._read(store, POINTER_FILE), store.url(POINTER_FILE))
        except ModelUnavailableError:
            raise
        except ModelError as error:
            raise RuleSetRefusedError(str(error)) from error

    def _version(self, store: Store, version: str, file: str, kind: str) -> tuple[Any, bytes]:
        prefix = f"{VERSIONS_DIR}/{version}/"
        manifest_bytes = self._read(store, prefix + MANIFEST_FILE)
        content = self._read(store, prefix + file)
        try:
            manifest = check_manifest(json.loads(manifest_bytes), content, kind)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise RuleSetRefusedError(f"{store.url(prefix + MANIFEST_FILE)}: {error}") from error
        except ArtefactError as error:
            raise RuleSetRefusedError(str(error)) from error
        if manifest["version"] != version:
            raise RuleSetRefusedError(
                f"{store.url(prefix)} holds version {manifest['version']}, not {version}"
            )
        self._save(store, {prefix + MANIFEST_FILE: manifest_bytes, prefix + file: content})
        return manifest, content

    def current(self) -> tuple[str, RuleSet] | None:
        """The current rule set version and its rules (None: none published), read and
        verified once per version: which lists to follow depends on them."""
        version = self._pointer(self.rulesets)
        if version is None:
            return None
        if self._ruleset is not None and self._ruleset[0] == version:
            return self._ruleset
        try:
            _, content = self._version(self.rulesets, version, RULESET_FILE, "ruleset")
            self._ruleset = (version, parse_ruleset(content))
        except RuleSetRefusedError as error:
            raise RuleSetRefusedError(str(error), version) from error
        except ArtefactError as error:
            raise RuleSetRefusedError(f"rule set {version}: {error}", version) from error
        return self._ruleset

    def list_versions(self, names: Sequence[str]) -> tuple[tuple[str, str], ...]:
        versions = []
        for name in names:
            version = self._pointer(self._list_store(name))
            if version is None:
                raise RuleSetRefusedError(f"list {name!r} has no current version")
            versions.append((name, version))
        return tuple(versions)

    def load_list(self, name: str, version: str) -> LoadedList:
        cached = self._lists.get((name, version))
        if cached is not None:
            return cached
        manifest, content = self._version(self._list_store(name), version, LIST_FILE, "list")
        try:
            entries = parse_list(content, str(manifest["kind"]))
        except ArtefactError as error:
            raise RuleSetRefusedError(f"list {name!r} {version}: {error}") from error
        loaded = LoadedList.of(name, version, str(manifest["kind"]), entries)
        self._lists = {k: v for k, v in self._lists.items() if k[0] != name}  # one per name
        self._lists[(name, version)] = loaded
        return loaded

    def compile(self, version: str, ruleset: RuleSet) -> tuple[CompiledRule, ...]:
        schema = scoring_schema(self.feature_names, ruleset.lists())
        try:
            return compile_ruleset(ruleset, schema)
        except RuleError as error:
            raise RuleSetRefusedError(f"rule set {version}: {error}") from error


class RuleServer:
    """The rules in force, kept current by a background thread; None while there are none."""

    def __init__(
        self, source: RuleSource, poll_interval_s: float, cached: RuleSource | None = None
    ) -> None:
        """`cached`: the local copy of the registry (RuleSource.cache) read when the
        registry cannot be read at start."""
        self._source = source
        self._poll_interval_s = poll_interval_s
        self._backoff = Backoff(initial_s=poll_interval_s, maximum_s=max(60.0, poll_interval_s))
        self._refused: set[Key] = set()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.rules: ActiveRules | None = None
        self._unavailable = False
        self.poll()  # the first load before the first batch; a failure is counted, not raised
        if self._unavailable and cached is not None:
            self._start_from(cached)

    def _start_from(self, cached: RuleSource) -> None:
        source, self._source = self._source, cached
        try:
            self._check()
        except Exception as error:  # no usable copy: start without rules
            log.warning("no cached rules usable in %s: %s", cached.location, error)
        finally:
            self._source = source
            self._refused.clear()  # what the copy lacked may come from the registry
        if self.rules is not None:
            log.warning(
                "rule registry %s unreachable: starting with the cached rule set %s; the "
                "registry is polled again in the background",
                source.location,
                self.rules.version,
            )

    def start(self) -> RuleServer:
        self._thread = threading.Thread(target=self._run, name="rules-poll", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        delay = self._poll_interval_s
        while not self._stop.wait(delay):
            delay = self.poll()

    def poll(self) -> float:
        """Check the pointers once and swap in what changed if it verifies; the delay
        until the next check. Never raises: scoring must not depend on the rules."""
        try:
            self._check()
        except ModelUnavailableError as error:
            self._unavailable = True
            self._count(RULES_FETCH_FAILURES)
            delay = self._backoff.next_delay()
            log.warning("rule registry unreadable, keeping %s: %s", self._in_force(), error)
            return delay
        except Exception as error:  # a bug here must not stop scoring either
            self._count(RULESETS_REFUSED)
            log.exception("rules not loaded, keeping %s: %s", self._in_force(), error)
        self._backoff.reset()
        return self._poll_interval_s

    def _in_force(self) -> str:
        return self.rules.version if self.rules else "no rules"

    def _check(self) -> None:
        now = datetime.now(UTC)
        try:
            found = self._source.current()
        except RuleSetRefusedError as error:
            self._refuse((error.version, ()), error)
            return
        if found is None:  # nothing published (or a pointer removed): no rules
            if self.rules is not None:
                log.warning("no current rule set any more: rules %s removed", self.rules.version)
            self.rules = None
            return
        version, ruleset = found
        try:
            key: Key = (version, self._source.list_versions(ruleset.lists()))
        except RuleSetRefusedError as error:
            self._refuse((version, ()), error)
            return
        current = self.rules
        if current is not None and current.key == key:
            if current.expires is not None and now >= current.expires:  # an entry expired
                self.rules = build_rules(key, current.rules, current.loaded_lists, now)
            return
        if key in self._refused:
            return
        try:
            compiled = self._source.compile(version, ruleset)
            lists = [self._source.load_list(name, v) for name, v in key[1]]
        except RuleSetRefusedError as error:
            self._refuse(key, error)
            return
        self.rules = build_rules(key, compiled, lists, now)
        self._source.cache_pointers(key)
        self._count(RULESET_SWAPS)
        log.warning(
            "rules swapped: %s -> %s (%d rules, lists %s)",
            current.version if current else "no rules",
            version,
            len(compiled),
            ", ".join(f"{n} {v}" for n, v in key[1]) or "none",
        )

    def _refuse(self, key: Key, error: Exception) -> None:
        if key in self._refused:
            return
        self._refused.add(key)
        self._count(RULESETS_REFUSED)
        lists = "".join(f", list {n} {v}" for n, v in key[1])
        log.error("rule set %s%s refused, keeping %s: %s", key[0], lists, self._in_force(), error)

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def drain_counts(self) -> dict[str, int]:
        """Counts since the last call (for the scoring thread's metric counters)."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts


# ---- evaluation on a batch ---------------------------------------------------------------


def rule_table(
    rules: ActiveRules,
    feature_names: Sequence[str],
    matrix: np.ndarray[Any, Any],
    scores: np.ndarray[Any, Any],
    transactions: Mapping[str, pd.Series],
) -> dict[str, Any]:
    """The batch as the rules read it: only the columns they name (a transaction field, a
    feature, `score`), as the arrays the UDF already holds (no copy into Arrow)."""
    index = {name: i for i, name in enumerate(feature_names)}
    columns: dict[str, Any] = {}
    for name in sorted(rules.fields):
        if name in transactions:  # a Transaction v1 field (amount: the contract's entry)
            columns[name] = transactions[name]
        elif name == SCORE:
            columns[name] = scores
        elif name in index:
            columns[name] = matrix[:, index[name]]
    columns.setdefault("_", np.zeros(len(scores)))  # the batch's length, whatever is read
    return columns


@dataclass(frozen=True)
class RuleOutcome:
    """What the rules did to each row of a batch."""

    alerted: np.ndarray[Any, np.dtype[np.bool_]]
    severity: np.ndarray[Any, Any]  # object: a severity, None where not alerted
    reasons: list[list[str]]  # per row: the rules an alert names (active alert and tag rules)
    hits: list[list[str] | None]  # per row: active rules that matched, None for none
    shadow_hits: list[list[str] | None]


def severity_levels(scores: np.ndarray[Any, Any], threshold: float) -> np.ndarray[Any, Any]:
    """contracts.alert.severity, vectorized: the index of each score's band in SEVERITIES."""
    levels = np.zeros(len(scores), dtype=np.int64)
    for band in range(1, len(SEVERITIES)):
        levels[scores >= severity_floor(band, threshold)] = band
    return levels


def decide_with_rules(
    scores: np.ndarray[Any, Any],
    threshold: float,
    rules: ActiveRules | None,
    table: Mapping[str, Any] | None,
) -> RuleOutcome:
    """Every row's outcome: the model's (score ≥ threshold, its severity band) changed by
    the rules that match (see the module's docstring for the order)."""
    model_alerted = scores >= threshold
    levels = np.where(model_alerted, severity_levels(scores, threshold), -1)
    n = len(scores)
    reasons: list[list[str]] = [[] for _ in range(n)]
    hits: list[list[str] | None] = [None] * n
    shadow: list[list[str] | None] = [None] * n
    if rules is None or not rules.rules or table is None:
        return RuleOutcome(model_alerted, _severities(levels, model_alerted), reasons, hits, shadow)
    matched = rules.plan.evaluate(table, rules.lists)
    c = rules.columns
    decisive = matched & c.deciding  # the first True of a row decides
    any_decisive = decisive.any(axis=1)
    first = np.argmax(decisive, axis=1)
    suppressed = any_decisive & c.suppress[first]
    rule_alerted = any_decisive & ~c.suppress[first]
    alerted = (model_alerted | rule_alerted) & ~suppressed
    alert_rules = matched & (c.level >= 0)
    if alert_rules.any():
        levels = np.maximum(levels, np.where(alert_rules, c.level, -1).max(axis=1))
    hits = _names_per_row(matched & c.active, c.names)
    if not c.active.all():  # shadow rules
        shadow = _names_per_row(matched & ~c.active, c.names)
    if alerted.any():
        coded = _names_per_row(matched[alerted] & c.coded, c.names)
        for row, names in zip(np.flatnonzero(alerted), coded, strict=True):
            reasons[row] = names or []
    return RuleOutcome(alerted, _severities(levels, alerted), reasons, hits, shadow)


def _names_per_row(
    matched: np.ndarray[Any, np.dtype[np.bool_]], names: np.ndarray[Any, Any]
) -> list[list[str] | None]:
    """Per row, the names of the rules it matched in the rules' order, None for none: one
    pass over the matches, not one per row and rule."""
    rows, columns = np.nonzero(matched)  # row-major: each row's rules in order
    flat = names[columns].tolist()
    ends = np.cumsum(np.bincount(rows, minlength=len(matched))).tolist()
    out: list[list[str] | None] = []
    start = 0
    for end in ends:
        out.append(flat[start:end] if end > start else None)
        start = end
    return out


def _severities(
    levels: np.ndarray[Any, Any], alerted: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    names: np.ndarray[Any, Any] = np.array(SEVERITIES, dtype=object)[np.maximum(levels, 0)]
    names[~alerted] = None
    return names
