"""Rule sets and lists as versioned artefacts (model_export.rules_registry, rules.artefacts):
immutable versions and pointers on a directory or on S3 (moto), everything judged before it
is written, and hostile lists (huge, malformed, card numbers instead of tokens) refused with
a reason that names the row."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from contracts.model import MANIFEST_FILE, POINTER_FILE, VERSIONS_DIR
from contracts.rules import LIST_FILE, LISTS_DIR, MAX_LIST_BYTES, RULESET_FILE, RULESETS_DIR
from local.aws import LocalAws
from model_export.registry import RegistryError
from model_export.rules_registry import RuleRegistry, main
from rules.artefacts import ArtefactError, parse_list, parse_ruleset

HEADER = "value,reason,added_by,expires_at"
PAN = "4111111111111111"  # Luhn-valid


def csv_bytes(*rows: str) -> bytes:
    return ("\n".join((HEADER, *rows)) + "\n").encode()


def rule(name: str, expression: str, **fields: Any) -> dict[str, Any]:
    return {
        "name": name,
        "expression": expression,
        "outcome": "alert",
        "priority": 10,
        "mode": "active",
        **fields,
    }


def ruleset(*rules: dict[str, Any]) -> bytes:
    return json.dumps({"rules": list(rules)}).encode()


@pytest.fixture(scope="module")
def s3() -> Iterator[LocalAws]:
    with LocalAws(streams=(), buckets=("rules",)) as aws:
        yield aws


@pytest.fixture(params=["directory", "s3"])
def registry(request: pytest.FixtureRequest, tmp_path: Path) -> RuleRegistry:
    if request.param == "directory":
        return RuleRegistry(str(tmp_path / "rules"))
    aws = request.getfixturevalue("s3")
    return RuleRegistry(f"s3://rules/{tmp_path.name}/", aws.endpoint)


def test_lists_and_rule_sets_are_immutable_versions_behind_pointers(
    registry: RuleRegistry,
) -> None:
    first = registry.publish_list("blocked_cards", "card_id", csv_bytes("card_1,stolen,ana,"))
    assert registry.list_current("blocked_cards") is None  # published, not yet in force
    assert registry.promote_list("blocked_cards", first) is None
    second = registry.publish_list(
        "blocked_cards", "card_id", csv_bytes("card_1,stolen,ana,", "card_2,stolen,ana,")
    )
    assert second != first
    assert registry.promote_list("blocked_cards", second) == first
    assert registry.list_names() == ["blocked_cards"]

    text = ruleset(rule("blocked", "card_id in list('blocked_cards')", severity="medium"))
    version = registry.publish_ruleset(text, created_by="analyst-sub")
    assert registry.ruleset_current() is None
    registry.promote_ruleset(version)
    assert registry.ruleset_current() == version
    (spec,) = registry.ruleset().rules
    assert (spec.name, spec.severity, spec.code) == ("blocked", "medium", "RULE_BLOCKED")

    manifest = json.loads(registry.rulesets.read(f"{VERSIONS_DIR}/{version}/{MANIFEST_FILE}"))
    assert manifest["lists"] == ["blocked_cards"] and manifest["rules"] == 1
    assert manifest["created_by"] == "analyst-sub"
    other = {**manifest, "ruleset_sha256": "0" * 64}
    with pytest.raises(RegistryError, match="exists"):  # a version is never rewritten
        registry._write_version(registry.rulesets, other, RULESET_FILE, b"{}")
    again = registry.publish_ruleset(text)  # the same content again: no error
    assert again == version or again > version  # the same second: the same version

    later = registry.publish_ruleset(ruleset(rule("other", "amount > 1000.0")))
    registry.promote_ruleset(later)
    assert registry.rollback_ruleset() == version
    with pytest.raises(RegistryError, match="no version"):
        registry.promote_ruleset("r-unknown")


def test_a_rule_set_reading_an_unpublished_list_or_failing_its_check_is_refused(
    registry: RuleRegistry,
) -> None:
    with pytest.raises(RegistryError, match=r"trusted_cards.*publish and promote them first"):
        registry.publish_ruleset(ruleset(rule("t", "card_id in list('trusted_cards')")))
    with pytest.raises(RegistryError, match=r"1:1: rule 'typo': unknown field 'amout'"):
        registry.publish_ruleset(ruleset(rule("typo", "amout > 300.0")))
    with pytest.raises(RegistryError, match="card number"):
        registry.publish_ruleset(ruleset(rule("pan", f"card_id == '{PAN}'")))
    assert registry.rulesets.list_dirs(VERSIONS_DIR) == []  # nothing refused was written


@pytest.mark.parametrize(
    ("document", "message"),
    [
        (b"not json", "JSON object"),
        (b'{"rules": {}}', "JSON object"),
        (ruleset(rule("a", "amount > 1.0"), rule("a", "amount > 2.0")), "appears twice"),
        (ruleset(rule("Bad-Name", "amount > 1.0")), "name must match"),
        (ruleset(rule("a", "amount > 1.0", outcome="block")), "outcome is one of"),
        (ruleset(rule("a", "amount > 1.0", mode="on")), "mode is one of"),
        (ruleset(rule("a", "amount > 1.0", priority=True)), "priority is an integer"),
        (ruleset(rule("a", "amount > 1.0", priority=-1)), "priority is an integer"),
        (ruleset(rule("a", "amount > 1.0", outcome="tag", severity="low")), "only an alert"),
        (ruleset(rule("a", "amount > 1.0", severity="urgent")), "severity is one of"),
        (ruleset(rule("a", "amount > 1.0", action="x")), "unknown field"),
        (ruleset({"name": "a"}), "lacks expression"),
        (ruleset(*[rule(f"r{i}", "amount > 1.0") for i in range(501)]), "at most 500"),
    ],
)
def test_a_malformed_rule_set_is_refused_naming_the_rule(document: bytes, message: str) -> None:
    with pytest.raises(ArtefactError, match=message):
        parse_ruleset(document)


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        ("card_id", csv_bytes(f"{PAN},stolen,ana,"), "row 2: holds a card number"),
        ("card_id", csv_bytes("card_1,seen with 4111 1111 1111 1111,ana,"), "card number"),
        ("device_id", csv_bytes("dev_1,x,ana,", f"dev-{PAN},x,ana,"), "row 3: holds a card"),
        ("card_id", b"card,reason\ncard_1,x\n", "first row is the header"),
        ("card_id", csv_bytes("card_1,stolen"), "row 2: 2 columns, the header has 4"),
        ("card_id", csv_bytes("card 1,stolen,ana,"), "printable characters without spaces"),
        ("card_id", csv_bytes(",stolen,ana,"), "printable characters without spaces"),
        ("card_id", csv_bytes(f"{'c' * 129},stolen,ana,"), "1 to 128"),
        ("card_id", csv_bytes("card_1,,ana,"), "reason is 1 to"),
        ("card_id", csv_bytes("card_1,x,ana,", "card_1,y,ana,"), "row 3: 'card_1' is listed twice"),
        ("card_id", csv_bytes("card_1,x,ana,tomorrow"), "expires_at is an RFC 3339 time"),
        ("card_id", csv_bytes("card_1,x,ana,2026-12-31T00:00:00"), "needs its offset"),
        ("country", csv_bytes("fra,x,ana,"), "two capital letters"),
        ("merchant_category", csv_bytes("54x1,x,ana,"), "four digits"),
        ("card_numbers", csv_bytes("card_1,x,ana,"), "kind is one of"),
        ("card_id", b"value,reason,added_by\n\xff\xfe,x,ana\n", "UTF-8"),
        ("card_id", b"value,reason,added_by\ncard\x00,x,ana\n", "NUL"),
        ("card_id", csv_bytes('"card_1,x,ana,'), "not CSV|columns"),
    ],
)
def test_a_hostile_list_is_refused_with_a_reason(kind: str, data: bytes, message: str) -> None:
    with pytest.raises(ArtefactError, match=message):
        parse_list(data, kind)


def test_a_list_too_large_is_refused_before_it_is_read() -> None:
    with pytest.raises(ArtefactError, match="at most 134,217,728 bytes"):
        parse_list(b"x" * (MAX_LIST_BYTES + 1), "card_id")


def test_a_list_of_more_than_a_million_entries_is_refused() -> None:
    rows = (f"c{i},r,a," for i in range(1_000_001))
    with pytest.raises(ArtefactError, match="at most 1,000,000 entries"):
        parse_list(csv_bytes(*rows), "card_id")


def test_a_refused_list_is_not_published_and_the_cli_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    root = tmp_path / "rules"
    upload = tmp_path / "cards.csv"
    upload.write_bytes(csv_bytes(f"{PAN},stolen,ana,"))
    assert main([str(root), "publish-list", "blocked_cards", "card_id", str(upload)]) == 1
    assert "row 2: holds a card number" in capsys.readouterr().err
    assert not (root / LISTS_DIR / "blocked_cards").exists()

    upload.write_bytes(csv_bytes("card_1,stolen,ana,", "card_2,test card,ana,2030-01-01T00:00:00Z"))
    command = [str(root), "--by", "ana", "publish-list", "blocked_cards", "card_id", str(upload)]
    assert main([*command, "--promote"]) == 0
    rules = tmp_path / "ruleset.json"
    rules.write_bytes(ruleset(rule("blocked", "card_id in list('blocked_cards')")))
    assert main([str(root), "publish-rules", str(rules), "--promote"]) == 0
    assert main([str(root), "show"]) == 0
    shown = capsys.readouterr().out
    assert "active   alert    blocked" in shown and "list blocked_cards: l-" in shown
    pointer = json.loads((root / RULESETS_DIR / POINTER_FILE).read_text())
    stored = root / LISTS_DIR / "blocked_cards" / VERSIONS_DIR
    (version,) = [p.name for p in stored.iterdir()]
    assert (
        (stored / version / LIST_FILE).read_text().splitlines()[2].endswith("2030-01-01T00:00:00Z")
    )
    assert pointer["version"].startswith("r-")
