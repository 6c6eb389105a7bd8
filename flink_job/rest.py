"""Reading a local Flink cluster's REST API (loopback only): what training's feature table
needs to show progress. The local runtime's client (local.flink.rest) adds the operations
(cancel, checkpoints, savepoints, metrics). This part stays below both: training
(model_export) may not import the local runtime (tests/test_dependencies.py)."""

from __future__ import annotations

import json
import socket
import urllib.request
from typing import Any


def free_port() -> int:
    """A TCP port free on the loopback interface now (for a mini-cluster's REST API)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class FlinkRestReader:
    def __init__(self, port: int) -> None:
        self._base = f"http://127.0.0.1:{port}"

    def _get(self, path: str) -> Any:
        with urllib.request.urlopen(self._base + path, timeout=5) as response:
            return json.loads(response.read())

    def records_read(self, source: str) -> int:
        """Records the running job's vertices reading `source` have emitted so far."""
        job = self._get("/jobs/overview")["jobs"][0]["jid"]
        vertices = self._get(f"/jobs/{job}")["vertices"]
        return sum(int(v["metrics"]["write-records"]) for v in vertices if source in v["name"])
