"""The local Flink mini-cluster's REST API (loopback only): jobs, metrics, cancel."""

from __future__ import annotations

import json
import urllib.request
from typing import Any


class FlinkRest:
    def __init__(self, port: int) -> None:
        self._base = f"http://127.0.0.1:{port}"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self._base + path, timeout=5) as response:
            return json.loads(response.read())

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
