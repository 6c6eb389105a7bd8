"""The README's folder table matches the tree: every folder of the repository has a row,
and every Python module of a package is named in its folder's row."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("contracts", "flink_job", "udfs", "model_export", "sample_data", "local", "bench")
PACKAGES += ("rules",)


def folder_rows() -> dict[str, str]:
    rows = {}
    for line in (ROOT / "README.md").read_text().splitlines():
        match = re.match(r"^\| `([\w/]+)/` \| (.*) \|$", line)
        if match:
            rows[match.group(1)] = match.group(2)
    return rows


def tracked_folders() -> set[str]:
    """The folders git tracks; outside a checkout, the folders but build output."""
    if not (ROOT / ".git").exists():
        generated = {"build", "node_modules"}
        return {
            p.name
            for p in ROOT.iterdir()
            if p.is_dir()
            and not p.name.startswith(".")
            and p.name not in generated
            and not p.name.endswith(".egg-info")
        }
    files = subprocess.run(
        ["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout.splitlines()
    return {f.split("/")[0] for f in files if "/" in f and not f.startswith(".")}


def test_every_folder_has_a_row() -> None:
    rows = folder_rows()
    named = {name.split("/")[0] for name in rows}
    missing = tracked_folders() - named
    assert not missing, f"README's folder table lacks {sorted(missing)}"


def test_every_module_of_a_package_is_named_in_its_row() -> None:
    rows = folder_rows()
    for package in PACKAGES:
        row = rows[package]
        modules = [
            p.stem for p in (ROOT / package).glob("*.py") if p.stem not in ("__init__", "__main__")
        ]
        missing = [m for m in modules if f"`{m}.py`" not in row and f"`{m}`" not in row]
        assert not missing, f"README's row for {package}/ does not name {missing}"
