"""State bytes per active card and per terminal as simulated days pass, and the job's memory.

The simulated history goes through the local Kinesis into the running job in event-time
order, a slice of days at a time. After each slice, once every event is scored, a checkpoint
is taken through Flink's REST API and its state size is read per operator: the operators
keyed by card (the card OVER windows) and by terminal (the terminal OVER windows). Dividing
by the cards and terminals seen in the last 30 days gives bytes per active key; comparing
slices shows whether state stops growing once the 30-day windows are full. Resident memory
is the sum of the peak resident sets (VmHWM) of the job's processes: the JVM and the Python
workers.
"""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from local.aws import LocalAws
from local.flink.running import RunningPipeline, wait_for
from local.traffic.replay import read_records

WINDOW_DAYS = 30
REPLAY_RATE = 5000.0  # the producer outruns the job; Kinesis holds the backlog


@dataclass(frozen=True)
class StateResult:
    day: int  # simulated days replayed so far
    events: int
    active_cards: int
    active_terminals: int
    card_state_bytes: int
    terminal_state_bytes: int
    other_state_bytes: int
    bytes_per_card: float
    bytes_per_terminal: float
    peak_rss_mb: float
    by_operator: dict[str, int]  # operator chain (its first operator) -> state bytes


def _keyed_by(name: str) -> str:
    """Which key an operator chain holds state for, from its name ('other' when none)."""
    if "partitionBy=[card_id]" in name or "partitionBy=[card_id, terminal_id]" in name:
        return "card"  # a card's terminals are part of the card's state
    if "partitionBy=[terminal_id]" in name:
        return "terminal"
    return "other"


def _peak_rss_mb(pids: list[int]) -> float:
    total_kb = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kb += int(line.split()[1])
        except OSError:
            continue
    return total_kb / 1024


def _slices(records: list[str], every_days: int) -> list[tuple[int, list[dict[str, str]]]]:
    """Records in event-time order, cut every `every_days` days from the first."""
    events = sorted((json.loads(r) for r in records), key=lambda e: e["event_time"])
    start = datetime.fromisoformat(events[0]["event_time"].replace("Z", "+00:00"))
    cuts: list[tuple[int, list[dict[str, str]]]] = []
    day, current = every_days, list[dict[str, str]]()
    for event in events:
        at = datetime.fromisoformat(event["event_time"].replace("Z", "+00:00"))
        while at >= start + timedelta(days=day):
            cuts.append((day, current))
            day, current = day + every_days, list[dict[str, str]]()
        current.append(event)
    cuts.append((day, current))
    return [c for c in cuts if c[1]]


def _active(seen: list[dict[str, str]], key: str) -> int:
    last = datetime.fromisoformat(seen[-1]["event_time"].replace("Z", "+00:00"))
    since = (last - timedelta(days=WINDOW_DAYS)).isoformat().replace("+00:00", "Z")
    return len({e[key] for e in seen if e["event_time"] > since})


def measure(data: Path, model_path: str, every_days: int) -> list[StateResult]:
    records = [r for r in read_records(data) if r.startswith("{")]
    results = []
    with tempfile.TemporaryDirectory(prefix="fraud-checkpoints-") as checkpoints:
        flink = {
            "execution.checkpointing.interval": "1 h",  # only the ones triggered here
            "state.checkpoints.dir": Path(checkpoints).as_uri(),
            "state.backend.type": "hashmap",
        }
        with LocalAws() as aws, RunningPipeline(aws, model_path, flink=flink) as pipeline:
            seen: list[dict[str, str]] = []
            for day, events in _slices(records, every_days):
                before = pipeline.scored()
                pipeline.send([json.dumps(e) for e in events], REPLAY_RATE, progress=False)
                expected = before + len(events)
                _wait_scored(pipeline, expected, f"day {day}")
                seen += events
                results.append(_checkpoint(pipeline, day, seen))
                print(f"state: day {day}: {results[-1]}", flush=True)
    return results


def _wait_scored(pipeline: RunningPipeline, expected: int, what: str) -> None:
    wait_for(lambda: pipeline.scored() >= expected, 1800, f"{what} scored")


def _checkpoint(pipeline: RunningPipeline, day: int, seen: list[dict[str, str]]) -> StateResult:
    job = pipeline.job_ids()[0]
    names = pipeline.rest.vertex_descriptions(job)
    details = pipeline.rest.checkpoint(job)
    by_key = {"card": 0, "terminal": 0, "other": 0}
    by_operator: dict[str, int] = {}
    for vertex, stats in details["tasks"].items():
        size = int(stats.get("state_size", 0))
        by_key[_keyed_by(names.get(vertex, ""))] += size
        label = _operator_label(names.get(vertex, vertex))
        by_operator[label] = by_operator.get(label, 0) + size
    cards, terminals = _active(seen, "card_id"), _active(seen, "terminal_id")
    return StateResult(
        day=day,
        events=len(seen),
        active_cards=cards,
        active_terminals=terminals,
        card_state_bytes=by_key["card"],
        terminal_state_bytes=by_key["terminal"],
        other_state_bytes=by_key["other"],
        bytes_per_card=by_key["card"] / max(cards, 1),
        bytes_per_terminal=by_key["terminal"] / max(terminals, 1),
        peak_rss_mb=_peak_rss_mb(pipeline.process_ids()),
        by_operator=dict(sorted(by_operator.items(), key=lambda kv: -kv[1])),
    )


def _operator_label(description: str) -> str:
    """'OverAggregate(partitionBy=[card_id], ..., window=[RANG BETWEEN ...])' -> short."""
    first = description.split("<br/>")[0].split(" -> ")[0]
    return " ".join(first.replace("&gt;", ">").split())[:160]
