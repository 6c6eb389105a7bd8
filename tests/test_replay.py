"""The replay's pacing, which the demo, the tests and the bench's latency sender share."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from local.aws import LocalAws, read_stream
from local.traffic.replay import (
    DEPLOYED_MAX_AGE,
    MAX_BATCH,
    SAMPLE,
    main,
    older_than,
    paced,
    parse_time,
    read_records,
    shift_to,
)


def test_paced_yields_each_tick_in_putrecords_sized_batches() -> None:
    records = [f"r{i}" for i in range(1_200)]
    batches = list(paced(records, rate=1e9))
    assert [len(b) for b in batches] == [MAX_BATCH, MAX_BATCH, 200]
    assert [r for b in batches for r in b] == records


def test_paced_spreads_the_records_over_ticks_at_the_rate() -> None:
    began = time.monotonic()
    batches = list(paced([b"x"] * 10, rate=200, tick_s=0.02))  # 4 a tick
    assert [len(b) for b in batches] == [4, 4, 2]
    assert time.monotonic() - began >= 0.04  # the third tick waits two ticks


# ---- the CLI: python -m local.traffic.replay -------------------------------------------------


@pytest.fixture(scope="module")
def local_aws() -> Iterator[LocalAws]:
    with LocalAws() as aws:
        yield aws


def test_shift_to_moves_every_time_by_the_same_amount_and_keeps_unreadable_records() -> None:
    records = [
        json.dumps({"transaction_id": "a", "event_time": "2026-10-01T00:00:00.000Z"}),
        "not json",
        json.dumps({"transaction_id": "b", "event_time": "2026-10-01T06:30:00.250Z"}),
    ]
    latest = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)
    shifted = shift_to(records, latest)
    assert shifted[1] == "not json"
    first, last = (json.loads(shifted[i])["event_time"] for i in (0, 2))
    assert last == "2026-12-07T12:00:00.000Z"
    assert parse_time(last) - parse_time(first) == timedelta(hours=6, minutes=30, seconds=0.25)


def test_replay_cli_puts_the_samples_newest_records_shifted_to_now(local_aws: LocalAws) -> None:
    """`python -m local.traffic.replay --last 40`: the sample's last 40 records, contract
    fields only, in file order, the newest stamped now (none older than the deployed 7-day
    maximum age)."""
    sample = read_records(SAMPLE)[-40:]
    began = datetime.now(UTC)
    code = main(
        [
            "--stream",
            "transactions",
            "--endpoint",
            local_aws.endpoint,
            "--region",
            "us-east-1",
            "--last",
            "40",
            "--rate",
            "2000",
            "--quiet",
        ]
    )
    assert code == 0
    sent = [json.loads(r["Data"]) for r in read_stream(local_aws, "transactions")][-40:]
    assert [r["transaction_id"] for r in sent] == [json.loads(r)["transaction_id"] for r in sample]
    assert all("label" not in r and "scenario" not in r for r in sent)
    newest = max(parse_time(r["event_time"]) for r in sent)
    assert began - timedelta(seconds=1) <= newest <= datetime.now(UTC)
    assert older_than([json.dumps(r) for r in sent], DEPLOYED_MAX_AGE, datetime.now(UTC)) == 0
    written = [parse_time(json.loads(r)["event_time"]) for r in sample]
    shifted = [parse_time(r["event_time"]) for r in sent]
    assert [t - shifted[0] for t in shifted] == [t - written[0] for t in written]


def test_replay_cli_names_a_missing_file_or_stream_instead_of_crashing(
    local_aws: LocalAws, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    endpoint = ["--endpoint", local_aws.endpoint, "--region", "us-east-1", "--quiet"]
    assert main([str(tmp_path / "none.jsonl"), "--stream", "transactions", *endpoint]) == 2
    assert "cannot read" in capsys.readouterr().err
    assert main(["--stream", "no-such-stream", "--last", "1", *endpoint]) == 1
    assert "no-such-stream" in capsys.readouterr().err


def test_replay_runs_as_a_module() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "local.traffic.replay", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0 and "--stream" in result.stdout and "--rate" in result.stdout
