"""The bench's throughput is the rate once the job is steady, not the start-up's."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench.throughput import SteadyRateError, hot_key_file, rate_once_steady


def test_the_rate_is_taken_over_the_second_half_of_the_run_only() -> None:
    # 10 s of start-up at 1,000 records/s, then 5,000/s until all 100,000 are read.
    samples = [(float(t), 1_000 * t) for t in range(11)]
    samples += [(10.0 + t, 10_000 + 5_000 * t) for t in range(1, 19)]
    samples += [(29.0, 100_000), (29.5, 100_000)]
    assert rate_once_steady(samples, 100_000, "data") == pytest.approx(5_000)


def test_a_run_too_short_to_be_steady_says_to_make_it_longer() -> None:
    samples = [(0.0, 0), (1.0, 60_000), (2.0, 100_000)]
    with pytest.raises(SteadyRateError, match="raise --copies"):
        rate_once_steady(samples, 100_000, "data")


def test_the_hot_key_data_moves_the_share_of_transactions_to_one_key_and_nothing_else(
    tmp_path: Path,
) -> None:
    lines = [
        json.dumps({"transaction_id": f"tx{i}", "terminal_id": f"t{i % 50}", "amount": 1.0})
        for i in range(10_000)
    ]
    data = tmp_path / "d.jsonl"
    data.write_text("\n".join([*lines, "not json"]) + "\n")
    hot = hot_key_file(data, "terminal_id", "T-HOT", 0.30)
    out = hot.read_text().splitlines()
    assert out[-1] == "not json"  # a malformed record stays as it is
    records = [json.loads(line) for line in out[:-1]]
    moved = [r for r in records if r["terminal_id"] == "T-HOT"]
    assert 0.28 < len(moved) / len(records) < 0.32
    before = [json.loads(line) for line in lines]
    assert all(
        {**r, "terminal_id": b["terminal_id"]} == b for r, b in zip(records, before, strict=True)
    )
    hot.unlink()  # chosen by the transaction id: the same ones again
    again = hot_key_file(data, "terminal_id", "T-HOT", 0.30).read_text().splitlines()
    assert again == out
