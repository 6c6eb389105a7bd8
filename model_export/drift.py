"""Feature drift: the live distribution of each feature against the one the model was trained
on, as a population stability index (PSI).

Training keeps, in the model's manifest (`feature_histograms`), each feature's bin edges (the
training deciles and maximum, repeated edges merged) and the share of training rows in each bin and
missing. The live side is the decision log: the features the model saw, counted into the
same bins by one SQL query (DuckDB here, Athena on AWS: `histogram_sql` writes either), each
decision weighted by its `sample_weight` so a sampled log counts like the whole traffic.

    PSI = sum over bins (live - training) · ln(live / training), shares floored at 1e-4

Below 0.1 the feature is stable, 0.1 to 0.2 it moved, above 0.2 (`ALARM_PSI`) it drifted: the
model scores inputs it was not trained on. A value falls in bin i when i edges are below it
(model_export.histograms says why); null and NaN count as missing.

    python -m model_export.drift --decisions s3://bucket --from 2026-10-01 --to 2026-10-07 \\
        --manifest build/model/manifest.json

prints every feature's PSI, highest first, and exits 3 when one is above the alarm level.
A manifest written before training kept histograms has none: drift says so and exits 2.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Literal

import duckdb
import numpy as np

from model_export.archive import ArchiveError, ArchiveRange
from model_export.decision_log import VIEW, read_log
from model_export.histograms import DriftError, Histogram, manifest_histograms, psi

ALARM_PSI = 0.2
STABLE_PSI = 0.1
MISSING_BIN = -1

Dialect = Literal["duckdb", "athena"]
# how each engine reads a map's value and tests a double for NaN
_MAP_VALUE = {"duckdb": "{column}['{key}']", "athena": "element_at({column}, '{key}')"}
_IS_NAN = {"duckdb": "isnan({value})", "athena": "is_nan({value})"}


def _double(value: float) -> str:
    """A DOUBLE literal both engines read exactly (the shortest repr, in exponent form)."""
    text = repr(float(value))
    return text if "e" in text else f"{text}e0"


def bin_sql(value: str, edges: Sequence[float], dialect: Dialect) -> str:
    """The bin `value` falls in: MISSING_BIN for null or NaN, else how many edges are below it."""
    nan = _IS_NAN[dialect].format(value=value)
    cases = [f"WHEN {value} IS NULL OR {nan} THEN {MISSING_BIN}"]
    cases += [f"WHEN {value} <= {_double(edge)} THEN {i}" for i, edge in enumerate(edges)]
    return f"CASE {' '.join(cases)} ELSE {len(edges)} END"


def histogram_sql(
    histograms: Mapping[str, Histogram], table: str = VIEW, dialect: Dialect = "duckdb"
) -> str:
    """One query, one scan of `table`: per feature and bin, the decisions' summed
    `sample_weight`, as rows (feature, bin, weight). Each feature's bin is a column `b<i>`;
    GROUPING SETS groups by each column alone, and the set a row belongs to is its one
    non-null bin (a bin is never null: missing is MISSING_BIN)."""
    names = list(histograms)
    columns = []
    for index, name in enumerate(names):
        value = _MAP_VALUE[dialect].format(column="features", key=name.replace("'", "''"))
        columns.append(f"{bin_sql(value, histograms[name].edges, dialect)} AS b{index}")
    sets = ", ".join(f"(b{i})" for i in range(len(names)))
    feature = " ".join(f"WHEN b{i} IS NOT NULL THEN '{n}'" for i, n in enumerate(names))
    bin_of = ", ".join(f"b{i}" for i in range(len(names)))
    binned = ",\n    ".join(columns)
    return (
        f"SELECT CASE {feature} END AS feature, coalesce({bin_of}) AS bin, "
        f"sum(sample_weight) AS weight\nFROM (SELECT sample_weight,\n    {binned}\n  "
        f"FROM {table}) AS binned\nGROUP BY GROUPING SETS ({sets})"
    )


def live_histograms(
    rows: Sequence[tuple[Any, Any, Any]], histograms: Mapping[str, Histogram]
) -> dict[str, Histogram]:
    """The query's (feature, bin, weight) rows as histograms in the training bins."""
    weights: dict[str, np.ndarray[Any, Any]] = {
        name: np.zeros(hist.bins() + 1) for name, hist in histograms.items()
    }
    for feature, bin_index, weight in rows:
        weights[str(feature)][int(bin_index)] += float(weight or 0.0)  # -1: the last cell
    live = {}
    for name, hist in histograms.items():
        cells = weights[name]
        total = float(cells.sum())
        if total <= 0.0:
            raise DriftError("the decision log holds no decisions in this range")
        shares = tuple(float(c) / total for c in cells[:-1])
        live[name] = Histogram(hist.edges, shares, float(cells[-1]) / total)
    return live


@dataclass(frozen=True)
class FeatureDrift:
    feature: str
    psi: float

    @property
    def level(self) -> str:
        if self.psi > ALARM_PSI:
            return "drifted"
        return "moved" if self.psi > STABLE_PSI else "stable"


def drift(
    connection: duckdb.DuckDBPyConnection, histograms: Mapping[str, Histogram]
) -> list[FeatureDrift]:
    """Every feature's PSI over the view `decisions`, highest first."""
    rows = connection.execute(histogram_sql(histograms)).fetchall()
    live = live_histograms(rows, histograms)
    found = [FeatureDrift(name, psi(histograms[name], live[name])) for name in histograms]
    return sorted(found, key=lambda d: (-d.psi, d.feature))


def read_drift(
    decisions: ArchiveRange, manifest: Mapping[str, Any], s3: Any | None = None
) -> list[FeatureDrift]:
    """The drift of a range of the decision log in S3 against a model's manifest."""
    histograms = manifest_histograms(manifest)
    return read_log(decisions, lambda connection: drift(connection, histograms), s3)


def render(found: Sequence[FeatureDrift]) -> str:
    width = max((len(d.feature) for d in found), default=7)
    lines = [f"{'feature':<{width}}  {'PSI':>7}  level"]
    lines += [f"{d.feature:<{width}}  {d.psi:7.3f}  {d.level}" for d in found]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--decisions", metavar="S3_URI", required=True, help="the decision log's bucket"
    )
    parser.add_argument("--from", dest="first", type=date.fromisoformat, required=True)
    parser.add_argument("--to", dest="last", type=date.fromisoformat, required=True)
    parser.add_argument("--manifest", type=Path, required=True, help="the model's manifest.json")
    args = parser.parse_args(argv)
    try:
        decisions = ArchiveRange(args.decisions, args.first, args.last)
    except ArchiveError as error:
        parser.error(str(error))
    try:
        manifest = json.loads(args.manifest.read_text())
        found = read_drift(decisions, manifest)
    except (OSError, json.JSONDecodeError) as error:
        parser.exit(2, f"{parser.prog}: cannot read {args.manifest}: {error}\n")
    except DriftError as error:
        parser.exit(2, f"{parser.prog}: {error}\n")
    except ArchiveError as error:
        parser.exit(1, f"{parser.prog}: {error}\n")
    print(f"{decisions.describe()}:")
    print(render(found))
    drifted = [d.feature for d in found if d.level == "drifted"]
    if drifted:
        print(f"drifted (PSI > {ALARM_PSI}): {', '.join(drifted)}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
