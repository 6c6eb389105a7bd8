"""Serve the current model whatever S3 does: a background poll, retries with backoff, and a
local cache of the last verified model.

- The scoring thread never touches S3: it reads `ModelServer.model`, a reference the
  background thread replaces after a new version passed verification.
- A version that cannot be read now (ModelUnavailableError: network, timeouts, 5xx, throttling)
  is retried after 1, 2, 4 ... s (at most `max_backoff_s`), never refused for good. A
  version that fails verification (sha256, feature schema, onnxruntime) is refused for the
  worker's lifetime: its bytes will not change (registry versions are immutable).
- Every verified model is written to a local cache (a registry layout under `cache_dir`).
  When S3 cannot be read at start, the worker starts from the cache, re-verified by sha256
  and feature schema, and says so in its log; the poll then catches up with the registry.
- The shadow models (the pointer's `shadows`, at most `max_shadows`, in the pointer's order)
  are loaded, verified and swapped the same way, after the current model, and handed to
  the scoring thread as one tuple (`ModelServer.shadows`). A shadow that fails
  verification is refused for good and counted as a refused current model is
  (`models_refused`), and the others are served; one that cannot be read now is retried
  with the same backoff while the ones already loaded keep scoring. Shadows are not
  cached: a worker started from the cache scores no shadow until S3 answers.
- Counts (swaps, refusals, fetch failures) are kept here and handed to the scoring thread
  (`drain_counts`): PyFlink's metric counters only count on the thread that runs the UDF.
"""

from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
import threading
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from contracts.model import MANIFEST_FILE, MAX_SHADOWS, MODEL_FILE, POINTER_FILE, VERSIONS_DIR
from udfs.metrics import CACHE_STARTS, FETCH_FAILURES, REFUSALS, SWAPS
from udfs.model import (
    ModelError,
    ModelSource,
    ModelUnavailableError,
    ScoringModel,
    Store,
)

# what the background poll counts (metric names: the scoring UDF registers them)
COUNTS = (SWAPS, REFUSALS, FETCH_FAILURES, CACHE_STARTS)

log = logging.getLogger(__name__)


def default_cache_dir(location: str) -> Path:
    """The cache of one model location under this machine's temporary directory (on
    Managed Flink, the task manager's): it survives job restarts on the same host."""
    key = hashlib.sha256(location.encode()).hexdigest()[:16]
    return Path(tempfile.gettempdir()) / "fraud-stream-model-cache" / key


