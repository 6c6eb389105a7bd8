"""Settings the job derives from its configuration rather than assuming defaults."""

from __future__ import annotations

from flink_job.features import DAY, DEFAULT_LABEL_DELAY_MS
from flink_job.main import state_ttl


def test_state_is_kept_for_the_widest_window_plus_the_label_delay_and_a_day() -> None:
    assert state_ttl(DEFAULT_LABEL_DELAY_MS) == "38 d"
    assert state_ttl(14 * DAY) == "45 d"
    assert state_ttl(DAY + 1) == f"{32 * DAY + 1} ms"
