"""Score a batch with the shadow models (challengers) beside the serving model, isolated
from it: a shadow's scores are only recorded (Decision v1's `shadow_scores`), never alert,
and whatever a shadow does delays the serving decision by at most a time budget per batch.

- Each shadow scores the batch's feature matrix (the serving model's, the same rows) on a
  thread of its own, started before the serving model scores, so the two overlap;
  onnxruntime releases the GIL while it runs.
- Once the serving decision is ready, the scoring thread waits for the shadows at most
  `budget_s` more, and no longer. A shadow not done by then leaves the batch without its
  scores (`shadow_scoring_skips` counts the rows), its call is told to stop (onnxruntime's
  RunOptions.terminate: it ends at the graph's next node rather than burn a core for
  nothing) and it is paused: it scores no batch while that call still runs, nor for
  `pause_s` after it was late. The budget is added
  latency, not a shadow's whole time: a shadow as fast as the serving model, scoring
  beside it, costs no wait at all whatever the batch size.
- A shadow that raises (onnxruntime) or returns a score that is not a finite number in
  [0, 1] (NaN) leaves the batch without its scores (`shadow_scoring_failures` counts the
  rows; the first failure of each version is logged) and scores the next batch again.

A row's shadow scores are a map version -> score of the shadows that scored its batch;
NULL when none did (no shadow served, or every one failed, was late or paused).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeoutError
from dataclasses import dataclass
from typing import Any

import numpy as np
import onnxruntime as ort
from numpy.typing import NDArray

from udfs.metrics import SHADOW_FAILURES, SHADOW_SKIPS
from udfs.model import ScoringModel

# what shadow scoring counts (metric names: the scoring UDF registers them)
SHADOW_COUNTS = (SHADOW_FAILURES, SHADOW_SKIPS)
# after a shadow ran over its budget, batches it skips at least (it skips while late too)
DEFAULT_PAUSE_S = 30.0

log = logging.getLogger(__name__)


@dataclass
class _Lane:
    """One shadow version's thread, its call in flight and when it may score again."""

    executor: ThreadPoolExecutor
    running: Future[NDArray[np.float64]] | None = None
    options: ort.RunOptions | None = None  # the running call's: terminate stops it
    paused_until: float = 0.0
    failure_logged: bool = False


class ShadowScorer:
    """Scores batches with the shadows it is handed; keeps one thread per version."""

    def __init__(self, budget_s: float, pause_s: float = DEFAULT_PAUSE_S) -> None:
        self.budget_s = budget_s
        self.pause_s = pause_s
        self._lanes: dict[str, _Lane] = {}
        self._counts: Counter[str] = Counter()

    def start(self, shadows: Sequence[ScoringModel], matrix: NDArray[Any]) -> list[str]:
        """Start scoring `matrix` with every shadow that is not paused; the versions that
        started (collect() waits for them)."""
        now = time.monotonic()
        started = []
        for model in shadows:
            lane = self._lane(model.version)
            if lane.running is not None and lane.running.done():
                lane.running = None  # a late call ended (paused_until still holds)
            if lane.running is not None or now < lane.paused_until:
                self._counts[SHADOW_SKIPS] += len(matrix)
                continue
            lane.options = ort.RunOptions()
            lane.running = lane.executor.submit(model.score, matrix, lane.options)
            started.append(model.version)
        self._drop_lanes_but({m.version for m in shadows})
        return started

    def collect(self, started: list[str], rows: int) -> list[dict[str, float] | None]:
        """Each row's scores by the shadows that finish within the budget from now (the
        serving decision is ready), as a map version -> score, or None."""
        deadline = time.monotonic() + self.budget_s
        scores: dict[str, NDArray[np.float64]] = {}
        for version in started:
            lane = self._lanes[version]
            assert lane.running is not None
            try:
                result = lane.running.result(max(0.0, deadline - time.monotonic()))
            except FutureTimeoutError:
                assert lane.options is not None
                lane.options.terminate = True
                lane.paused_until = time.monotonic() + self.pause_s
                self._counts[SHADOW_SKIPS] += rows
                log.warning(
                    "shadow %s over its %.0f ms budget: skipped for %.0f s at least",
                    version,
                    self.budget_s * 1000,
                    self.pause_s,
                )
                continue  # its call runs on: the lane stays busy until it ends
            except Exception as error:  # onnxruntime raises several private types
                lane.running = None
                self._failed(version, lane, rows, f"raised {error!r}")
                continue
            lane.running = None
            if result.shape != (rows,) or not np.all((result >= 0.0) & (result <= 1.0)):
                self._failed(version, lane, rows, "returned scores that are not in [0, 1]")
                continue
            scores[version] = result
        if not scores:
            return [None] * rows
        versions = list(scores)
        columns = [scores[v].tolist() for v in versions]
        return [dict(zip(versions, row, strict=True)) for row in zip(*columns, strict=True)]

    def _failed(self, version: str, lane: _Lane, rows: int, what: str) -> None:
        self._counts[SHADOW_FAILURES] += rows
        if not lane.failure_logged:
            lane.failure_logged = True
            log.error("shadow %s %s: its scores are null for that batch", version, what)

    def _lane(self, version: str) -> _Lane:
        lane = self._lanes.get(version)
        if lane is None:
            executor = ThreadPoolExecutor(1, thread_name_prefix=f"shadow-{version}")
            lane = self._lanes[version] = _Lane(executor)
        return lane

    def _drop_lanes_but(self, versions: set[str]) -> None:
        """A demoted shadow's thread ends once its call (if any) does."""
        for version in [v for v in self._lanes if v not in versions]:
            self._lanes.pop(version).executor.shutdown(wait=False)

    def close(self) -> None:
        self._drop_lanes_but(set())

    def drain_counts(self) -> dict[str, int]:
        """Counts since the last call (for the scoring thread's metric counters)."""
        counts, self._counts = dict(self._counts), Counter()
        return counts