class ModelCache:
    """The last verified model, as a one-version registry in a local directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._store = Store(str(directory))

    def save(self, model: ScoringModel) -> None:
        prefix = f"{VERSIONS_DIR}/{model.version}/"
        self._store.write(prefix + MODEL_FILE, model.onnx_bytes)
        self._store.write(prefix + MANIFEST_FILE, json.dumps(model.manifest.raw).encode())
        self._store.write(POINTER_FILE, json.dumps({"version": model.version}).encode())
        for old in self._store.list_dirs(VERSIONS_DIR):
            if old != model.version:
                shutil.rmtree(self.directory / VERSIONS_DIR / old, ignore_errors=True)

    def load(self, feature_names: tuple[str, ...], schema_hash: str) -> ScoringModel:
        """The cached model, verified again; a ModelError naming the cache if it is not
        there or not valid."""
        if not (self.directory / POINTER_FILE).is_file():
            raise ModelError(
                f"no cached model in {self.directory} either: restore access to the model "
                "registry (a model is cached after its first successful load)"
            )
        source = ModelSource(str(self.directory), feature_names, schema_hash)
        try:
            return source.load_current()
        except ModelError as error:
            raise ModelError(
                f"the cached model in {self.directory} is not usable ({error}); delete that "
                "directory and restore access to the model registry: the next start reads "
                "the model from there and caches it again"
            ) from error


@dataclass
class Backoff:
    """Delays between retries: initial, doubled after each failure, at most maximum."""

    initial_s: float = 1.0
    maximum_s: float = 60.0
    failures: int = 0

    def next_delay(self) -> float:
        delay = min(self.initial_s * 2.0**self.failures, self.maximum_s)
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


class ModelServer:
    """The model to score with now, kept current by a background thread."""

    def __init__(
        self,
        source: ModelSource,
        cache: ModelCache | None,
        poll_interval_s: float,
        backoff: Backoff | None = None,
        max_shadows: int = MAX_SHADOWS,
    ) -> None:
        self._source = source
        self._cache = cache
        self._poll_interval_s = poll_interval_s
        self._backoff = backoff or Backoff(maximum_s=max(60.0, poll_interval_s))
        self._refused: set[str] = set()
        self._counts: Counter[str] = Counter()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._max_shadows = max_shadows
        self._over_max: tuple[str, ...] = ()  # shadows beyond max_shadows, logged once
        self.shadows: tuple[ScoringModel, ...] = ()
        self._cache_start = False
        self.model = self._initial_model()
        if not self._cache_start:  # S3 unreachable: the poll loads the shadows later
            self._initial_shadows()

    # ---- start ----------------------------------------------------------------------

    def _initial_model(self) -> ScoringModel:
        try:
            model = self._source.load_current()
        except ModelUnavailableError as error:
            if self._cache is None:
                raise
            self._count(FETCH_FAILURES)
            model = self._from_cache(error)
            self._count(CACHE_STARTS)
            self._cache_start = True
            return model
        self._save(model)
        return model

    def _initial_shadows(self) -> None:
        """The shadows at start; S3 unreadable now: none yet, the poll loads them."""
        try:
            self._update_shadows(self._source.served_versions()[1])
        except ModelUnavailableError as error:
            self._count(FETCH_FAILURES)
            log.warning("shadow models not loaded at start, the poll will: %s", error)

    def _from_cache(self, error: ModelUnavailableError) -> ScoringModel:
        assert self._cache is not None
        try:
            model = self._cache.load(self._source.feature_names, self._source.schema_hash)
        except ModelError as cache_error:
            raise ModelError(f"cannot start: {error}; {cache_error}") from error
        log.warning(
            "model registry %s unreachable (%s): starting with the cached model %s from %s; "
            "the registry is polled again in the background",
            self._source.location,
            error,
            model.version,
            self._cache.directory,
        )
        return model

    def _save(self, model: ScoringModel) -> None:
        if self._cache is None:
            return
        try:
            self._cache.save(model)
        except OSError as error:  # a full or read-only disk must not stop scoring
            log.warning("could not cache model %s in %s: %s", model.version, self._cache, error)

    # ---- the background poll --------------------------------------------------------

    def start(self) -> ModelServer:
        self._thread = threading.Thread(target=self._run, name="model-poll", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 10.0) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout_s)

    def _run(self) -> None:
        delay = self._poll_interval_s
        while not self._stop.wait(delay):
            delay = self.poll()

    def poll(self) -> float:
        """Check the pointer once, swap if a new version passes verification; the delay
        until the next check (the poll interval, or a backoff after a failed read)."""
        try:
            self._check()
        except ModelUnavailableError as error:
            self._count(FETCH_FAILURES)
            delay = self._backoff.next_delay()
            log.warning(
                "model registry unreadable, keeping %s, next try in %.1f s: %s",
                self.model.version,
                delay,
                error,
            )
            return delay
        self._backoff.reset()
        return self._poll_interval_s

    def _check(self) -> None:
        version, shadows = self._source.served_versions()
        self._check_current(version)
        self._update_shadows(shadows)

    def _check_current(self, version: str) -> None:
        if version == self.model.version or version in self._refused:
            return
        try:
            model = self._source.load_version(version)
        except ModelUnavailableError:
            raise  # not the model's fault: poll() retries it
        except ModelError as error:
            self._refused.add(version)
            self._count(REFUSALS)
            log.error("model %s refused, keeping %s: %s", version, self.model.version, error)
            return
        log.warning("model swapped: %s -> %s", self.model.version, model.version)
        self.model = model
        self._count(SWAPS)
        self._save(model)

    def _update_shadows(self, versions: tuple[str, ...]) -> None:
        """Serve the shadows `versions` names (the first max_shadows), loading and
        verifying the new ones; a refused one is left out for good, one unreadable now
        raises ModelUnavailableError after the others are in place."""
        if versions[self._max_shadows :] != self._over_max:
            self._over_max = versions[self._max_shadows :]
            if self._over_max:
                log.warning(
                    "the pointer names %d shadows, model.max_shadows is %d: not scoring %s",
                    len(versions),
                    self._max_shadows,
                    ", ".join(self._over_max),
                )
        loaded = {model.version: model for model in self.shadows}
        served: list[ScoringModel] = []
        unavailable: ModelUnavailableError | None = None
        for version in versions[: self._max_shadows]:
            if version in loaded:
                served.append(loaded[version])
                continue
            if version in self._refused or version == self.model.version:
                continue
            try:
                model = self._source.load_version(version)
            except ModelUnavailableError as error:
                unavailable = error  # the others are served meanwhile
                continue
            except ModelError as error:
                self._refused.add(version)
                self._count(REFUSALS)
                log.error("shadow model %s refused, not scoring it: %s", version, error)
                continue
            log.warning("shadow model %s loaded: scored beside %s", version, self.model.version)
            served.append(model)
        if [m.version for m in served] != [m.version for m in self.shadows]:
            self.shadows = tuple(served)
        if unavailable is not None:
            raise unavailable

    # ---- counts ---------------------------------------------------------------------

    def _count(self, name: str) -> None:
        with self._lock:
            self._counts[name] += 1

    def drain_counts(self) -> dict[str, int]:
        """Counts since the last call (for the scoring thread's metric counters)."""
        with self._lock:
            counts, self._counts = dict(self._counts), Counter()
        return counts
