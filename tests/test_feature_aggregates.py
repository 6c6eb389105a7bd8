"""Rules of the Java feature aggregates (io.fraudstream.features) that the equality tests
on the sample do not reach: eviction exactly at t - 30 d, equal-timestamp peers, and
accumulators that come back from a checkpoint unchanged."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from model_export.feature_table import compute_features
from tests.feature_state_support import (
    busy_card,
    busy_terminal,
    card_field,
    card_function,
    map_size,
    same_card_after_one_more,
    same_terminal_after_one_more,
    state_copy,
    terminal_field,
    terminal_function,
)

THIRTY_DAYS_S = 30 * 24 * 3600


def _tx(tx: str, at: str, amount: float, terminal: str = "term_1", card: str = "card_1") -> str:
    return json.dumps(
        {
            "transaction_id": tx,
            "event_time": at,
            "card_id": card,
            "terminal_id": terminal,
            "amount": amount,
            "currency": "EUR",
        }
    )


def _features(tmp_path: Path, lines: list[str], streaming: bool = False) -> pd.DataFrame:
    path = tmp_path / "t.jsonl"
    path.write_text("\n".join(lines) + "\n")
    # streaming: a watermark 5 minutes behind, or a peer arriving second would be late
    frame = compute_features(path, streaming=streaming, lateness_ms=300_000 if streaming else 0)
    assert not frame["late"].any()
    return frame.set_index("transaction_id")


def test_a_transaction_exactly_30_days_old_is_evicted_from_every_card_window(
    tmp_path: Path,
) -> None:
    f = _features(
        tmp_path,
        [
            _tx("a", "2026-10-01T00:00:00.000Z", 100.0),
            _tx("b", "2026-10-30T23:59:59.999Z", 10.0, terminal="term_2"),
            _tx("c", "2026-10-31T00:00:00.000Z", 20.0),  # exactly 30 days after a
        ],
    )
    assert f.loc["b", "card_txn_count_30d"] == 2  # a is 1 ms less than 30 days old
    assert f.loc["c", "card_txn_count_30d"] == 2  # b and c: a has left
    assert f.loc["c", "card_max_amount_30d"] == 20.0
    assert f.loc["c", "card_sum_amount_30d"] == pytest.approx(30.0)
    assert f.loc["c", "card_terminal_seen_30d"] == 0  # a was at term_1, but 30 days ago
    assert f.loc["c", "card_secs_since_prev"] == 0  # b, 1 ms earlier


def test_terminal_risk_drops_a_transaction_exactly_the_delay_and_30_days_old(
    tmp_path: Path,
) -> None:
    labels = tmp_path / "labels.jsonl"
    fraud = {"card_id": "card_x", "terminal_id": "term_1", "label": "fraud"}
    labels.write_text(
        json.dumps(
            {
                **fraud,
                "transaction_id": "x",
                "event_time": "2026-10-01T00:00:00.001Z",
                "source": "chargeback",
                "reported_at": "2026-10-02T00:00:00.000Z",
            }
        )
    )
    path = tmp_path / "t.jsonl"
    lines = [
        _tx("a", "2026-10-01T00:00:00.000Z", 10.0, card="card_a"),
        _tx("x", "2026-10-01T00:00:00.001Z", 10.0, card="card_x"),
        _tx("b", "2026-11-07T00:00:00.000Z", 10.0, card="card_b"),  # a: exactly 37 d
        _tx("c", "2026-11-07T00:00:00.001Z", 10.0, card="card_c"),  # x: exactly 37 d
    ]
    path.write_text("\n".join(lines) + "\n")
    f = compute_features(path, labels=labels).set_index("transaction_id")
    assert f.loc["b", "terminal_fraud_risk_30d"] == 1.0  # x's label over x alone: a left
    assert f.loc["c", "terminal_fraud_risk_30d"] == 0.0  # x and its label left too


PEERS_AT = "2026-10-01T12:00:00.000Z"
PEERS = [
    _tx("a", "2026-10-01T11:59:00.000Z", 1.0, terminal="term_0"),
    _tx("b", PEERS_AT, 3.0, terminal="term_1"),
    _tx("c", PEERS_AT, 30.0, terminal="term_2", card="card_2"),
    _tx("d", PEERS_AT, 7.0, terminal="term_0"),
    _tx("e", "2026-10-01T13:00:00.000Z", 1.0, terminal="term_9", card="card_9"),
]


def _assert_shared_previous_and_other_card_alone(f: pd.DataFrame) -> None:
    for peer in ("b", "d"):
        assert f.loc[peer, "card_secs_since_prev"] == 60  # a, for both peers
    assert f.loc["d", "card_terminal_seen_30d"] == 1  # a was at term_0
    assert f.loc["b", "card_terminal_seen_30d"] == 0
    assert f.loc["c", "card_txn_count_10m"] == 1
    assert f.loc["c", "card_secs_since_prev"] == THIRTY_DAYS_S


def test_in_batch_peers_of_one_millisecond_see_each_other_and_share_the_previous_transaction(
    tmp_path: Path,
) -> None:
    f = _features(tmp_path, PEERS)
    for peer in ("b", "d"):
        assert f.loc[peer, "card_txn_count_10m"] == 3
        assert f.loc[peer, "card_sum_amount_10m"] == pytest.approx(11.0)
        assert f.loc[peer, "card_max_amount_10m"] == 7.0
        assert f.loc[peer, "card_small_txn_count_10m"] == 2
        assert f.loc[peer, "card_distinct_terminals_1d"] == 2
    _assert_shared_previous_and_other_card_alone(f)


def test_streaming_a_peer_is_scored_on_arrival_with_the_peers_that_arrived_before_it(
    tmp_path: Path,
) -> None:
    f = _features(tmp_path, PEERS, streaming=True)
    assert f.loc["b", "card_txn_count_10m"] == 2  # a and b: d had not arrived
    assert f.loc["b", "card_sum_amount_10m"] == pytest.approx(4.0)
    assert f.loc["b", "card_distinct_terminals_1d"] == 2
    assert f.loc["d", "card_txn_count_10m"] == 3  # a, b and d
    assert f.loc["d", "card_sum_amount_10m"] == pytest.approx(11.0)
    assert f.loc["d", "card_max_amount_10m"] == 7.0
    assert f.loc["d", "card_small_txn_count_10m"] == 2
    _assert_shared_previous_and_other_card_alone(f)


def test_streaming_a_transaction_arriving_after_a_later_one_counts_for_the_ones_after_it(
    tmp_path: Path,
) -> None:
    f = _features(
        tmp_path,
        [
            _tx("a", "2026-10-01T12:00:00.000Z", 1.0),
            _tx("c", "2026-10-01T12:02:00.000Z", 4.0),  # arrives before b
            _tx("b", "2026-10-01T12:01:00.000Z", 2.0, terminal="term_2"),
            _tx("d", "2026-10-01T12:03:00.000Z", 8.0),
        ],
        streaming=True,
    )
    assert f.loc["c", "card_txn_count_10m"] == 2  # a and c: b was not there yet
    assert f.loc["c", "card_secs_since_prev"] == 120  # a
    assert f.loc["b", "card_txn_count_10m"] == 2  # a and b: c is after b in event time
    assert f.loc["b", "card_secs_since_prev"] == 60  # a
    assert f.loc["b", "card_max_amount_10m"] == 2.0
    assert f.loc["d", "card_txn_count_10m"] == 4  # b counts for d
    assert f.loc["d", "card_sum_amount_10m"] == pytest.approx(15.0)
    assert f.loc["d", "card_distinct_terminals_1d"] == 2
    assert f.loc["d", "terminal_txn_count_1d"] == 3  # a, c, d at term_1


def test_streaming_a_key_keeps_its_history_the_out_of_order_bound_longer_than_30_days(
    tmp_path: Path,
) -> None:
    f = _features(  # streaming with a 5-minute bound
        tmp_path,
        [
            _tx("a", "2026-10-01T00:00:00.000Z", 1.0),
            _tx("c", "2026-10-31T00:01:00.000Z", 4.0),  # a is older than 30 days for c
            _tx("b", "2026-10-30T23:59:00.000Z", 2.0),  # 2 minutes behind c: within the bound
        ],
        streaming=True,
    )
    assert f.loc["c", "card_txn_count_30d"] == 1
    assert f.loc["b", "card_txn_count_30d"] == 2  # a was kept for it
    assert f.loc["b", "card_max_amount_30d"] == 2.0


def test_card_state_read_back_from_a_checkpoint_goes_on_like_the_original(jvm: Any) -> None:
    function, original = busy_card(jvm)
    assert map_size(original) > 100  # hours spilled to map state
    assert map_size(original, "uses") > 100  # so were terminals unused for a day
    restored = state_copy(jvm.io.fraudstream.features.CardState, original)
    assert same_card_after_one_more(jvm, function, original, restored)


def test_a_late_row_of_a_card_with_many_terminals_counts_those_moved_out_of_its_head(
    jvm: Any,
) -> None:
    """A card with more terminals than its head keeps moves those unused for a day to map
    state; a row a day and more behind (late) still counts every terminal of its day."""
    function = card_function(jvm)
    card = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    half_hour = 30 * 60 * 1000
    for i in range(3 * 48):  # 3 days, each payment at a terminal of its own
        function.accumulate(card, at(i * half_hour), 10.0, f"shop_{i}", None, None)
    assert map_size(card, "uses") > 0  # terminals unused for a day moved out
    late = (3 * 48 - 1) * half_hour - 30 * 3_600_000  # 30 hours behind the latest
    function.accumulate(card, at(late + 1), 10.0, "late_shop", None, None)
    distinct_1d = function.getValue(card).getField(card_field("terminals_1d"))
    assert distinct_1d == 48 + 1  # the 48 payments of (t - 1 d, t] and its own


def test_terminal_state_read_back_from_a_checkpoint_goes_on_like_the_original(
    jvm: Any,
) -> None:
    function, original = busy_terminal(jvm)
    assert map_size(original) > 100  # hours spilled to map state
    restored = state_copy(jvm.io.fraudstream.features.TerminalState, original)
    assert same_terminal_after_one_more(jvm, function, original, restored)


def test_labels_of_unknown_transactions_and_repeated_fraud_labels_are_ignored(
    tmp_path: Path,
) -> None:
    week_s = 7 * 24 * 3600
    t0 = pd.Timestamp("2026-10-01T00:00:00Z")

    def at(seconds: float) -> str:
        return (t0 + pd.Timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z"

    def label(card: str, seconds: float, source: str) -> str:
        return json.dumps(
            {
                "transaction_id": f"tx-{card}",
                "card_id": card,
                "terminal_id": "term_1",
                "event_time": at(seconds),
                "label": "fraud",
                "source": source,
                "reported_at": at(24 * 3600),
            }
        )

    path, labels = tmp_path / "t.jsonl", tmp_path / "labels.jsonl"
    transactions = [
        _tx("tx-card_1", at(0), 10.0, card="card_1"),
        _tx("tx-card_2", at(60), 10.0, card="card_2"),
        _tx("probe", at(week_s + 3600), 10.0, card="card_3"),
    ]
    path.write_text("\n".join(transactions) + "\n")
    labels.write_text(
        "\n".join(
            [
                label("card_1", 0, "chargeback"),
                label("card_1", 0, "analyst"),  # the same transaction again
                label("card_9", 120, "chargeback"),  # no such transaction
            ]
        )
        + "\n"
    )
    f = compute_features(path, labels=labels).set_index("transaction_id")
    # (t - d - 1 d, t - d] holds tx-card_1 and tx-card_2; one of them is a fraud
    assert f.loc["probe", "terminal_fraud_risk_1d"] == pytest.approx(0.5)


def test_the_terminal_aggregate_counts_the_labels_it_ignores_and_waits_for_late_transactions(
    jvm: Any,
) -> None:
    function = terminal_function(jvm)
    function.open(jvm.org.apache.flink.table.functions.FunctionContext(None))  # bound 0
    acc = function.createAccumulator()
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    day = 24 * 3600 * 1000
    delay = 7 * day
    function.accumulate(acc, at(day), 1, 0, "card_1", delay, None)  # a transaction
    function.accumulate(acc, at(day + delay), 0, 1, "card_1", delay, 2 * day)  # its fraud label
    function.accumulate(acc, at(day + delay), 0, 1, "card_1", delay, 3 * day)  # the same again
    function.accumulate(acc, at(day + delay), 0, 0, "card_2", delay, 2 * day)  # unknown (legit)
    # a fraud label that overtook its transaction waits for it, and counts when it comes
    function.accumulate(acc, at(2 * day + delay), 0, 1, "card_3", delay, 2 * day)
    function.accumulate(acc, at(2 * day), 1, 0, "card_3", delay, None)
    # one whose transaction never comes is unknown once later transactions pass its time
    function.accumulate(acc, at(3 * day + delay), 0, 1, "card_4", delay, 4 * day)
    function.accumulate(acc, at(4 * day), 1, 0, "card_5", delay, None)
    assert list(function.ignoredLabels()) == [2, 1]
    function.accumulate(acc, at(3 * day + delay), 1, 0, "card_6", delay, None)
    fraud_30d = function.getValue(acc).getField(terminal_field("fraud_30d"))
    assert fraud_30d == 2  # card_1's and card_3's


def test_the_label_reported_last_is_in_force_whatever_order_labels_arrive_in(jvm: Any) -> None:
    """A legit label reported after a fraud takes the fraud back; one reported before it
    changes nothing, even when it arrives after it; a tie goes to fraud."""
    day = 24 * 3600 * 1000
    delay = 7 * day
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis

    def frauds_after(labels: list[tuple[int, int]]) -> int:
        """fraud_30d after one transaction and `labels` as (is_fraud, reported day)."""
        function = terminal_function(jvm)
        acc = function.createAccumulator()
        function.accumulate(acc, at(day), 1, 0, "card_1", delay, None)
        for is_fraud, reported in labels:
            function.accumulate(acc, at(day + delay), 0, is_fraud, "card_1", delay, reported * day)
        function.accumulate(acc, at(day + delay), 1, 0, "card_2", delay, None)  # reads the risk
        return int(function.getValue(acc).getField(terminal_field("fraud_30d")))

    assert frauds_after([(1, 2)]) == 1
    assert frauds_after([(1, 2), (0, 3)]) == 0  # taken back
    assert frauds_after([(0, 3), (1, 2)]) == 0  # the older fraud arrives last: still legit
    assert frauds_after([(1, 2), (0, 3), (1, 4)]) == 1  # flipped again
    assert frauds_after([(0, 2), (1, 2)]) == 1  # a tie: fraud
    assert frauds_after([(1, 2), (0, 1)]) == 1  # a legit reported earlier changes nothing


def test_a_label_that_overtook_its_transaction_is_revised_while_it_waits(jvm: Any) -> None:
    day = 24 * 3600 * 1000
    delay = 7 * day
    at = jvm.org.apache.flink.table.data.TimestampData.fromEpochMillis
    function = terminal_function(jvm)
    acc = function.createAccumulator()
    function.accumulate(acc, at(day + delay), 0, 1, "card_1", delay, 2 * day)  # fraud, waits
    function.accumulate(acc, at(day + delay), 0, 0, "card_1", delay, 3 * day)  # legit, later
    function.accumulate(acc, at(day), 1, 0, "card_1", delay, None)  # the transaction comes
    function.accumulate(acc, at(day + delay), 1, 0, "card_2", delay, None)
    assert function.getValue(acc).getField(terminal_field("fraud_30d")) == 0
