"""The local Flink mini-cluster's REST API (loopback only): jobs, metrics, cancel."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from flink_job.rest import FlinkRestReader


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
        """Stop the job with a savepoint in `directory` (a URI); return its location."""
        body = {"targetDirectory": directory, "drain": False}
        trigger = self._post(f"/jobs/{job_id}/stop", body)["request-id"]
        path = f"/jobs/{job_id}/savepoints/{trigger}"
        return str(self._operation(path, f"savepoint of job {job_id}", timeout_s)["location"])

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
