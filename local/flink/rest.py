"""The local Flink mini-cluster's REST API (loopback only): jobs, metrics, cancel."""

from __future__ import annotations

import json
import time
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from flink_job.rest import FlinkRestReader


def _written_savepoint(directory: str, job_id: str, timeout_s: float) -> str:
    """The complete savepoint of `job_id` in a local `directory` (Flink names it
    savepoint-<first 6 characters of the job id>-<random> and writes `_metadata` last)."""
    root = Path(urllib.parse.urlparse(directory).path)
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        found = sorted(root.glob(f"savepoint-{job_id[:6]}-*/_metadata"))
        if found:
            return str(found[-1].parent)
        time.sleep(0.2)
    raise TimeoutError(f"no savepoint of job {job_id} in {directory} after {timeout_s:.0f}s")


class FlinkRest(FlinkRestReader):
    """The reader's calls (flink_job.rest) and the local runtime's operations."""

    def reachable(self) -> bool:
        try:
            self._get("/config")
        except OSError:
            return False
        return True

    def cancel(self, job_id: str) -> None:
        request = urllib.request.Request(f"{self._base}/jobs/{job_id}?mode=cancel", method="PATCH")
        with urllib.request.urlopen(request, timeout=5):
            pass

    def _post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        data = json.dumps(body or {}).encode()
        request = urllib.request.Request(self._base + path, data=data, method="POST")
        request.add_header("Content-Type", "application/json")
        with urllib.request.urlopen(request, timeout=30) as response:
            return json.loads(response.read())

    def _operation(self, path: str, what: str, timeout_s: float) -> dict[str, Any]:
        """Wait for the asynchronous operation whose status is at `path`; its result."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            status = self._get(path)
            if status["status"]["id"] == "COMPLETED":
                operation: dict[str, Any] = status["operation"]
                if "failure-cause" in operation:
                    raise RuntimeError(f"{what} failed: {operation['failure-cause']}")
                return operation
            time.sleep(0.5)
        raise TimeoutError(f"{what} not done after {timeout_s:.0f}s")

    def checkpoint(self, job_id: str, timeout_s: float = 300.0) -> dict[str, Any]:
        """Trigger a checkpoint, wait for it, and return its details (state per vertex)."""
        trigger = self._post(f"/jobs/{job_id}/checkpoints")["request-id"]
        path = f"/jobs/{job_id}/checkpoints/{trigger}"
        done = self._operation(path, f"checkpoint of job {job_id}", timeout_s)
        details: dict[str, Any] = self._get(
            f"/jobs/{job_id}/checkpoints/details/{done['checkpointId']}"
        )
        return details

    def stop_with_savepoint(self, job_id: str, directory: str, timeout_s: float = 300.0) -> str:
        """Stop the job with a savepoint in `directory` (a file URI); return its location.

        Once the job has stopped, the local entry point returns and its mini-cluster (this
        REST API) goes away, possibly before the operation's status was read: then the
        savepoint is the job's complete one in `directory`."""
        body = {"targetDirectory": directory, "drain": False}
        trigger = self._post(f"/jobs/{job_id}/stop", body)["request-id"]
        path = f"/jobs/{job_id}/savepoints/{trigger}"
        try:
            return str(self._operation(path, f"savepoint of job {job_id}", timeout_s)["location"])
        except OSError:
            return _written_savepoint(directory, job_id, timeout_s)

    def vertex_descriptions(self, job_id: str) -> dict[str, str]:
        """Vertex id → the planner's description of its operators (keys, windows)."""
        nodes = self._get(f"/jobs/{job_id}/plan")["plan"]["nodes"]
        return {n["id"]: n.get("description", "") for n in nodes}

    def completed_checkpoints(self, job_id: str) -> int:
        """Checkpoints the job completed since it started (restored ones not counted)."""
        return int(self._get(f"/jobs/{job_id}/checkpoints")["counts"]["completed"])

    def running_job_ids(self) -> list[str]:
        jobs = self._get("/jobs/overview")["jobs"]
        return [j["jid"] for j in jobs if j["state"] == "RUNNING"]

    def metric_total(self, job_id: str, suffix: str) -> float:
        """Sum over vertices and subtasks of every metric whose id ends with `suffix`."""
        total = 0.0
        for vertex in self._get(f"/jobs/{job_id}")["vertices"]:
            path = f"/jobs/{job_id}/vertices/{vertex['id']}/subtasks/metrics"
            ids = [m["id"] for m in self._get(path) if m["id"].endswith(suffix)]
            if ids:
                for metric in self._get(f"{path}?get={','.join(ids)}&agg=sum"):
                    total += float(metric.get("sum", 0.0))
        return total
