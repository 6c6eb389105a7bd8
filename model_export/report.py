"""Evaluate every candidate model (model_export.evaluate) on a labelled transactions file
and write the report: one self-contained HTML file with inline SVG charts (no plotting
library): precision-recall curves, score distributions per class, recall per fraud
scenario, feature importances.

    python -m model_export.report sample_data/sample_transactions.jsonl \\
        --labels sample_data/sample_labels.jsonl --report build/evaluation.html
"""

from __future__ import annotations

import argparse
import html
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from sklearn.metrics import precision_recall_curve

from model_export.candidates import CANDIDATES
from model_export.dataset import TrainingDataError, labelled_features, read_table
from model_export.evaluate import (
    Protocol,
    Result,
    Split,
    ThresholdPolicy,
    check_trainable,
    feature_importances,
    fit_candidate,
    known_compromised,
    split,
    table,
)

COLOURS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e")
WIDTH, HEIGHT, PAD = 460, 300, 44


def _svg(body: str, title: str, x_label: str, y_label: str) -> str:
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'font-family="sans-serif" font-size="11">'
        f'<rect x="{PAD}" y="10" width="{WIDTH - PAD - 10}" height="{HEIGHT - PAD - 10}" '
        'fill="none" stroke="#999"/>'
        f"{body}"
        f'<text x="{WIDTH / 2}" y="{HEIGHT - 8}" text-anchor="middle">{html.escape(x_label)}</text>'
        f'<text x="12" y="{HEIGHT / 2}" transform="rotate(-90 12 {HEIGHT / 2})" '
        f'text-anchor="middle">{html.escape(y_label)}</text>'
        f"</svg><figcaption>{html.escape(title)}</figcaption></figure>"
    )


def _x(value: float) -> float:
    return PAD + value * (WIDTH - PAD - 10)


def _y(value: float) -> float:
    return 10 + (1.0 - value) * (HEIGHT - PAD - 10)


def _ticks() -> str:
    out = []
    for t in (0.0, 0.25, 0.5, 0.75, 1.0):
        out.append(f'<text x="{_x(t)}" y="{_y(0) + 14}" text-anchor="middle">{t:g}</text>')
        out.append(f'<text x="{PAD - 4}" y="{_y(t) + 4}" text-anchor="end">{t:g}</text>')
    return "".join(out)


def _legend(names: Sequence[str]) -> str:
    return "".join(
        f'<text x="{WIDTH - 16}" y="{26 + 14 * i}" text-anchor="end" '
        f'fill="{COLOURS[i % len(COLOURS)]}">{html.escape(n)}</text>'
        for i, n in enumerate(names)
    )


def pr_curves(results: Sequence[Result], labels: NDArray[Any]) -> str:
    curves = [(r.name, labels, r.test_scores, None) for r in results]
    return pr_plot(curves, "Precision-recall on the test days")


#: name, labels (0/1), scores, and the weight of each row (None: 1 each)
Curve = tuple[str, NDArray[Any], NDArray[Any], NDArray[Any] | None]


def pr_plot(curves: Sequence[Curve], title: str) -> str:
    """Precision-recall curves (scikit-learn's, weighted where weights are given)."""
    lines = []
    for i, (_, labels, scores, weights) in enumerate(curves):
        precision, recall, _ = precision_recall_curve(labels, scores, sample_weight=weights)
        step = max(1, len(recall) // 400)
        points = " ".join(
            f"{_x(float(x)):.1f},{_y(float(y)):.1f}"
            for x, y in zip(recall[::step], precision[::step], strict=True)
        )
        colour = COLOURS[i % len(COLOURS)]
        lines.append(
            f'<polyline fill="none" stroke="{colour}" stroke-width="1.5" points="{points}"/>'
        )
    body = "".join(lines) + _ticks() + _legend([name for name, *_ in curves])
    return _svg(body, title, "recall", "precision")


def score_histogram(result: Result, labels: NDArray[Any], bins: int = 25) -> str:
    return class_histogram(result.name, result.test_scores, labels, result.threshold, bins=bins)


def class_histogram(
    name: str,
    scores: NDArray[Any],
    labels: NDArray[Any],
    threshold: float,
    weights: NDArray[Any] | None = None,
    bins: int = 25,
) -> str:
    """Score distribution per class (weighted where weights are given), the threshold dashed."""
    edges = np.linspace(0.0, 1.0, bins + 1)
    parts = []
    for cls, colour in ((0, COLOURS[0]), (1, COLOURS[1])):
        rows = labels == cls
        counts, _ = np.histogram(
            scores[rows], bins=edges, weights=None if weights is None else weights[rows]
        )
        share = counts / max(counts.sum(), 1)
        top = max(float(share.max()), 1e-9)
        width = (_x(1) - _x(0)) / bins
        for b, value in enumerate(share):
            height = value / top * (_y(0) - _y(1)) * 0.95
            x = _x(edges[b]) + (width / 2 if cls else 0)
            parts.append(
                f'<rect x="{x:.1f}" y="{_y(0) - height:.1f}" width="{width / 2:.1f}" '
                f'height="{height:.1f}" fill="{colour}" opacity="0.8"/>'
            )
    line = _x(threshold)
    parts.append(
        f'<line x1="{line:.1f}" x2="{line:.1f}" y1="{_y(1)}" y2="{_y(0)}" '
        'stroke="#000" stroke-dasharray="4 3"/>'
    )
    body = "".join(parts) + _ticks() + _legend(["legit", "fraud"])
    title = (
        f"{name}: score distribution per class (each scaled to its tallest bin); "
        f"dashed: threshold {threshold:.3f}"
    )
    return _svg(body, title, "score", "share of class (scaled)")


def bars(values: dict[str, float], title: str, x_label: str) -> str:
    """Horizontal bars, values in [0, max]."""
    if not values:
        return f"<p>{html.escape(title)}: no data.</p>"
    names = list(values)
    top = max(max(values.values()), 1e-9)
    row = 20
    height = 20 + row * len(names) + 30
    left = 200
    parts = []
    for i, name in enumerate(names):
        value = max(values[name], 0.0)
        width = value / top * (WIDTH - left - 60)
        y = 14 + i * row
        parts.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end">{html.escape(name)}</text>'
            f'<rect x="{left}" y="{y + 3}" width="{width:.1f}" height="{row - 6}" '
            f'fill="{COLOURS[0]}"/>'
            f'<text x="{left + width + 4:.1f}" y="{y + 13}">{values[name]:.3f}</text>'
        )
    return (
        f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}" '
        f'font-family="sans-serif" font-size="11">{"".join(parts)}'
        f'<text x="{left}" y="{height - 6}">{html.escape(x_label)}</text></svg>'
        f"<figcaption>{html.escape(title)}</figcaption></figure>"
    )


