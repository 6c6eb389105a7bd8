"""The bench's throughput is the rate once the job is steady, not the start-up's."""

from __future__ import annotations

import pytest

from bench.throughput import SteadyRateError, rate_once_steady


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
