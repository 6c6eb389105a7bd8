"""Shards and parallelism change no alert where they change no feature: the sample, put in
event-time order at payment pace into a stream of 4 shards read at parallelism 2 and into a
1-shard stream read at parallelism 1, each transaction scored on arrival by the trained
model (its manifest's threshold set to 1e-12 so that the scores and features of every
transaction the model does not rule out entirely come out; the alert decision is the model's
own threshold).

A card's records share a shard (the card is the partition key) and reach the card aggregate
in order, so card features are the same in both runs. A terminal's records come from every
shard: two of them put within a poll or two of each other can arrive in either order, and
the one scored first does not count the other. Terminal counts may therefore differ by what
was in flight, never upward, and an alert decision only where they do."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from flink_job.features import FEATURE_NAMES
from local.aws import LocalAws
from local.replay import read_records
from local.running import RunningPipeline, wait_for, wait_quiet

pytestmark = pytest.mark.integration

RATE = 200  # transactions per second: the sample's 5,481 (35 days) in about 27 s
# The replay compresses a day of event time into under a second, so a few milliseconds of
# disorder between shards are many minutes of event time: the out-of-order bound is scaled
# with it (a day here is about 0.8 s of replay, as 5 minutes are on AWS in real time).
# Alerts never wait for the bound.
BOUND_MS = 24 * 3_600_000
MIN_THRESHOLD = 1e-12  # about as low as the manifest takes: scores above 0 come out
IN_FLIGHT_SENSITIVE = frozenset(
    {
        "terminal_txn_count_1d",
        "terminal_txn_count_7d",
        "terminal_txn_count_30d",
        "terminal_distinct_cards_1h",
    }
)


def run(model: Path, shards: int, parallelism: int) -> dict[str, dict[str, Any]]:
    """The alerts by transaction id. One shard is read in order: nothing is late. With four,
    a source subtask reads two shards whose polls can drift a second apart (a day of this
    replay's event time) behind its watermark, which is per subtask, not per shard: such a
    transaction is flagged late, and scored on arrival like any other."""
    records = sorted(
        read_records(Path("sample_data/sample_transactions.jsonl")),
        key=lambda r: json.loads(r)["event_time"],
    )
    with (
        LocalAws(shards=shards) as aws,
        RunningPipeline(
            aws,
            str(model),
            parallelism=parallelism,
            watermark_max_out_of_orderness_ms=BOUND_MS,
        ) as pipeline,
    ):
        pipeline.send(records, rate=RATE, progress=False)
        wait_for(lambda: pipeline.scored() >= len(records), 240, "every transaction scored")
        wait_quiet(pipeline.alerts, quiet_s=3.0, timeout_s=60)
        assert pipeline.scored() == len(records)
        if shards == 1:
            assert pipeline.late() == 0
        return {a.record["transaction_id"]: a.record for a in pipeline.alerts.received}


Runs = tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]], float]


@pytest.fixture(scope="module")
def runs(trained_model: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Runs:
    """Every transaction's alert record from both runs, and the model's threshold."""
    model = tmp_path_factory.mktemp("score-all") / "model"
    shutil.copytree(trained_model["dir"], model)
    manifest = json.loads((model / "manifest.json").read_text())
    threshold = float(manifest["threshold"])
    (model / "manifest.json").write_text(json.dumps({**manifest, "threshold": MIN_THRESHOLD}))
    return run(model, 1, 1), run(model, 4, 2), threshold


def test_card_features_are_the_same_and_terminal_counts_short_only_by_what_was_in_flight(
    runs: Runs,
) -> None:
    one, four, _ = runs
    both = set(one) & set(four)
    assert len(both) > 1_000
    for transaction_id in both:
        expected, actual = one[transaction_id]["features"], four[transaction_id]["features"]
        for name in FEATURE_NAMES:
            if name in IN_FLIGHT_SENSITIVE:
                assert 1 <= actual[name] <= expected[name], (transaction_id, name)
            else:
                assert actual[name] == pytest.approx(expected[name], rel=1e-6), name


def test_four_shards_alert_what_one_shard_alerts_wherever_the_features_are_the_same(
    runs: Runs,
) -> None:
    """A transaction missing from one run scored 0 there and not here: its features differ,
    as the model is deterministic. Where both runs have the same features, the same score
    and the same decision."""
    one, four, threshold = runs

    def alerted(run: dict[str, dict[str, Any]]) -> set[str]:
        return {t for t, a in run.items() if a["score"] >= threshold}

    assert len(alerted(one)) > 100
    same = [t for t in set(one) & set(four) if one[t]["features"] == four[t]["features"]]
    assert len(same) > 0.8 * len(set(one) | set(four))  # most had every predecessor already
    for transaction_id in same:
        assert four[transaction_id]["score"] == pytest.approx(one[transaction_id]["score"])
    changed = alerted(one) ^ alerted(four)
    assert not changed & set(same)
    assert len(changed) <= 0.02 * len(alerted(one)), sorted(changed)
