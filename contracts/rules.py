"""Rule sets and lists as versioned artefacts: their files, their fields and their limits.

Both are stored the way the model registry stores models (contracts.model): immutable
versions and a pointer, under one root (a directory or an s3:// prefix, `rules.path`):

    <root>/rulesets/versions/<version>/ruleset.json    {"rules": [ {rule}, … ]}
    <root>/rulesets/versions/<version>/manifest.json   version, ruleset_sha256, lists, …
    <root>/rulesets/current.json                       the registry pointer (contracts.model)
    <root>/lists/<name>/versions/<version>/entries.csv value,reason,added_by,expires_at
    <root>/lists/<name>/versions/<version>/manifest.json version, name, kind, entries_sha256, …
    <root>/lists/<name>/current.json

A rule set names the lists its rules read; the job follows each list's own pointer, so a
list is changed (entries added or removed: a new version) without a new rule set. The job
verifies every file against its manifest's sha256 before it uses it.
"""

from __future__ import annotations

from contracts.fields import Contract, table

RULESETS_DIR = "rulesets"
LISTS_DIR = "lists"
RULESET_FILE = "ruleset.json"
LIST_FILE = "entries.csv"
# list entries as a CSV file: this header, then one entry per row (bulk upload, storage)
LIST_COLUMNS = ("value", "reason", "added_by", "expires_at")

OUTCOMES = ("alert", "suppress", "tag")
MODES = ("shadow", "active", "disabled")
# a list's kind: the Transaction v1 field its entries are values of
LIST_KINDS = ("card_id", "terminal_id", "device_id", "country", "merchant_category")

NAME_PATTERN = r"^[a-z][a-z0-9_]{0,62}$"  # a rule's or a list's name
MAX_RULES = 500
MAX_LIST_ENTRIES = 1_000_000
MAX_LIST_BYTES = 128 * 1024 * 1024  # an entries.csv larger than this is refused unread
MAX_VALUE_CHARS = 128
MAX_TEXT_CHARS = 500  # reason, added_by
MIN_PRIORITY, MAX_PRIORITY = 0, 1_000_000

RULE_CODE_PREFIX = "RULE_"  # a matched rule's reason code: RULE_ + its name, upper-cased

RULE = Contract(
    "Rule (an item of `rules` in a rule set's ruleset.json)",
    None,
    f"`{RULESETS_DIR}/versions/<version>/{RULESET_FILE}`",
    table(
        f"""
        name       | string  | yes | unique in the set, `{NAME_PATTERN}`; its reason code is
                   |         |     | `{RULE_CODE_PREFIX}` + the name upper-cased
        expression | string  | yes | the rule language (docs/rules.md), type-checked against
                   |         |     | Transaction v1, the features, `score` and the set's lists
        outcome    | string  | yes | {" / ".join(f"`{o}`" for o in OUTCOMES)}
        severity   | string  | no  | an `alert` rule's: `low` / `medium` / `high` (default `high`)
        priority   | integer | yes | {MIN_PRIORITY} to {MAX_PRIORITY:,}; the lowest number is
                   |         |     | decided first: of the matching active `alert` and
                   |         |     | `suppress` rules the first decides, `suppress` before
                   |         |     | `alert` at equal priority; a `suppress` rule beats the
                   |         |     | model's score
        mode       | string  | yes | `active` (applied), `shadow` (evaluated and logged in
                   |         |     | Decision v1, no effect) or `disabled` (not evaluated)
        """
    ),
)

RULESET_MANIFEST = Contract(
    "Rule set manifest",
    None,
    f"`{RULESETS_DIR}/versions/<version>/manifest.json` beside `{RULESET_FILE}`",
    table(
        f"""
        version        | string          | yes | `r-<UTC time>-<sha256 prefix>`, unique
        created_at     | timestamp       | no  |
        created_by     | string          | no  | who published it (a token's `sub`)
        rules          | integer         | yes | how many rules `{RULESET_FILE}` holds
        lists          | list of strings | yes | the lists its rules read, by name
        ruleset_sha256 | string          | yes | sha256 of `{RULESET_FILE}`
        """
    ),
)

LIST_MANIFEST = Contract(
    "List manifest",
    None,
    f"`{LISTS_DIR}/<name>/versions/<version>/manifest.json` beside `{LIST_FILE}`",
    table(
        f"""
        version        | string    | yes | `l-<UTC time>-<sha256 prefix>`, unique
        name           | string    | yes | the list's name (`list('name')` in a rule)
        kind           | string    | yes | the field its values are:
                       |           |     | {", ".join(f"`{k}`" for k in LIST_KINDS)}
        entries        | integer   | yes | rows of `{LIST_FILE}` (at most {MAX_LIST_ENTRIES:,})
        entries_sha256 | string    | yes | sha256 of `{LIST_FILE}`
        created_at     | timestamp | no  |
        created_by     | string    | no  | who published it (a token's `sub`)
        """
    ),
)

LIST_ENTRY = Contract(
    "List entry (a row of a list's entries.csv, or of a bulk upload)",
    None,
    f"`{LISTS_DIR}/<name>/versions/<version>/{LIST_FILE}`, header `{','.join(LIST_COLUMNS)}`",
    table(
        f"""
        value      | string    | yes | a token of the list's kind, at most {MAX_VALUE_CHARS}
                   |           |     | characters, never a card number; a country is two
                   |           |     | capital letters, a merchant category four digits
        reason     | string    | yes | why it is on the list (at most {MAX_TEXT_CHARS} characters)
        added_by   | string    | yes | who added it (a token's `sub`)
        expires_at | timestamp | no  | from then on the entry is not in the list; empty: never
        """
    ),
)


def rule_code(name: str) -> str:
    """A matched rule's reason code in Alert v1 and Decision v1."""
    return RULE_CODE_PREFIX + name.upper()
