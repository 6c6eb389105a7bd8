"""The demo's latency is the steady state's; the job's first seconds are reported apart."""

from __future__ import annotations

import math

import pytest

from local.demo import latency_lines
from local.traffic.latency import Percentiles, latency_samples, split_cold_start
from local.traffic.stream_tail import Received

START = 1_000.0


def test_the_cold_start_is_what_was_put_in_the_first_seconds_and_the_rest_is_steady() -> None:
    # A fresh job: the first alerts (put in the first 3 s) wait for JIT and the Python
    # worker, 1.8 s down to 0.6 s; after that, 100 alerts of 100 to 199 ms.
    cold = [(START + 0.1, START + 1.9), (START + 1.0, START + 2.2), (START + 2.9, START + 3.5)]
    steady = [(START + 3.0 + i * 0.1, START + 3.0 + i * 0.1 + (100 + i) / 1000) for i in range(100)]
    split = split_cold_start(steady + cold, START, cold_s=3.0)  # in any order

    assert split.cold.count == 3
    assert split.cold.p50_ms == pytest.approx(1_200)
    assert split.cold.max_ms == pytest.approx(1_800)
    assert split.steady.count == 100  # a put at exactly start + 3 s is steady
    assert split.steady.p50_ms == pytest.approx(149.5)
    assert split.steady.p99_ms == pytest.approx(198.01)
    assert split.steady.max_ms == pytest.approx(199)
    assert split.first_alert_s == pytest.approx(1.9)  # the first read, from the first put
    assert split.first_alert_latency_ms == pytest.approx(1_800)  # the first put's own


def test_the_first_alert_is_the_first_read_even_when_another_was_put_earlier() -> None:
    split = split_cold_start([(START + 0.5, START + 2.0), (START + 1.0, START + 1.2)], START)
    assert split.first_alert_s == pytest.approx(1.2)
    assert split.first_alert_latency_ms == pytest.approx(1_500)


def test_a_replay_within_the_cold_start_has_no_steady_figures_and_none_has_no_figures() -> None:
    split = split_cold_start([(START, START + 0.5)], START, cold_s=3.0)
    assert split.cold == Percentiles(1, 500, 500, 500)
    assert split.steady.count == 0 and math.isnan(split.steady.p50_ms)
    empty = split_cold_start([], START)
    assert empty.cold.count == empty.steady.count == 0
    assert math.isnan(empty.first_alert_s) and math.isnan(empty.first_alert_latency_ms)


def test_samples_pair_each_alert_with_its_transactions_put_time() -> None:
    alerts = [
        Received({"transaction_id": "t1"}, read_at=START + 1.0),
        Received({"transaction_id": "not-replayed"}, read_at=START + 2.0),
    ]
    assert latency_samples(alerts, {"t1": START + 0.25, "t2": START}) == [(START + 0.25, START + 1)]


def test_the_summary_quotes_the_steady_state_as_the_latency_and_labels_the_cold_start() -> None:
    samples = [(START + 0.1, START + 1.9)]
    samples += [(START + 3 + i, START + 3 + i + 0.15) for i in range(10)]
    lines = latency_lines(split_cold_start(samples, START, cold_s=3.0))
    assert lines[0].startswith("latency put→alert p50       150 ms   (steady state: 10 alerts")
    assert lines[1].startswith("latency put→alert p99       150 ms")
    assert lines[2].startswith("cold start p50             1800 ms   (1 alerts put in the first 3")
    assert lines[3].startswith("cold start p99             1800 ms")
    assert lines[4].startswith("first alert                1900 ms   after the first put")