def write_report(
    path: Path,
    results: Sequence[Result],
    data: Split,
    protocol: Protocol,
    policy: ThresholdPolicy,
    source: str,
) -> None:
    labels = data.test["label"].to_numpy()
    best = max(results, key=lambda r: r.test.get("average_precision", 0.0))
    sections = [
        f"<h1>Fraud model evaluation: {html.escape(source)}</h1>",
        f"<p>{html.escape(protocol.describe())}. Test: {len(data.test)} transactions, "
        f"{int(labels.sum())} frauds; {data.excluded_test_rows} rows of cards already known "
        f"to be compromised excluded. Threshold policy: {html.escape(policy.describe())}.</p>",
        f"<pre>{html.escape(table(list(results)))}</pre>",
        pr_curves(results, labels),
    ]
    for r in results:
        sections.append(f"<h2>{html.escape(r.name)}</h2>")
        sections.append(score_histogram(r, labels))
        sections.append(
            bars(
                r.scenario_recall, f"{r.name}: recall per fraud scenario at the threshold", "recall"
            )
        )
        ordered = dict(sorted(r.importances.items(), key=lambda kv: -kv[1]))
        sections.append(
            bars(
                ordered,
                f"{r.name}: permutation importance (drop in test average precision)",
                "importance",
            )
        )
    sections.append(f"<p>Highest test average precision: {html.escape(best.name)}.</p>")
    write_page(path, "Fraud model evaluation", sections)


def write_page(path: Path, title: str, sections: Sequence[str]) -> None:
    """One self-contained HTML file of `sections` (markup, inline SVG)."""
    page = (
        f"<!doctype html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif;max-width:1000px;margin:auto}"
        "figure{display:inline-block;margin:8px}</style></head><body>"
        + "".join(sections)
        + "</body></html>"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page)


def read_label_file(path: Path | None) -> pd.DataFrame | None:
    """A Label v1 file as it is (its `label` is fraud/legit text)."""
    return None if path is None else read_table(path, typed=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("transactions", type=Path, help="labelled transactions: jsonl/csv/parquet")
    parser.add_argument("--labels", type=Path, help="Label v1 file (reported_at of frauds)")
    parser.add_argument("--start", help="first training day, YYYY-MM-DD (default: first day)")
    parser.add_argument("--train-days", type=int)
    parser.add_argument("--validation-days", type=int)
    parser.add_argument("--gap-days", type=int)
    parser.add_argument("--test-days", type=int)
    parser.add_argument("--target-precision", type=float, default=0.8)
    parser.add_argument("--alerts-per-day", type=float, help="threshold policy: daily budget")
    parser.add_argument("--models", default=",".join(CANDIDATES), help="comma-separated")
    parser.add_argument("--cards-k", type=int, default=100, help="k of card precision@k")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--report", type=Path, default=Path("build/evaluation.html"))
    args = parser.parse_args(argv)

    frame = labelled_features(args.transactions)
    protocol = Protocol.for_frame(
        frame,
        start=args.start,
        train_days=args.train_days,
        validation_days=args.validation_days,
        gap_days=args.gap_days,
        test_days=args.test_days,
    )
    known = known_compromised(frame, read_label_file(args.labels), protocol.gap_days)
    data = split(frame, protocol, known)
    try:
        check_trainable(data)
    except TrainingDataError as error:
        raise SystemExit(str(error)) from None
    policy = ThresholdPolicy(args.target_precision, args.alerts_per_day)
    results = []
    for name in args.models.split(","):
        result = fit_candidate(name, data, protocol, policy, args.seed, args.cards_k)
        result.importances = feature_importances(result, data.test, args.seed)
        results.append(result)
    print(f"{args.transactions}: {len(frame)} transactions, {protocol.describe()}")
    print(
        f"test: {len(data.test)} rows, {int(data.test['label'].sum())} frauds, "
        f"{data.excluded_test_rows} rows of already-known compromised cards excluded; "
        f"threshold policy: {policy.describe()}"
    )
    print(table(results))
    write_report(args.report, results, data, protocol, policy, args.transactions.name)
    print(f"report: {args.report}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
